"""Zones and volume growth, run for real: the redis-cluster chart's zones.sh (the bootstrap Job's init container) and
bootstrap.sh place every replica in another zone than its primary, on real redis-server processes.

zones.sh reads each pod's node and that node's ``topology.kubernetes.io/zone`` label with real
curl over TLS with a bearer token. The Kubernetes API server itself cannot run here: no package
registry reachable from this project ships one (checked: Debian has only clients — kubectl,
python3-kubernetes — and etcd-server, which is a store, not the API; PyPI has clients and
docker-based k3s launchers, and no docker here), and a prebuilt binary cannot be downloaded. So
a small HTTPS stand-in serves the two GET endpoints zones.sh uses (pods/NAME, nodes/NAME) with
documents shaped like the API server's, checks the token, and answers a pod as unscheduled (no
nodeName) the first time, as for a Pending pod. It is the one stand-in outside the allowed list
(MongoDB, mongosh, WAL-G, PBM), for that reason.

After the bootstrap, a scale-up, a failover and a replica moved into its primary's zone (what a
replica migration can do), no primary may share its zone with all of its replicas. volumes.sh
(the Job's PVC resize) runs with real curl against the same stand-in, which also serves
PersistentVolumeClaims (GET, merge PATCH, and the API's 403 for a StorageClass without expansion).
"""

from __future__ import annotations

import contextlib
import json
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from tests.catalog.test_redis_cluster_rotation import _make_ca, _make_cert
from tests.catalog.test_redis_cluster_scripts import NAMESPACE, STATEFULSET, Cluster, make_cluster
from tests.conftest import require_tool

pytestmark = [pytest.mark.helm, pytest.mark.slow]

TOKEN = "test-serviceaccount-token"
# pod ordinal -> (node, zone). Two pods per zone, as a hard zone spread schedules six pods over
# three; laid out so that `redis-cli --cluster create` alone (pods 3, 4, 5 replicating 2, 0, 1 with
# these addresses) would put every replica in its primary's zone. Pods 6 and 7 (the scale-up) share
# zone a, as a soft spread allows.
PLACEMENT = {
    0: ("node-a1", "eu-west-1a"), 1: ("node-b1", "eu-west-1b"), 2: ("node-c1", "eu-west-1c"),
    3: ("node-c2", "eu-west-1c"), 4: ("node-a2", "eu-west-1a"), 5: ("node-b2", "eu-west-1b"),
    6: ("node-a3", "eu-west-1a"), 7: ("node-a4", "eu-west-1a"),
}  # fmt: skip


