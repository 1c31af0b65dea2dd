"""The seed's promises for Redis, asserted on the redis-cluster chart rendered per environment.

Production: 3 primaries x 1 replica = 6 nodes (the seed's node_count), AOF persistence, password
auth, TLS everywhere, redis_exporter, automatic cluster creation, multi-zone spread; development
is the smallest valid cluster (3 primaries, no replicas).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from tests.catalog.conftest import ROOT, assert_restricted, find, rendered
from tests.catalog.conftest import render_with as render_chart

from chartforge.compile.instantiate import render_template
from chartforge.errors import ToolError

pytestmark = pytest.mark.helm

CHART = "redis-cluster"
TOPOLOGY = {"development": (3, 0), "staging": (6, 1), "production": (6, 1)}


def render_with(env: str, *sets: str) -> list[dict[str, Any]]:
    """The chart in ``env`` with extra ``--set`` values."""
    return render_chart(CHART, env, *sets)


def statefulset(env: str) -> dict[str, Any]:
    (sts,) = find(rendered(CHART, env), "StatefulSet")
    return sts


def config(env: str) -> dict[str, str]:
    (cm,) = find(rendered(CHART, env), "ConfigMap", "-config")
    return dict(cm["data"])


def conf_lines(env: str) -> list[str]:
    return [
        ln.strip() for ln in config(env)["redis.conf"].splitlines() if ln.strip() and not ln.startswith("#")
    ]


def pod_specs(env: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for obj in rendered(CHART, env):
        spec = obj.get("spec") or {}
        if "template" in spec:
            yield f"{obj['kind']}/{obj['metadata']['name']}", spec["template"]["spec"]


def bootstrap_env(env: str) -> dict[str, str]:
    (job,) = find(rendered(CHART, env), "Job", "bootstrap")
    (container,) = job["spec"]["template"]["spec"]["containers"]
    return {e["name"]: e.get("value", "") for e in container["env"]}


def test_node_count_per_environment(env: str) -> None:
    nodes, replicas = TOPOLOGY[env]
    sts = statefulset(env)
    assert sts["spec"]["replicas"] == nodes
    job = bootstrap_env(env)
    assert (job["NODES"], job["REPLICAS"]) == (str(nodes), str(replicas))
    primaries = nodes // (replicas + 1)
    assert primaries >= 3
    assert (
        sts["metadata"]["annotations"]["spotify-ai-agent/topology"]
        == f"{primaries} primaries x {replicas} replicas"
    )


def test_production_is_three_primaries_times_one_replica() -> None:
    assert statefulset("production")["spec"]["replicas"] == 6
    assert bootstrap_env("production")["REPLICAS"] == "1"


def test_aof_persistence_on_a_volume(env: str) -> None:
    lines = conf_lines(env)
    assert "appendonly yes" in lines
    assert "appendfsync everysec" in lines
    assert "cluster-enabled yes" in lines
    sts = statefulset(env)
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "data"
    (redis,) = [c for c in sts["spec"]["template"]["spec"]["containers"] if c["name"] == "redis"]
    assert {"name": "data", "mountPath": "/data"} in redis["volumeMounts"]


def test_tls_wherever_production_has_it(env: str) -> None:
    """Staging runs TLS like production, so certificate renewals are exercised before production."""
    lines = conf_lines(env)
    certificates = find(rendered(CHART, env), "Certificate")
    if env in ("staging", "production"):
        assert "port 0" in lines and "tls-port 6379" in lines
        assert "tls-cluster yes" in lines and "tls-replication yes" in lines
        (cert,) = certificates
        assert cert["spec"]["issuerRef"]["name"] == "spotify-ai-agent-ca"
        assert "*.redis-cluster-node-headless.redis-cluster.svc.cluster.local" in cert["spec"]["dnsNames"]
        assert bootstrap_env(env)["REDIS_TLS"] == "true"
    else:
        assert "port 6379" in lines and not any(ln.startswith("tls-") for ln in lines)
        assert certificates == []


def test_existing_tls_secret_replaces_the_certificate() -> None:
    objects = render_with("production", "tls.existingSecret=my-redis-tls")
    assert find(objects, "Certificate") == []
    (sts,) = find(objects, "StatefulSet")
    volumes = {v["name"]: v for v in sts["spec"]["template"]["spec"]["volumes"]}
    assert volumes["tls"]["secret"]["secretName"] == "my-redis-tls"


def test_password_from_a_secret_never_in_config_or_env(env: str) -> None:
    # production reads it from security-baseline's ExternalSecret (global.externalSecrets.enabled); generated when off
    objects = (
        render_with(env, "global.externalSecrets.enabled=false")
        if env == "production"
        else rendered(CHART, env)
    )
    (secret,) = find(objects, "Secret", "-auth")
    assert set(secret["data"]) == {"redis-password"}
    assert secret["metadata"]["annotations"]["helm.sh/resource-policy"] == "keep"
    assert not any(ln.startswith(("requirepass", "masterauth")) for ln in conf_lines(env))
    for where, spec in pod_specs(env):
        for c in spec.get("initContainers", []) + spec["containers"]:
            for var in c.get("env", []):
                assert "secretKeyRef" not in var.get("valueFrom", {}), f"{where}/{c['name']}: {var}"
    # The generation keeps a live value: the template looks the Secret up first.
    source = (ROOT / "charts" / CHART / "templates" / "secret.yaml").read_text()
    assert "lookup" in source and "randAlphaNum" in source


def test_existing_password_secret_is_used_and_nothing_generated() -> None:
    objects = render_with("production", "auth.existingSecret=app-redis", "auth.existingSecretPasswordKey=pw")
    assert find(objects, "Secret") == []
    (sts,) = find(objects, "StatefulSet")
    volumes = {v["name"]: v for v in sts["spec"]["template"]["spec"]["volumes"]}
    assert volumes["password"]["secret"] == {
        "secretName": "app-redis", "defaultMode": 0o440, "items": [{"key": "pw", "path": "password"}],
    }  # fmt: skip


def test_bootstrap_job_is_an_idempotent_helm_hook(env: str) -> None:
    (job,) = find(rendered(CHART, env), "Job", "bootstrap")
    annotations = job["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "post-install,post-upgrade"
    assert job["spec"]["ttlSecondsAfterFinished"] > 0
    script = config(env)["bootstrap.sh"]
    assert "--cluster create $fresh --cluster-replicas" in script and "--cluster-yes" in script
    assert "--cluster fix" in script and "--cluster rebalance" in script
    # create only when no node belongs to a cluster yet
    assert script.index('if [ -z "$members" ]') < script.index("--cluster create $fresh")


def test_exporter_and_metrics_service(env: str) -> None:
    objects = rendered(CHART, env)
    services = find(objects, "Service", "-metrics")
    containers = {c["name"] for c in statefulset(env)["spec"]["template"]["spec"]["containers"]}
    if env == "development":
        assert services == [] and "metrics" not in containers
        return
    (svc,) = services
    assert svc["metadata"]["labels"]["app.kubernetes.io/component"] == "metrics"
    assert [p["name"] for p in svc["spec"]["ports"]] == ["metrics"]
    assert "metrics" in containers


def test_headless_service_publishes_not_ready_addresses_and_the_bus(env: str) -> None:
    (headless,) = find(rendered(CHART, env), "Service", "-headless")
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["publishNotReadyAddresses"] is True
    assert {p["port"] for p in headless["spec"]["ports"]} == {6379, 16379}
    assert statefulset(env)["spec"]["serviceName"] == headless["metadata"]["name"]


def test_restricted_security_context_everywhere(env: str) -> None:
    for where, spec in pod_specs(env):
        assert_restricted(where, spec)
        # only the bootstrap Job's pod talks to the Kubernetes API (zones, volume growth)
        assert spec["automountServiceAccountToken"] is where.startswith("Job/"), where


def test_probes_pdb_spread_and_checksum(env: str) -> None:
    sts = statefulset(env)
    template = sts["spec"]["template"]
    for c in template["spec"]["containers"]:
        for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
            assert probe in c, (c["name"], probe)
    assert template["metadata"]["annotations"]["checksum/configmap"]
    affinity = template["spec"]["affinity"]["podAntiAffinity"]
    terms = affinity.get("requiredDuringSchedulingIgnoredDuringExecution") or [
        t["podAffinityTerm"] for t in affinity["preferredDuringSchedulingIgnoredDuringExecution"]
    ]
    assert terms[0]["topologyKey"] == "kubernetes.io/hostname"
    if env == "production":
        assert "requiredDuringSchedulingIgnoredDuringExecution" in affinity
    (spread,) = template["spec"]["topologySpreadConstraints"]
    assert spread["topologyKey"] == "topology.kubernetes.io/zone"
    # Production's zone spread is hard, as PostgreSQL's: a pod stays Pending rather than crowd a zone.
    if env == "production":
        assert spread["whenUnsatisfiable"] == "DoNotSchedule"
    (pdb,) = find(rendered(CHART, env), "PodDisruptionBudget")
    assert pdb["spec"]["maxUnavailable"] == 1
    assert pdb["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"
    assert pdb["spec"]["selector"]["matchLabels"] == sts["spec"]["selector"]["matchLabels"]


@pytest.mark.parametrize(("nodes", "replicas"), [(5, 1), (4, 1), (2, 0)])
def test_invalid_topologies_are_refused(nodes: int, replicas: int) -> None:
    with pytest.raises(ToolError) as err:
        render_with("staging", f"cluster.nodes={nodes}", f"cluster.replicas={replicas}")
    assert "cluster.nodes" in str(err.value) or "minimum" in str(err.value)


def test_seed_node_count_is_the_total_node_count() -> None:
    default = [d for d in yaml.safe_load_all(render_template(CHART, {}, root=ROOT)) if d]
    (sts,) = find(default, "StatefulSet")
    assert sts["spec"]["replicas"] == 6  # node_count defaults to 6
    eight = [d for d in yaml.safe_load_all(render_template(CHART, {"node_count": 8}, root=ROOT)) if d]
    (sts,) = find(eight, "StatefulSet")
    assert sts["spec"]["replicas"] == 8
    assert "4 primaries x 1 replicas" in sts["metadata"]["annotations"]["spotify-ai-agent/topology"]


def _version(tag: str) -> tuple[int, ...]:
    return tuple(int(x) for x in tag.split("-")[0].lstrip("v").split("."))


def test_images_are_past_the_known_redis_cves(env: str) -> None:
    """Redis 7.4.2 has CVE-2025-21605 (fixed in 7.4.3) and CVE-2025-49844 (7.4.6); 7.4.9 fixes
    CVE-2026-23479, CVE-2026-25243 and CVE-2026-23631 (upstream 7.4 release notes)."""
    images = {
        c["name"]: c["image"]
        for _, spec in pod_specs(env)
        for c in spec.get("initContainers", []) + spec["containers"]
    }
    redis = {name: ref for name, ref in images.items() if "/library/redis:" in ref}
    assert {"redis", "prepare", "reloader", "bootstrap"} <= set(redis)
    for ref in redis.values():
        version = _version(ref.rsplit(":", 1)[1])
        assert version[:2] == (7, 4) and version >= (7, 4, 9), ref
    if "metrics" in images:
        assert _version(images["metrics"].rsplit(":", 1)[1]) >= (1, 91, 1), images["metrics"]


def test_every_node_has_a_reloader_and_the_exporter_its_own_user(env: str) -> None:
    spec = statefulset(env)["spec"]["template"]["spec"]
    containers = {c["name"]: c for c in spec["containers"]}
    reloader = containers["reloader"]
    assert reloader["command"] == ["sh", "/opt/redis/scripts/reloader.sh"]
    env_vars = {e["name"]: e.get("value") for e in reloader["env"]}
    assert env_vars["SECRET_PASSWORD_FILE"] == "/opt/redis/secrets/password"
    assert env_vars["REDIS_TLS"] == ("false" if env == "development" else "true")
    mounts = {m["name"] for m in reloader["volumeMounts"]}
    assert {"password", "runtime", "scripts"} <= mounts
    assert ("tls" in mounts) == (env != "development")
    # The node's own probes use the password the server accepts (moved forward by the reloader),
    # not the Secret, which may be ahead of the server for a few seconds during a rotation.
    redis_env = {e["name"]: e.get("value") for e in containers["redis"]["env"]}
    assert redis_env["REDIS_PASSWORD_FILE"] == "/opt/redis/runtime/password"
    if "metrics" in containers:
        assert "--redis.user=redis-exporter" in containers["metrics"]["args"]


def test_only_the_bootstrap_job_calls_the_kubernetes_api(env: str) -> None:
    objects = rendered(CHART, env)
    (job,) = find(objects, "Job", "bootstrap")
    pod = job["spec"]["template"]
    label = "access.spotify-ai-agent.io/kube-api"
    assert pod["metadata"]["labels"][label] == "true"
    assert pod["spec"]["automountServiceAccountToken"] is True
    inits = {c["name"]: c for c in pod["spec"]["initContainers"]}
    # zones only where there are replicas to place; volumes wherever there are claims
    assert set(inits) == ({"volumes"} if env == "development" else {"zones", "volumes"})
    for c in inits.values():
        assert c["image"].startswith("docker.io/curlimages/curl:")
    sizes = {e["name"]: e.get("value") for e in inits["volumes"]["env"]}
    (sts,) = find(objects, "StatefulSet")
    (claim,) = sts["spec"]["volumeClaimTemplates"]
    # helm template sees no live StatefulSet: the template asks for persistence.size, as on a first install
    assert sizes["SIZE"] == claim["spec"]["resources"]["requests"]["storage"]
    (bootstrap,) = pod["spec"]["containers"]
    job_env = {e["name"]: e.get("value") for e in bootstrap["env"]}
    assert job_env["ZONES_FILE"] == ("" if env == "development" else "/opt/redis/zones/zones")
    (role,) = find(objects, "Role", "bootstrap")
    rules = {(tuple(r["resources"]), tuple(r["verbs"])) for r in role["rules"]}
    expected = {(("persistentvolumeclaims",), ("get", "patch"))}
    if env != "development":
        expected.add((("pods",), ("get",)))
    assert rules == expected
    cluster_roles = find(objects, "ClusterRole")
    if env == "development":
        assert cluster_roles == []
    else:
        (nodes,) = cluster_roles
        assert nodes["rules"] == [{"apiGroups": [""], "resources": ["nodes"], "verbs": ["get"]}]
        (binding,) = find(objects, "ClusterRoleBinding")
        assert binding["subjects"][0]["name"] == pod["spec"]["serviceAccountName"]
    # The nodes never talk to the API.
    node_pod = sts["spec"]["template"]
    assert label not in node_pod["metadata"]["labels"]
    assert node_pod["spec"]["automountServiceAccountToken"] is False


def test_the_claim_template_keeps_the_live_size_on_upgrades() -> None:
    """volumeClaimTemplates cannot change on upgrade: the template takes the live StatefulSet's size
    (helm lookup), and the Job grows the claims. Without a cluster, lookup finds nothing."""
    helpers = (ROOT / "charts" / CHART / "templates" / "_helpers.tpl").read_text()
    assert 'lookup "apps/v1" "StatefulSet"' in helpers
    sts_source = (ROOT / "charts" / CHART / "templates" / "statefulset.yaml").read_text()
    assert 'storage: {{ include "redis-cluster.claimTemplateSize" . | quote }}' in sts_source
    (sts,) = find(render_with("production", "persistence.size=64Gi"), "StatefulSet")
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] == "64Gi"
