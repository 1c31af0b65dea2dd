"""The seed's promises for MongoDB, asserted on the mongodb-sharded chart rendered per environment.

Production: a 3-member config-server replica set, 2 shards of 3 members (6 shard members, the
seed's node_count) spread hard over zones, >= 2 autoscaled mongos routers, keyfile auth,
requireTLS (staging too), mongodb_exporter, Percona Backup for MongoDB (agents, daily snapshots
and PITR kept 30 days, quarterly drills, workload identity); development is the smallest cluster.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.catalog.conftest import ROOT, assert_restricted, find, pod_specs, rendered, rendered_text
from tests.catalog.conftest import render_with as render_chart
from tests.conftest import require_tool

from chartforge.compile.instantiate import render_template
from chartforge.errors import ToolError

pytestmark = pytest.mark.helm

CHART = "mongodb-sharded"
# environment: (config servers, shards, members per shard, mongos minimum)
TOPOLOGY = {"development": (1, 1, 1, 1), "staging": (3, 2, 3, 2), "production": (3, 2, 3, 2)}


def render_with(env: str, *sets: str) -> list[dict[str, Any]]:
    return render_chart(CHART, env, *sets)


def statefulsets(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"].removeprefix(f"{CHART}-"): o for o in find(objects, "StatefulSet")}


def config(env: str) -> dict[str, str]:
    (cm,) = find(rendered(CHART, env), "ConfigMap", "-config")
    return dict(cm["data"])


def container(spec: dict[str, Any], name: str) -> dict[str, Any]:
    (found,) = [c for c in spec.get("initContainers", []) + spec["containers"] if c["name"] == name]
    return dict(found)


def test_topology_per_environment(env: str) -> None:
    configsvr, shards, members, routers = TOPOLOGY[env]
    objects = rendered(CHART, env)
    sets = statefulsets(objects)
    assert sets.pop("configsvr")["spec"]["replicas"] == configsvr
    assert sorted(sets) == [f"shard{i}" for i in range(shards)]
    assert all(s["spec"]["replicas"] == members for s in sets.values())
    topology = json.loads(config(env)["topology.json"])
    assert [s["name"] for s in topology["shards"]] == [f"{CHART}-shard{i}" for i in range(shards)]
    assert len(topology["configsvr"]["members"]) == configsvr and topology["configsvr"]["configsvr"] is True
    (mongos,) = find(objects, "Deployment", "mongos")
    hpas = find(objects, "HorizontalPodAutoscaler")
    if env == "development":
        assert mongos["spec"]["replicas"] == routers and hpas == []
    else:
        (hpa,) = hpas
        assert hpa["spec"]["scaleTargetRef"]["name"] == mongos["metadata"]["name"]
        assert hpa["spec"]["minReplicas"] >= 2 and "replicas" not in mongos["spec"]


def test_production_is_two_shards_of_three_members_behind_a_three_member_config_replica_set() -> None:
    sets = statefulsets(rendered(CHART, "production"))
    assert {name: s["spec"]["replicas"] for name, s in sets.items()} == {
        "configsvr": 3,
        "shard0": 3,
        "shard1": 3,
    }


def test_shards_are_rendered_by_a_helm_range() -> None:
    source = (ROOT / "charts" / CHART / "templates" / "shards.yaml").read_text()
    assert "range $i := until" in source
    sets = statefulsets(render_with("staging", "shards.count=4"))
    assert sorted(sets) == ["configsvr", "shard0", "shard1", "shard2", "shard3"]


def test_members_run_their_role_on_its_port(env: str) -> None:
    for name, sts in statefulsets(rendered(CHART, env)).items():
        mongod = container(sts["spec"]["template"]["spec"], "mongod")
        command = mongod["command"]
        role, port = ("--configsvr", 27019) if name == "configsvr" else ("--shardsvr", 27018)
        assert role in command and f"--port={port}" in command
        assert f"--replSet={CHART}-{name}" in command
        selector = sts["spec"]["selector"]["matchLabels"]
        assert selector["app.kubernetes.io/component"] == name  # one selector per replica set


def test_keyfile_auth_and_generated_secrets(env: str) -> None:
    mongod_conf = yaml.safe_load(config(env)["mongod.conf"])
    assert mongod_conf["security"] == {
        "keyFile": "/opt/mongo/runtime/keyfile", "clusterAuthMode": "keyFile", "authorization": "enabled",
    }  # fmt: skip
    assert mongod_conf["setParameter"]["enableLocalhostAuthBypass"] is False
    mongos_conf = yaml.safe_load(config(env)["mongos.conf"])
    assert mongos_conf["security"]["clusterAuthMode"] == "keyFile"
    assert mongos_conf["sharding"]["configDB"].startswith(f"{CHART}-configsvr/")
    # production reads it from security-baseline's ExternalSecret (global.externalSecrets.enabled); generated when off
    objects = (
        render_with(env, "global.externalSecrets.enabled=false")
        if env == "production"
        else rendered(CHART, env)
    )
    (secret,) = find(objects, "Secret", "-auth")
    assert set(secret["data"]) == {
        "mongodb-root-password", "mongodb-metrics-password", "mongodb-backup-password", "mongodb-keyfile",
    }  # fmt: skip
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    source = (ROOT / "charts" / CHART / "templates" / "secret.yaml").read_text()
    assert "lookup" in source and "randAlphaNum 756" in source


def test_existing_secret_replaces_the_generated_one() -> None:
    objects = render_with("staging", "auth.existingSecret=mongo-creds")  # staging generates its own otherwise
    assert find(objects, "Secret") == []
    for where, spec in pod_specs(objects):
        for volume in spec["volumes"]:
            secret = volume.get("secret", {}).get("secretName")
            assert (
                secret
                in (
                    None,
                    "mongo-creds",
                    f"{CHART}-tls",
                    f"{CHART}-backup-s3",  # backup.credentials.existingSecret empty: <release>-mongodb-sharded-backup-s3
                )
            ), (
                where,
                volume,
            )


def test_tls_required_in_staging_and_production(env: str) -> None:
    """Staging runs TLS wherever production does, so certificate renewal is exercised there first."""
    objects = rendered(CHART, env)
    mongod_conf = yaml.safe_load(config(env)["mongod.conf"])
    certificates = find(objects, "Certificate")
    if env in ("staging", "production"):
        assert mongod_conf["net"]["tls"]["mode"] == "requireTLS"
        assert yaml.safe_load(config(env)["mongos.conf"])["net"]["tls"]["mode"] == "requireTLS"
        (cert,) = certificates
        assert cert["spec"]["issuerRef"]["name"] == "spotify-ai-agent-ca"
        assert cert["spec"]["privateKey"]["rotationPolicy"] == "Always"
        names = cert["spec"]["dnsNames"]
        for component in ("configsvr", "shard0", "shard1"):
            assert f"*.{CHART}-{component}-headless.{CHART}.svc.cluster.local" in names
        assert "localhost" in names
        # every server reloads a renewed certificate (entrypoint.sh watcher, tested in the scripts tests)
        for _, spec in pod_specs(objects):
            for c in spec["containers"]:
                if c["name"] in ("mongod", "mongos"):
                    assert {"name": "RELOAD_INTERVAL_SECONDS", "value": "30"} in c["env"]
    else:
        assert "tls" not in mongod_conf["net"] and certificates == []
    assert "rotateCertificates" in config(env)["reload.js"]


def test_bootstrap_job_is_an_idempotent_hook(env: str) -> None:
    (job,) = find(rendered(CHART, env), "Job", "bootstrap")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-install,post-upgrade"
    assert job["spec"]["ttlSecondsAfterFinished"] > 0
    (bootstrap,) = job["spec"]["template"]["spec"]["containers"]
    assert bootstrap["command"][-1] == "/opt/mongo/config/bootstrap.js"
    assert {"name": "BOOTSTRAP_SCOPE", "value": "all"} in bootstrap["env"]
    # what it does, and that a second run changes nothing: test_mongodb_sharded_scripts.py
    assert "replSetInitiate" in config(env)["bootstrap.js"]


def test_backups_with_percona_backup_for_mongodb(env: str) -> None:
    objects = rendered(CHART, env)
    cronjobs = {c["metadata"]["name"].removeprefix(f"{CHART}-"): c for c in find(objects, "CronJob")}
    sets = statefulsets(objects)
    if env == "development":
        assert cronjobs == {}
        assert all("pbm-agent" not in [c["name"] for c in s["spec"]["template"]["spec"]["containers"]]
                   for s in sets.values())  # fmt: skip
        return
    cron = cronjobs["backup"]
    spec = cron["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["successfulJobsHistoryLimit"] >= 1 and spec["failedJobsHistoryLimit"] >= 1
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    (backup,) = pod["containers"]
    assert backup["image"].startswith("docker.io/percona/percona-backup-mongodb:2.")
    assert backup["command"] == ["bash", "/opt/mongo/config/pbm-backup.sh"]
    env_of = {e["name"]: e.get("value") for e in backup["env"]}
    assert env_of["RETENTION_DAYS"] == ("30" if env == "production" else "7")
    assert env_of["PUSHGATEWAY_URL"] == f"http://{CHART}-observability-pushgateway:9091"  # through tpl
    assert not [v for v in pod["volumes"] if "emptyDir" in v and v["name"] != "tmp"]  # no spool any more
    # a pbm-agent beside every mongod (config servers and shards), never beside mongos
    for name, sts in sets.items():
        agent = container(sts["spec"]["template"]["spec"], "pbm-agent")
        port = "27019" if name == "configsvr" else "27018"
        assert {"name": "MONGO_PORT", "value": port} in agent["env"]
    (mongos,) = find(objects, "Deployment", "mongos")
    assert "pbm-agent" not in [c["name"] for c in mongos["spec"]["template"]["spec"]["containers"]]
    pbm = yaml.safe_load(config(env)["pbm-config.yaml"])
    assert pbm["pitr"] == {"enabled": True, "oplogSpanMin": 10, "compression": "s2"}
    assert pbm["storage"]["s3"]["bucket"] == f"spotify-ai-agent-{env}-backups"
    assert "credentials" not in pbm["storage"]["s3"]
    assert yaml.safe_load(config(env)["pbm-drill-config.yaml"])["pitr"]["enabled"] is False
    assert "mongodump" not in rendered_text(CHART, env)


OBJECT_STORE = "access.spotify-ai-agent.io/object-store"


def test_only_the_pods_that_back_up_restore_or_drill_reach_the_object_store(env: str) -> None:
    objects = render_with(env, "restore.enabled=true", "restore.fromPrefix=old") if env != "development" else (
        rendered(CHART, env))  # fmt: skip
    labelled = set()
    for obj in objects:
        spec = obj.get("spec") or {}
        if "jobTemplate" in spec:
            spec = spec["jobTemplate"]["spec"]
        if "template" in spec and spec["template"]["metadata"]["labels"].get(OBJECT_STORE) == "true":
            labelled.add(obj["metadata"]["name"].removeprefix(f"{CHART}-"))
    if env == "development":
        assert labelled == set()
    else:
        assert labelled == {"configsvr", "shard0", "shard1", "backup", "drill", "restore"}


def _s3_secrets(objects: list[dict[str, Any]]) -> set[str]:
    """Secrets mounted as object-store keys (volume "s3"); keys never go into env of the pod spec."""
    names = set()
    for _, spec in pod_specs(objects):
        for c in spec.get("initContainers", []) + spec["containers"]:
            assert not [e for e in c.get("env", []) if e["name"].startswith("AWS_")], c["name"]
        names |= {v["secret"]["secretName"] for v in spec["volumes"] if v["name"] == "s3"}
    return names


def test_object_store_credentials_workload_identity_in_production_keys_elsewhere(env: str) -> None:
    objects = rendered(CHART, env)
    accounts = {a["metadata"]["name"].removeprefix(f"{CHART}-"): a for a in find(objects, "ServiceAccount")}
    if env == "production":
        assert _s3_secrets(objects) == set()  # no static keys: IRSA through the annotated ServiceAccounts
        for name in ("configsvr", "shard", "backup"):
            assert accounts[name]["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith(
                "arn:aws:iam::"
            )
        for name in ("mongos", "bootstrap"):
            assert "annotations" not in accounts[name]["metadata"]
    elif env == "staging":
        assert _s3_secrets(objects) == {f"{CHART}-backup-s3"}
        assert all("annotations" not in a["metadata"] for a in accounts.values())
    secret_mode = render_with(
        "production", "backup.credentials.mode=secret", "backup.credentials.existingSecret=keys"
    )
    assert _s3_secrets(secret_mode) == {"keys"}


def test_backup_needs_a_bucket() -> None:
    with pytest.raises(ToolError) as err:
        render_with("production", "backup.s3.bucket=")
    assert "backup.s3.bucket" in str(err.value)


def test_restore_is_a_values_driven_install_hook() -> None:
    assert find(rendered(CHART, "production"), "Job", "restore") == []
    objects = render_with("production", "restore.enabled=true", "restore.fromPrefix=prod-old",
                          "restore.targetTime=2026-11-30T12:00:00", "restore.fromFullname=old-mongodb-sharded")  # fmt: skip
    (job,) = find(objects, "Job", "restore")
    (bootstrap,) = find(objects, "Job", "bootstrap")
    for where, spec in pod_specs([job]):
        assert_restricted(where, spec)
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-install"  # never on upgrades
    assert int(job["metadata"]["annotations"]["helm.sh/hook-weight"]) > int(
        bootstrap["metadata"]["annotations"]["helm.sh/hook-weight"]
    )
    restore = container(job["spec"]["template"]["spec"], "restore")
    env_of = {e["name"]: e.get("value") for e in restore["env"]}
    assert env_of["RESTORE_TARGET_TIME"] == "2026-11-30T12:00:00"
    assert env_of["REPLSET_REMAPPING"].startswith(f"{CHART}-configsvr=old-mongodb-sharded-configsvr,")
    (cm,) = find(objects, "ConfigMap", "-config")
    source = yaml.safe_load(cm["data"]["pbm-restore-config.yaml"])
    assert source["storage"]["s3"]["prefix"] == "prod-old" and source["pitr"]["enabled"] is False
    assert container(job["spec"]["template"]["spec"], "balancer-stop")["env"][-1] == {
        "name": "BALANCER",
        "value": "stop",
    }
    assert container(job["spec"]["template"]["spec"], "balancer-start")["env"][-1] == {
        "name": "BALANCER",
        "value": "start",
    }
    with pytest.raises(ToolError) as err:
        render_with("production", "restore.enabled=true")
    assert "restore.fromPrefix" in str(err.value)


def test_quarterly_drill_into_a_scratch_cluster(env: str) -> None:
    drills = find(rendered(CHART, env), "CronJob", "drill")
    if env == "development":
        assert drills == []
        return
    (drill,) = drills
    assert drill["spec"]["schedule"] == "0 5 1 1,4,7,10 *"  # quarterly
    job = drill["spec"]["jobTemplate"]["spec"]
    pod = job["template"]["spec"]
    assert job["backoffLimit"] == 0 and job["activeDeadlineSeconds"] > 0
    scratch, runner = container(pod, "scratch"), container(pod, "drill")
    assert scratch["image"].startswith("docker.io/library/mongo:8.0.")
    assert runner["image"].startswith("docker.io/percona/percona-backup-mongodb:")
    env_of = {e["name"]: e.get("value") for e in runner["env"]}
    assert env_of["SCRATCH_PORTS"] == "27019 27020 27021"  # config servers + 2 shards
    assert env_of["RECOVERY_OBJECTIVE_SECONDS"] == "1800"
    assert env_of["PUSHGATEWAY_URL"] == f"http://{CHART}-observability-pushgateway:9091"
    (volume,) = [v for v in pod["volumes"] if v["name"] == "scratch"]
    claim = volume["ephemeral"]["volumeClaimTemplate"]["spec"]  # deleted with the pod: the teardown
    assert claim["resources"]["requests"]["storage"] == ("500Gi" if env == "production" else "20Gi")


def test_wiredtiger_cache_follows_the_memory_limit(env: str) -> None:
    for name, sts in statefulsets(rendered(CHART, env)).items():
        mongod = container(sts["spec"]["template"]["spec"], "mongod")
        (limit,) = [e for e in mongod["env"] if e["name"] == "MEMORY_LIMIT_MB"]
        assert limit["valueFrom"]["resourceFieldRef"] == {
            "containerName": "mongod", "resource": "limits.memory", "divisor": "1Mi",
        }, name  # fmt: skip
        assert {"name": "WT_CACHE_RATIO", "value": "0.5"} in mongod["env"]
    assert "--wiredTigerCacheSizeGB" in config(env)["entrypoint.sh"]


def test_production_spreads_every_member_and_router_over_zones_hard() -> None:
    objects = rendered(CHART, "production")
    workloads = list(statefulsets(objects).values()) + find(objects, "Deployment")
    assert len(workloads) == 4
    for w in workloads:
        (spread,) = w["spec"]["template"]["spec"]["topologySpreadConstraints"]
        assert spread["whenUnsatisfiable"] == "DoNotSchedule", w["metadata"]["name"]


def test_current_supported_images_pinned_with_their_source() -> None:
    values = yaml.safe_load((ROOT / "charts" / CHART / "values.yaml").read_text())
    assert values["image"]["tag"].startswith("8.0.")  # 7.0 reaches end of life in August 2026
    readme = (ROOT / "charts" / CHART / "README.md").read_text()
    section = readme[readme.index("## Image pins") :]
    for image in (values["image"], values["metrics"]["image"], values["backup"]["agent"]["image"]):
        assert f"`{image['repository']}:{image['tag']}`" in section
    assert section.count("https://") >= 3  # the release notes each pin comes from


def test_growing_persistence_size_keeps_the_claim_template_of_the_live_statefulset(tmp_path: Path) -> None:
    """The claim size comes from the live StatefulSet when there is one (Kubernetes refuses changes to
    volumeClaimTemplates): the chart's own helper, run by helm on a live object given as a value."""
    helpers = (ROOT / "charts" / CHART / "templates" / "_helpers.tpl").read_text()
    chart = tmp_path / "probe"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: {CHART}\nversion: 0.0.1\n")
    (chart / "templates" / "_helpers.tpl").write_text(helpers)
    (chart / "templates" / "probe.yaml").write_text(
        'live: {{ include "mongodb-sharded.claimSize" (dict "live" (fromYaml .Values.live) "size" "500Gi") }}\n'
        'fresh: {{ include "mongodb-sharded.claimSize" (dict "live" dict "size" "500Gi") }}\n'
    )
    live = {"spec": {"volumeClaimTemplates": [{"metadata": {"name": "data"},
                                                "spec": {"resources": {"requests": {"storage": "200Gi"}}}}]}}  # fmt: skip
    out = subprocess.run(
        [require_tool("helm"), "template", str(chart), "--set-json", f"live={json.dumps(yaml.safe_dump(live))}"],
        capture_output=True, text=True, timeout=60, check=True,
    ).stdout  # fmt: skip
    assert yaml.safe_load(out.split("---", 1)[1].split("\n", 2)[2]) == {"live": "200Gi", "fresh": "500Gi"}
    source = (ROOT / "charts" / CHART / "templates" / "shards.yaml").read_text()
    assert 'lookup "apps/v1" "StatefulSet"' in source and "claimSize" in source
    readme = (ROOT / "charts" / CHART / "README.md").read_text()
    assert "allowVolumeExpansion" in readme and f"RELEASE-{CHART}-volumes" in readme  # the resize hook
    assert "kubectl -n NS patch pvc" in readme  # and by hand, with volumes.resize off


