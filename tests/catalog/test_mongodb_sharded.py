"""The seed's promises for MongoDB, asserted on the mongodb-sharded chart rendered per environment.

Production: a 3-member config-server replica set, 2 shards of 3 members (6 shard members, the
seed's node_count), >= 2 autoscaled mongos routers, keyfile auth, requireTLS, mongodb_exporter,
daily mongodump --oplog backups to S3 kept 30 days; development is the smallest sharded cluster.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml
from tests.catalog.conftest import ROOT, assert_restricted, find, pod_specs, rendered
from tests.catalog.conftest import render_with as render_chart

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
    (secret,) = find(rendered(CHART, env), "Secret", "-auth")
    assert set(secret["data"]) == {
        "mongodb-root-password", "mongodb-metrics-password", "mongodb-backup-password", "mongodb-keyfile",
    }  # fmt: skip
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    source = (ROOT / "charts" / CHART / "templates" / "secret.yaml").read_text()
    assert "lookup" in source and "randAlphaNum 756" in source


def test_existing_secret_replaces_the_generated_one() -> None:
    objects = render_with("production", "auth.existingSecret=mongo-creds")
    assert find(objects, "Secret") == []
    for where, spec in pod_specs(objects):
        for volume in spec["volumes"]:
            secret = volume.get("secret", {}).get("secretName")
            assert secret in (None, "mongo-creds", f"{CHART}-tls", "mongodb-sharded-backup-s3"), (
                where,
                volume,
            )


def test_tls_required_in_production_only(env: str) -> None:
    objects = rendered(CHART, env)
    mongod_conf = yaml.safe_load(config(env)["mongod.conf"])
    certificates = find(objects, "Certificate")
    if env == "production":
        assert mongod_conf["net"]["tls"]["mode"] == "requireTLS"
        assert yaml.safe_load(config(env)["mongos.conf"])["net"]["tls"]["mode"] == "requireTLS"
        (cert,) = certificates
        assert cert["spec"]["issuerRef"]["name"] == "spotify-ai-agent-ca"
        names = cert["spec"]["dnsNames"]
        for component in ("configsvr", "shard0", "shard1"):
            assert f"*.{CHART}-{component}-headless.{CHART}.svc.cluster.local" in names
        assert "localhost" in names
    else:
        assert "tls" not in mongod_conf["net"] and certificates == []


def test_bootstrap_job_is_an_idempotent_hook(env: str) -> None:
    (job,) = find(rendered(CHART, env), "Job", "bootstrap")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-install,post-upgrade"
    assert job["spec"]["ttlSecondsAfterFinished"] > 0
    (bootstrap,) = job["spec"]["template"]["spec"]["containers"]
    assert bootstrap["command"][-1] == "/opt/mongo/config/bootstrap.js"
    assert {"name": "BOOTSTRAP_SCOPE", "value": "all"} in bootstrap["env"]
    # what it does, and that a second run changes nothing: test_mongodb_sharded_scripts.py
    assert "replSetInitiate" in config(env)["bootstrap.js"]


def test_backups_with_thirty_day_retention(env: str) -> None:
    cronjobs = find(rendered(CHART, env), "CronJob")
    if env == "development":
        assert cronjobs == []
        return
    (cron,) = cronjobs
    spec = cron["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["successfulJobsHistoryLimit"] >= 1 and spec["failedJobsHistoryLimit"] >= 1
    assert spec["jobTemplate"]["spec"]["ttlSecondsAfterFinished"] > 0
    pod = spec["jobTemplate"]["spec"]["template"]["spec"]
    dump = container(pod, "dump")
    upload = container(pod, "upload")
    env_of = {e["name"]: e.get("value") for e in upload["env"]}
    assert env_of["RETENTION_DAYS"] == ("30" if env == "production" else "7")
    assert "--oplog" in config(env)["backup-dump.sh"]
    assert dump["image"].startswith("docker.io/library/mongo:")
    assert upload["image"].startswith("docker.io/amazon/aws-cli:")
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["s3"]["secret"]["secretName"] == "mongodb-sharded-backup-s3"


def test_backup_needs_an_s3_secret() -> None:
    with pytest.raises(ToolError) as err:
        render_with("production", "backup.s3.existingSecret=")
    assert "backup.s3.existingSecret" in str(err.value)


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
    (cron,) = find(kept, "CronJob")
    upload = container(cron["spec"]["jobTemplate"]["spec"]["template"]["spec"], "upload")
    assert {"name": "RETENTION_DAYS", "value": "14"} in upload["env"]