class StandInApi(BaseHTTPRequestHandler):
    """GET /api/v1/namespaces/NS/pods/NAME and /api/v1/nodes/NAME, pretty-printed like the API
    server's answers to curl; 401 without the token; 404 for anything else."""

    seen: ClassVar[set[str]] = set()
    requests: ClassVar[list[str]] = []
    # PersistentVolumeClaims: name -> spec.resources.requests.storage; claims answered 404 once
    # (not created yet); claims whose resize the API refuses (StorageClass without expansion).
    claims: ClassVar[dict[str, str]] = {}
    absent_once: ClassVar[set[str]] = set()
    refuse: ClassVar[set[str]] = set()
    patches: ClassVar[list[tuple[str, str, str]]] = []

    @classmethod
    def reset(cls) -> None:
        cls.seen, cls.requests, cls.claims, cls.absent_once, cls.refuse, cls.patches = (
            set(),
            [],
            {},
            set(),
            set(),
            [],
        )

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _send(self, code: int, doc: dict[str, object]) -> None:
        body = json.dumps(doc, indent=2).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _claim(self) -> str | None:
        prefix = f"/api/v1/namespaces/{NAMESPACE}/persistentvolumeclaims/"
        return self.path[len(prefix) :] if self.path.startswith(prefix) else None

    def _claim_doc(self, name: str) -> dict[str, object]:
        size = type(self).claims[name]
        spec = {
            "accessModes": ["ReadWriteOnce"],
            "resources": {"requests": {"storage": size}},
            "storageClassName": "gp3",
        }
        status = {"phase": "Bound", "capacity": {"storage": size}}
        return {
            "kind": "PersistentVolumeClaim",
            "apiVersion": "v1",
            "metadata": {"name": name},
            "spec": spec,
            "status": status,
        }

    def _authorized(self) -> bool:
        if self.headers.get("Authorization") == f"Bearer {TOKEN}":
            return True
        self._send(401, {"kind": "Status", "status": "Failure", "reason": "Unauthorized", "code": 401})
        return False

    def do_PATCH(self) -> None:
        type(self).requests.append(f"PATCH {self.path}")
        if not self._authorized():
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", "0"))).decode()
        name = self._claim()
        if name is None or name not in type(self).claims:
            self._send(404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404})
            return
        type(self).patches.append((name, str(self.headers.get("Content-Type")), body))
        if name in type(self).refuse:
            message = (
                f'persistentvolumeclaims "{name}" is forbidden: only dynamically provisioned pvc can be resized '
                "and the storageclass that provisions the pvc must support resize"
            )
            self._send(
                403,
                {
                    "kind": "Status",
                    "status": "Failure",
                    "message": message,
                    "reason": "Forbidden",
                    "code": 403,
                },
            )
            return
        type(self).claims[name] = json.loads(body)["spec"]["resources"]["requests"]["storage"]
        self._send(200, self._claim_doc(name))

    def do_GET(self) -> None:
        type(self).requests.append(self.path)
        if not self._authorized():
            return
        name = self._claim()
        if name is not None:
            if name in type(self).claims and name not in type(self).absent_once:
                self._send(200, self._claim_doc(name))
            else:
                type(self).absent_once.discard(name)
                self._send(404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404})
            return
        pods = f"/api/v1/namespaces/{NAMESPACE}/pods/{STATEFULSET}-"
        if self.path.startswith(pods):
            ordinal = int(self.path[len(pods) :])
            name = f"{STATEFULSET}-{ordinal}"
            spec: dict[str, object] = {"containers": [{"name": "redis", "image": "redis"}]}
            if name in type(self).seen:  # Pending the first time it is asked for
                spec["nodeName"] = PLACEMENT[ordinal][0]
            type(self).seen.add(name)
            status = {"phase": "Running" if "nodeName" in spec else "Pending"}
            meta = {
                "name": name,
                "namespace": NAMESPACE,
                "labels": {"app.kubernetes.io/name": "redis-cluster"},
            }
            self._send(
                200, {"kind": "Pod", "apiVersion": "v1", "metadata": meta, "spec": spec, "status": status}
            )
            return
        for node, zone in PLACEMENT.values():
            if self.path == f"/api/v1/nodes/{node}":
                labels = {
                    "kubernetes.io/hostname": node, "topology.kubernetes.io/region": "eu-west-1",
                    "topology.kubernetes.io/zone": zone, "node.kubernetes.io/instance-type": "m6i.xlarge",
                }  # fmt: skip
                self._send(
                    200, {"kind": "Node", "apiVersion": "v1", "metadata": {"name": node, "labels": labels}}
                )
                return
        self._send(404, {"kind": "Status", "status": "Failure", "reason": "NotFound", "code": 404})