def test_exporters_and_metrics_service(env: str) -> None:
    objects = rendered(CHART, env)
    services = find(objects, "Service", "-metrics")
    workloads = list(statefulsets(objects).values()) + find(objects, "Deployment")
    names = [{c["name"] for c in w["spec"]["template"]["spec"]["containers"]} for w in workloads]
    if env == "development":
        assert services == [] and all("metrics" not in n for n in names)
        return
    (svc,) = services
    assert svc["metadata"]["labels"]["app.kubernetes.io/component"] == "metrics"
    assert [p["name"] for p in svc["spec"]["ports"]] == ["metrics"]
    assert "app.kubernetes.io/component" not in svc["spec"]["selector"]  # every member and router
    assert all("metrics" in n for n in names)


def test_restricted_security_context_everywhere(env: str) -> None:
    for where, spec in pod_specs(rendered(CHART, env)):
        assert_restricted(where, spec)
        assert spec["automountServiceAccountToken"] is False, where


def test_probes_pdbs_spread_and_checksums(env: str) -> None:
    objects = rendered(CHART, env)
    pdbs = {p["metadata"]["name"]: p for p in find(objects, "PodDisruptionBudget")}
    workloads = list(statefulsets(objects).values()) + find(objects, "Deployment")
    hpa_min = {
        h["spec"]["scaleTargetRef"]["name"]: h["spec"]["minReplicas"]
        for h in find(objects, "HorizontalPodAutoscaler")
    }
    for w in workloads:
        template = w["spec"]["template"]
        for c in template["spec"]["containers"]:
            for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
                assert probe in c, (w["metadata"]["name"], c["name"], probe)
        assert template["metadata"]["annotations"]["checksum/configmap"]
        (spread,) = template["spec"]["topologySpreadConstraints"]
        assert spread["topologyKey"] == "topology.kubernetes.io/zone"
        assert spread["labelSelector"]["matchLabels"] == w["spec"]["selector"]["matchLabels"]
        replicas = hpa_min.get(w["metadata"]["name"], w["spec"].get("replicas", 1))
        pdb = pdbs.get(w["metadata"]["name"])
        if replicas > 1:
            assert pdb is not None, w["metadata"]["name"]
            assert pdb["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
            assert pdb["spec"]["selector"]["matchLabels"] == w["spec"]["selector"]["matchLabels"]
            if w["kind"] == "StatefulSet":  # replica sets keep their majority
                assert pdb["spec"]["maxUnavailable"] == 1
        else:
            assert pdb is None
    if env == "production":
        for w in statefulsets(objects).values():
            assert (
                "requiredDuringSchedulingIgnoredDuringExecution"
                in w["spec"]["template"]["spec"]["affinity"]["podAntiAffinity"]
            )


@pytest.mark.parametrize(("nodes", "members"), [(5, 3), (4, 3)])
def test_node_count_must_divide_into_shards(nodes: int, members: int) -> None:
    with pytest.raises(ToolError) as err:
        render_with("staging", f"shards.nodeCount={nodes}", f"shards.replicaCount={members}")
    assert "shards.nodeCount" in str(err.value)


def shard_sets(objects: list[dict[str, Any]]) -> list[str]:
    return sorted(n for n in statefulsets(objects) if re.search(r"(^|-)shard[0-9]+$", n))


def test_seed_node_count_is_the_number_of_shard_members() -> None:
    default = [d for d in yaml.safe_load_all(render_template(CHART, {}, root=ROOT)) if d]
    assert len(shard_sets(default)) == 2  # node_count defaults to 6: 6 members / 3 per shard
    nine = [d for d in yaml.safe_load_all(render_template(CHART, {"node_count": 9}, root=ROOT)) if d]
    assert len(shard_sets(nine)) == 3
    kept = [
        d for d in yaml.safe_load_all(render_template(CHART, {"backup_retention_days": 14}, root=ROOT)) if d
    ]
    (cron,) = find(kept, "CronJob", "backup")
    backup = container(cron["spec"]["jobTemplate"]["spec"]["template"]["spec"], "backup")
    assert {"name": "RETENTION_DAYS", "value": "14"} in backup["env"]
