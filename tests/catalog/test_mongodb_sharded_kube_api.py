"""mongodb-sharded's calls to the Kubernetes API: the restore Job restarts every mongos after
``pbm restore`` and starts the balancer again; the post-upgrade volumes hook grows the claims.

The scripts (restart-mongos.sh, volumes.sh) run with real curl over TLS with a bearer token. The
Kubernetes API server cannot run here (no kube-apiserver binary can be had), so the HTTPS stand-in
of test_redis_cluster_zones (PersistentVolumeClaims: GET, merge PATCH, 403 for a StorageClass
without expansion) is extended with the Deployment endpoint restart-mongos.sh uses (GET, strategic
merge PATCH), whose status walks through a rolling update like the Deployment controller's.
The restore chain runs with the stand-ins test_mongodb_sharded_pbm uses (MongoDB, mongosh and PBM
have no package here): fake_pbm.py against moto's real S3 server, fake_mongosh.js for mongos.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

import pytest
from tests.catalog import test_mongodb_sharded_pbm as pbm
from tests.catalog.conftest import find, render_with
from tests.catalog.test_mongodb_sharded_pbm import APP, Bench, _agents, _stamp
from tests.catalog.test_redis_cluster_scripts import NAMESPACE
from tests.catalog.test_redis_cluster_zones import StandInApi, serve_api

pytestmark = [pytest.mark.helm, pytest.mark.slow]

# The restore tests run on test_mongodb_sharded_pbm's bench: moto, the chart rendered with a restore.
s3, chart, bench = pbm.s3, pbm.chart, pbm.bench

CHART = "mongodb-sharded"
MONGOS = "new-mongodb-sharded-mongos"  # the Deployment of the `chart` fixture (release "new")


class DeploymentApi(StandInApi):
    """StandInApi plus GET and PATCH of /apis/apps/v1/namespaces/NS/deployments/NAME. After a
    patch, each GET shows the next step of a rolling update of two replicas (maxSurge 1): the
    controller has not seen the new generation yet, then one new pod, then two with an old one
    still terminating, then done."""

    deployments: ClassVar[dict[str, dict[str, Any]]] = {}
    steps: ClassVar[list[dict[str, int]]] = []
    refuse_patch: ClassVar[bool] = False

    @classmethod
    def reset(cls) -> None:
        super().reset()
        cls.refuse_patch = False
        cls.deployments = {}
        cls.steps = []

    def _deployment(self) -> str | None:
        prefix = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/"
        return self.path[len(prefix) :] if self.path.startswith(prefix) else None

    def _deployment_doc(self, name: str) -> dict[str, Any]:
        d = type(self).deployments[name]
        status = {
            "observedGeneration": d["observed"], "replicas": d["total"], "updatedReplicas": d["updated"],
            "readyReplicas": d["available"], "availableReplicas": d["available"],
            "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable"}],
        }  # fmt: skip
        template = {"metadata": {"annotations": dict(d["annotations"]), "labels": {"app": name}}, "spec": {}}
        return {
            "kind": "Deployment", "apiVersion": "apps/v1",
            "metadata": {"name": name, "namespace": NAMESPACE, "generation": d["generation"],
                         "annotations": {"deployment.kubernetes.io/revision": str(d["generation"])}},
            "spec": {"replicas": d["replicas"], "selector": {"matchLabels": {"app": name}}, "template": template,
                     "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}}},
            "status": status,
        }  # fmt: skip

    def do_GET(self) -> None:
        name = self._deployment()
        if name is None:
            super().do_GET()
            return
        type(self).requests.append(self.path)
        if not self._authorized():
            return
        if name not in type(self).deployments:
            self._send(404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404})
            return
        d = type(self).deployments[name]
        if type(self).steps:
            d.update(type(self).steps.pop(0))
        self._send(200, self._deployment_doc(name))

    def do_PATCH(self) -> None:
        name = self._deployment()
        if name is None:
            super().do_PATCH()
            return
        type(self).requests.append(f"PATCH {self.path}")
        if not self._authorized():
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        type(self).patches.append((name, str(self.headers.get("Content-Type")), body))
        if type(self).refuse_patch or name not in type(self).deployments:
            code, reason = (403, "Forbidden") if type(self).refuse_patch else (404, "NotFound")
            self._send(code, {"kind": "Status", "status": "Failure", "reason": reason, "code": code,
                              "message": f'deployments.apps "{name}" is forbidden'})  # fmt: skip
            return
        d = type(self).deployments[name]
        d["annotations"].update(json.loads(body)["spec"]["template"]["metadata"]["annotations"])
        d["generation"] += 1
        new = d["generation"]
        type(self).steps = [
            {},  # the controller has not seen the new template yet
            {"observed": new, "updated": 1, "total": 3, "available": 3},
            {"observed": new, "updated": 2, "total": 3, "available": 2},
            {"observed": new, "updated": 2, "total": 2, "available": 2},
        ]
        self._send(200, self._deployment_doc(name))


@pytest.fixture
def api(tmp_path: Path) -> Iterator[dict[str, str]]:
    with serve_api(tmp_path, DeploymentApi) as env:
        DeploymentApi.deployments = {
            MONGOS: {"generation": 7, "observed": 7, "replicas": 2, "total": 2, "updated": 2, "available": 2,
                     "annotations": {}},
        }  # fmt: skip
        yield {**env, "POD_NAMESPACE": NAMESPACE, "POLL_SECONDS": "0.2"}


def _pod(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    (obj,) = find(objects, kind, name)
    return dict(obj["spec"]["template"])


def _env(container: dict[str, Any]) -> dict[str, str]:
    return {e["name"]: e["value"] for e in container["env"] if "value" in e}


def _only_the_api_container_has_a_token(pod: dict[str, Any], api_container: str) -> None:
    spec = pod["spec"]
    assert spec["automountServiceAccountToken"] is False
    assert pod["metadata"]["labels"]["access.spotify-ai-agent.io/kube-api"] == "true"  # HELPER_CONTRACTS 2
    (volume,) = [v for v in spec["volumes"] if v["name"] == "kube-api-token"]
    assert volume["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"] == 3600
    for c in spec.get("initContainers", []) + spec["containers"]:
        mounts = {m["name"] for m in c.get("volumeMounts", [])}
        assert ("kube-api-token" in mounts) == (c["name"] == api_container), c["name"]


def _role_rules(objects: list[dict[str, Any]], component: str) -> list[dict[str, Any]]:
    (role,) = [r for r in find(objects, "Role") if r["metadata"]["name"].endswith(f"-{component}")]
    (binding,) = [b for b in find(objects, "RoleBinding") if b["metadata"]["name"].endswith(f"-{component}")]
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": role["metadata"]["name"]}  # fmt: skip
    (subject,) = binding["subjects"]
    assert subject["kind"] == "ServiceAccount" and subject["name"] == role["metadata"]["name"]
    return list(role["rules"])


def test_the_restore_job_restarts_the_routers_then_starts_the_balancer(bench: Bench) -> None:
    objects = bench.chart.objects
    job = _pod(objects, "Job", "-restore")
    spec = job["spec"]
    assert [c["name"] for c in spec["initContainers"]] == ["balancer-stop", "restore", "restart-mongos"]
    assert [c["name"] for c in spec["containers"]] == ["balancer-start"]  # last, after the routers restarted
    _only_the_api_container_has_a_token(job, "restart-mongos")
    assert spec["serviceAccountName"] == "new-mongodb-sharded-restore"
    # exactly the rollout restart (and its status) of this release's mongos Deployment
    assert _role_rules(objects, "restore") == [
        {
            "apiGroups": ["apps"],
            "resources": ["deployments"],
            "resourceNames": [MONGOS],
            "verbs": ["get", "patch"],
        }
    ]
    (restart,) = [c for c in spec["initContainers"] if c["name"] == "restart-mongos"]
    assert _env(restart)["DEPLOYMENT"] == MONGOS
    assert restart["image"].startswith("docker.io/curlimages/curl:")


def test_restore_then_router_restart_then_balancer(bench: Bench, api: dict[str, str]) -> None:
    """The Job's containers in their order: stop the balancer, restore, restart every mongos and
    wait for the rollout, start the balancer (the PBM restore procedure for sharded clusters)."""
    spec = _pod(bench.chart.objects, "Job", "-restore")["spec"]
    containers = {c["name"]: c for c in spec["initContainers"] + spec["containers"]}
    topology = json.loads(bench.chart.scripts["topology.json"])
    (bench.root / "secrets" / "mongodb-root-password").write_text("root-pass")
    root = _env(containers["balancer-stop"])["ROOT_USER"]
    configsvr = {"members": ["cfg-0:27019"], "initiated": True, "users": {root: {"pwd": "root-pass", "roles": []}},
                 "config": {"configsvr": True, "members": [{"_id": 0, "host": "cfg-0:27019"}]}}  # fmt: skip
    bench.cluster({"mongos": topology["mongos"], "balancer": "full", "actions": [], "shards": [],
                   "replicaSets": {"cfg": configsvr, "s0": {"members": []}, "s1": {"members": []}}})  # fmt: skip
    bench.seed("old-cluster", _stamp(timedelta(days=1)), APP)
    _agents(bench, 3)

    def balancer(name: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(bench.root / "bin" / "mongosh"), "--nodb", "--quiet", "--norc",
                               str(bench.scripts / "balancer.js")],
                              env=bench.variables(_env(containers[name])), capture_output=True, text=True,
                              timeout=60)  # fmt: skip

    stop = balancer("balancer-stop")
    assert stop.returncode == 0 and "balancer: off" in stop.stdout, stop.stdout + stop.stderr
    restored = bench.run("pbm-restore.sh", _env(containers["restore"]), WAIT_SECONDS="10")
    assert restored.returncode == 0, restored.stdout + restored.stderr
    restart = subprocess.run(["sh", str(bench.scripts / "restart-mongos.sh")],
                             env=bench.variables(_env(containers["restart-mongos"]), **api),
                             capture_output=True, text=True, timeout=60)  # fmt: skip
    assert restart.returncode == 0, restart.stdout + restart.stderr
    ((name, content_type, body),) = DeploymentApi.patches
    assert name == MONGOS and content_type == "application/strategic-merge-patch+json"
    stamp = json.loads(body)["spec"]["template"]["metadata"]["annotations"][
        "kubectl.kubernetes.io/restartedAt"
    ]
    assert DeploymentApi.deployments[MONGOS]["annotations"] == {"kubectl.kubernetes.io/restartedAt": stamp}
    assert DeploymentApi.steps == [], "returned before the rollout was complete"
    assert (
        "waiting for the rollout" in restart.stdout
        and "2/2 routers restarted and available" in restart.stdout
    )
    start = balancer("balancer-start")
    assert start.returncode == 0 and "balancer: full" in start.stdout, start.stdout + start.stderr
    cluster = json.loads((bench.root / "cluster.json").read_text())
    assert cluster["databases"] == APP
    assert [a["action"] for a in cluster["actions"] if a["action"].startswith("balancer")] == [
        "balancerStop", "balancerStart",
    ]  # fmt: skip
    assert cluster["balancer"] == "full"


def test_a_refused_router_restart_fails_the_restore_job(bench: Bench, api: dict[str, str]) -> None:
    spec = _pod(bench.chart.objects, "Job", "-restore")["spec"]
    (restart,) = [c for c in spec["initContainers"] if c["name"] == "restart-mongos"]
    DeploymentApi.refuse_patch = True
    done = subprocess.run(["sh", str(bench.scripts / "restart-mongos.sh")],
                          env=bench.variables(_env(restart), **api), capture_output=True, text=True,
                          timeout=60)  # fmt: skip
    assert done.returncode == 1 and "answered 403" in done.stderr, done.stdout + done.stderr
    # the Job stops there: balancer-start (a regular container) never runs after a failed init container


# --- volume growth -------------------------------------------------------------------------------


def _volumes_job(*sets: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    objects = render_with(CHART, "production", *sets)
    return objects, _pod(objects, "Job", "-volumes")


def test_the_volumes_hook_targets_every_persistent_statefulset() -> None:
    objects, pod = _volumes_job("configsvr.persistence.size=40Gi", "shards.persistence.size=400Gi")
    (job,) = find(objects, "Job", "-volumes")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-upgrade"
    _only_the_api_container_has_a_token(pod, "volumes")
    (container,) = pod["spec"]["containers"]
    assert _env(container)["TARGETS"].splitlines() == [
        f"{CHART}-configsvr 3 40Gi", f"{CHART}-shard0 3 400Gi", f"{CHART}-shard1 3 400Gi",
    ]  # fmt: skip
    assert _role_rules(objects, "volumes") == [
        {"apiGroups": [""], "resources": ["persistentvolumeclaims"], "verbs": ["get", "patch"]}
    ]
    names = {s["metadata"]["name"] for s in find(objects, "StatefulSet")}
    assert {t.split()[0] for t in _env(container)["TARGETS"].splitlines()} == names
    assert not find(render_with(CHART, "production", "volumes.resize=false"), "Job", "-volumes")


def test_the_volumes_hook_grows_the_claims_of_every_statefulset(tmp_path: Path) -> None:
    objects, pod = _volumes_job("configsvr.persistence.size=40Gi", "shards.persistence.size=400Gi")
    (cm,) = find(objects, "ConfigMap", "-config")
    script = tmp_path / "volumes.sh"
    script.write_text(cm["data"]["volumes.sh"])
    (container,) = pod["spec"]["containers"]
    claims = {f"data-{CHART}-configsvr-{i}": "20Gi" for i in range(3)}
    claims |= {f"data-{CHART}-shard{s}-{i}": "200Gi" for s in range(2) for i in range(3)}
    claims[f"data-{CHART}-shard1-2"] = "500Gi"  # already larger: never shrunk
    with serve_api(tmp_path, DeploymentApi) as env:
        DeploymentApi.claims = dict(claims)
        DeploymentApi.refuse = {f"data-{CHART}-shard0-1"}  # a StorageClass without expansion
        DeploymentApi.absent_once = {f"data-{CHART}-shard1-0"}  # a scale-up's claim, created later
        done = subprocess.run(["sh", str(script)], capture_output=True, text=True, timeout=120,
                              env={**_env(container), **env, "POD_NAMESPACE": NAMESPACE, "WAIT_SECONDS": "30",
                                   "PATH": "/usr/bin:/bin"})  # fmt: skip
        grown = dict(DeploymentApi.claims)
    assert done.returncode == 0, done.stdout + done.stderr
    expected = {k: ("40Gi" if "configsvr" in k else "400Gi") for k in claims}
    expected[f"data-{CHART}-shard1-2"] = "500Gi"
    expected[f"data-{CHART}-shard0-1"] = "200Gi"
    assert grown == expected, done.stdout + done.stderr
    assert f"WARNING: data-{CHART}-shard0-1 not resized (403)" in done.stderr
    assert f"waiting for data-{CHART}-shard1-0" in done.stdout


def test_restore_and_volumes_service_accounts(bench: Bench) -> None:
    accounts = {a["metadata"]["name"]: a for a in find(bench.chart.objects, "ServiceAccount")}
    assert accounts["new-mongodb-sharded-restore"]["automountServiceAccountToken"] is False
    assert accounts["new-mongodb-sharded-volumes"]["automountServiceAccountToken"] is False