@contextlib.contextmanager
def serve_api(tmp_path: Path, handler: type[StandInApi]) -> Iterator[dict[str, str]]:
    """``handler`` (reset) as an HTTPS API server on a free port, and the environment the
    chart's curl scripts need to reach it (KUBERNETES_SERVICE_*, SERVICEACCOUNT_DIR)."""
    require_tool("curl")
    require_tool("openssl")
    pki = tmp_path / "api-pki"
    _make_ca(pki)
    _make_cert(pki, "apiserver", 0x5E)
    sa = tmp_path / "serviceaccount"
    sa.mkdir()
    (sa / "token").write_text(TOKEN)
    (sa / "ca.crt").write_bytes((pki / "ca.crt").read_bytes())
    handler.reset()
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(pki / "apiserver.crt", pki / "apiserver.key")
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {
            "KUBERNETES_SERVICE_HOST": "127.0.0.1", "KUBERNETES_SERVICE_PORT": str(server.server_address[1]),
            "SERVICEACCOUNT_DIR": str(sa),
        }  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def api(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The stand-in API server on a free port, and the environment zones.sh needs to reach it."""
    with serve_api(tmp_path, StandInApi) as env:
        yield env


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    yield from make_cluster(tmp_path)


def run_zones(c: Cluster, api: dict[str, str], nodes: int) -> str:
    zones_file = c.root / "zones"
    env = {
        **c.env(NODES=str(nodes), STATEFULSET=STATEFULSET, ZONES_FILE=str(zones_file), WAIT_SECONDS="60"),
        **api,
    }
    done = subprocess.run(
        ["sh", str(c.scripts / "zones.sh")], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return zones_file.read_text()


def bootstrap(c: Cluster, nodes: int) -> str:
    env = c.env(
        NODES=str(nodes), REPLICAS="1", STATEFULSET=STATEFULSET, REBALANCE="true", WAIT_SECONDS="120",
        ZONES_FILE=str(c.root / "zones"),
    )  # fmt: skip
    done = subprocess.run(
        ["sh", str(c.scripts / "bootstrap.sh")], env=env, capture_output=True, text=True, timeout=240
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout + done.stderr


UNSETTLED = {"fail", "fail?", "handshake", "noaddr"}


def agreed_nodes(c: Cluster, timeout: float = 60) -> list[list[str]]:
    """CLUSTER NODES rows once every node reports the same primaries and replication links and none
    is flagged failing or in handshake. One node's view right after a failover or a move can be a
    mix of old and new roles (CI once saw five primaries of eight nodes, one of them empty, right
    after node 0 had counted four): the layout is only asserted once gossip has settled."""
    deadline = time.monotonic() + timeout
    while True:
        views = {i: [ln.split() for ln in c.cli(i, "cluster", "nodes").splitlines()] for i in c.ips}
        shapes = {
            i: sorted((r[0], "master" in r[2].split(","), r[3]) for r in rows) for i, rows in views.items()
        }
        settled = not any(UNSETTLED & set(r[2].split(",")) for rows in views.values() for r in rows)
        if settled and all(shape == shapes[0] for shape in shapes.values()):
            return views[0]
        assert time.monotonic() < deadline, f"the nodes never agreed: {views}"
        time.sleep(0.3)


def layout(c: Cluster) -> dict[str, list[str]]:
    """zone of each primary -> zones of its replicas, once every node agrees on them."""
    zone_of_ip = {c.ips[i]: PLACEMENT[i][1] for i in c.ips}
    rows = agreed_nodes(c)
    zone = {r[0]: zone_of_ip[r[1].split(":")[0]] for r in rows}
    out: dict[str, list[str]] = {}
    for r in rows:
        if "master" in r[2].split(","):
            out.setdefault(r[0], [])
    for r in rows:
        if "slave" in r[2].split(","):
            out.setdefault(r[3], []).append(zone[r[0]])
    return {f"{p} ({zone[p]})": zones for p, zones in out.items()}


def assert_zone_safe(c: Cluster) -> None:
    seen = layout(c)
    for primary, replica_zones in seen.items():
        primary_zone = primary.split("(")[1].rstrip(")")
        assert replica_zones, f"primary {primary} has no replica: {seen}"
        assert any(z != primary_zone for z in replica_zones), (
            f"a zone outage takes {primary} with its replicas: {seen}"
        )


def test_replicas_live_in_another_zone_than_their_primary(cluster: Cluster, api: dict[str, str]) -> None:
    for i in range(6):
        cluster.start(i, f"127.0.0.{140 + i}")
    zones = run_zones(cluster, api, 6)
    assert zones.splitlines() == [f"{STATEFULSET}-{i} {PLACEMENT[i][1]}" for i in range(6)]
    # Every pod was first answered as Pending: zones.sh waited for the scheduler.
    assert sum(p.endswith(f"pods/{STATEFULSET}-0") for p in StandInApi.requests) == 2
    out = bootstrap(cluster, 6)
    assert "zones: eu-west-1a=2 eu-west-1b=2 eu-west-1c=2" in out, out
    assert "zones: replica" in out, out  # create paired within zones; the repair moved replicas
    assert_zone_safe(cluster)
    assert cluster.roles() == {"masters": 3, "masters_with_slots": 3, "replicas": 3}

    # Scale-up: two more pods, both in zone a: one stays a primary, the other must not be its replica.
    for i in (6, 7):
        cluster.start(i, f"127.0.0.{140 + i}")
    run_zones(cluster, api, 8)
    out = bootstrap(cluster, 8)
    assert "stays a primary" in out and "replicates" in out, out
    cluster.cli(0, "cluster", "info", wait_for="cluster_state:ok")
    assert cluster.roles() == {"masters": 4, "masters_with_slots": 4, "replicas": 4}
    assert_zone_safe(cluster)

    # A failover swaps a primary with its replica: still one zone apart.
    replica = next(i for i in cluster.ips if cluster.cli(i, "role").splitlines()[0] == "slave")
    deadline = time.monotonic() + 90
    while cluster.cli(replica, "role").splitlines()[0] != "master":
        # a manual failover gives up after a few seconds when the machine is loaded: ask again
        assert time.monotonic() < deadline, cluster.cli(replica, "cluster", "nodes")
        cluster.cli(replica, "cluster", "failover")
        for _ in range(20):
            if cluster.cli(replica, "role").splitlines()[0] == "master":
                break
            time.sleep(0.5)
    cluster.cli(0, "cluster", "info", wait_for="cluster_state:ok")
    deadline = time.monotonic() + 30
    while cluster.roles() != {"masters": 4, "masters_with_slots": 4, "replicas": 4}:  # gossip reaches node 0
        assert time.monotonic() < deadline, cluster.cli(0, "cluster", "nodes")
        time.sleep(0.3)
    assert_zone_safe(cluster)

    # A replica moved next to a primary of its own zone (what replica migration can do), the
    # primary's other-zone replica moved away: the next bootstrap run repairs it.
    nodes = [ln.split() for ln in cluster.cli(0, "cluster", "nodes").splitlines()]
    index = {r[0]: next(i for i in cluster.ips if cluster.ips[i] == r[1].split(":")[0]) for r in nodes}
    primaries = [r[0] for r in nodes if "master" in r[2]]
    replicas_of = {r[0]: r[3] for r in nodes if "slave" in r[2]}
    moved = None
    for p in primaries:
        zp = PLACEMENT[index[p]][1]
        for r, q in replicas_of.items():
            if q != p and PLACEMENT[index[r]][1] == zp:
                mine = [s for s, owner in replicas_of.items() if owner == p]
                moved = (r, q, mine, p)
                break
        if moved:
            break
    assert moved, layout(cluster)
    r, q, mine, p = moved
    cluster.cli(index[r], "cluster", "replicate", p)
    for s in mine:
        cluster.cli(index[s], "cluster", "replicate", q)
    deadline = time.monotonic() + 30
    while True:  # until node 0 has heard of both moves
        view = {
            row[0]: row[3] for row in (ln.split() for ln in cluster.cli(0, "cluster", "nodes").splitlines())
        }
        if view.get(r) == p and all(view.get(s) == q for s in mine):
            break
        assert time.monotonic() < deadline, view
        time.sleep(0.3)
    with pytest.raises(AssertionError, match="a zone outage takes"):
        assert_zone_safe(cluster)
    out = bootstrap(cluster, 8)
    assert "zones: replica" in out and "every primary has a replica in another zone" in out, out
    assert_zone_safe(cluster)
    assert cluster.roles() == {"masters": 4, "masters_with_slots": 4, "replicas": 4}


def test_the_job_grows_existing_claims_to_persistence_size(cluster: Cluster, api: dict[str, str]) -> None:
    """volumes.sh (the Job's other init container) patches every smaller claim to SIZE, never
    shrinks one, waits for a claim that does not exist yet, and reports a refused resize without
    failing the Job."""
    claim = [f"data-{STATEFULSET}-{i}" for i in range(4)]
    StandInApi.claims = {claim[0]: "8Gi", claim[1]: "8Gi", claim[2]: "8192Mi", claim[3]: "16Gi"}
    StandInApi.absent_once = {claim[2]}
    StandInApi.refuse = {claim[1]}
    env = {**cluster.env(NODES="4", STATEFULSET=STATEFULSET, SIZE="12Gi", WAIT_SECONDS="30"), **api}
    done = subprocess.run(
        ["sh", str(cluster.scripts / "volumes.sh")], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert StandInApi.claims == {claim[0]: "12Gi", claim[1]: "8Gi", claim[2]: "12Gi", claim[3]: "16Gi"}
    assert [p[0] for p in StandInApi.patches] == [claim[0], claim[1], claim[2]]
    assert {p[1] for p in StandInApi.patches} == {"application/merge-patch+json"}
    assert f"waiting for {claim[2]}" in done.stdout
    assert f"WARNING: {claim[1]} not resized (403)" in done.stderr and "must support resize" in done.stderr
    assert f"{claim[3]} asks for 16Gi" in done.stdout
