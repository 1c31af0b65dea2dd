"""The redis-cluster chart's scripts run for real against local redis-server processes.

The scripts (prepare.sh, start.sh, probe.sh, prestop.sh, bootstrap.sh) and redis.conf come from
the chart rendered with the staging values (6 nodes, 3 primaries x 1 replica) without TLS (TLS is
exercised by test_redis_cluster_rotation.py). Each
"pod" is a redis-server bound to its own loopback address (127.0.0.x, the pod IP); a ``getent``
shim resolves the pods' DNS names from a file, so a test can move pods to new IPs the way a
rescheduling does. Only the paths of redis.conf are rewritten (``/data`` → a node's directory,
``bind`` → its address). Needs redis-server and redis-cli (Debian: ``apt-get install redis-server``).
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from tests.catalog.conftest import find, render_with
from tests.conftest import require_tool

NAMESPACE = "redis-cluster"
STATEFULSET = "redis-cluster-node"
HEADLESS = "redis-cluster-node-headless"
DOMAIN = "cluster.local"
PASSWORD = 'pa"ss\\word-42'  # quotes and backslashes must survive redis.conf escaping

GETENT = """#!/bin/sh
# getent shim: `getent hosts NAME` from the test's hosts file; anything else is the real getent.
if [ "$1" = "hosts" ]; then
  awk -v n="$2" '$2 == n { print; found = 1 } END { exit found ? 0 : 2 }' "$HOSTS_FILE"
  exit $?
fi
exec /usr/bin/getent "$@"
"""

pytestmark = [pytest.mark.helm, pytest.mark.slow]


def fqdn(i: int) -> str:
    return f"{STATEFULSET}-{i}.{HEADLESS}.{NAMESPACE}.svc.{DOMAIN}"


@dataclass
class Cluster:
    root: Path
    scripts: Path
    conf_text: str
    processes: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    ips: dict[int, str] = field(default_factory=dict)

    @property
    def hosts_file(self) -> Path:
        return self.root / "hosts"

    def env(self, **extra: str) -> dict[str, str]:
        base = {
            "PATH": f"{self.root / 'bin'}{os.pathsep}{os.environ['PATH']}",
            "HOSTS_FILE": str(self.hosts_file),
            "SCRIPTS_DIR": str(self.scripts),
            "REDIS_PASSWORD_FILE": str(self.root / "password"),
            "REDIS_TLS": "false",
            "REDIS_TLS_DIR": str(self.root / "tls"),
            "REDIS_PORT": "6379",
            "POD_NAMESPACE": NAMESPACE,
            "HEADLESS_SERVICE": HEADLESS,
            "CLUSTER_DOMAIN": DOMAIN,
        }
        return {**base, **extra}

    def write_hosts(self) -> None:
        self.hosts_file.write_text("".join(f"{ip} {fqdn(i)}\n" for i, ip in sorted(self.ips.items())))

    def node_dir(self, i: int) -> Path:
        return self.root / f"node-{i}"

    def start(self, i: int, ip: str, secret: Path | None = None) -> None:
        """prepare.sh (the init container), then start.sh (the main container) of pod i at ``ip``;
        ``secret`` is the pod's mounted password file (default: the one every pod shares)."""
        self.ips[i] = ip
        self.write_hosts()
        node = self.node_dir(i)
        for sub in ("conf", "runtime", "data"):
            (node / sub).mkdir(parents=True, exist_ok=True)
        conf = self.conf_text.replace("/data", str(node / "data")).replace("bind * -::*", f"bind {ip}")
        (node / "conf" / "redis.conf").write_text(conf)
        env = self.env(
            POD_NAME=f"{STATEFULSET}-{i}", POD_IP=ip, ANNOUNCE_HOSTNAME="true", CONF_DIR=str(node / "conf"),
            RUNTIME_DIR=str(node / "runtime"), REDIS_DATA_DIR=str(node / "data"),
            EXPORTER_ADDR="redis://localhost:6379", REDIS_PASSWORD_FILE=str(secret or self.root / "password"),
        )  # fmt: skip
        subprocess.run(["sh", str(self.scripts / "prepare.sh")], env=env, check=True, timeout=30)
        log = (node / "redis.log").open("ab")
        self.processes[i] = subprocess.Popen(
            ["sh", str(self.scripts / "start.sh")], env=env, stdout=log, stderr=subprocess.STDOUT
        )
        self.cli(i, "ping", wait_for="PONG")

    def stop(self, i: int) -> None:
        proc = self.processes.pop(i)
        proc.terminate()
        proc.wait(timeout=20)

    def cli(self, i: int, *args: str, wait_for: str | None = None, password: str = PASSWORD) -> str:
        deadline = time.monotonic() + 30
        while True:
            done = subprocess.run(
                ["redis-cli", "-h", self.ips[i], "-p", "6379", *args],
                env={**os.environ, "REDISCLI_AUTH": password}, capture_output=True, text=True, timeout=10,
            )  # fmt: skip
            out = done.stdout.strip()
            if wait_for is None or wait_for in out:
                return out
            if time.monotonic() > deadline:
                raise AssertionError(f"node {i}: {' '.join(args)} never returned {wait_for!r}: {out!r}")
            time.sleep(0.3)

    def bootstrap(self, nodes: int, replicas: int) -> subprocess.CompletedProcess[str]:
        env = self.env(
            NODES=str(nodes),
            REPLICAS=str(replicas),
            STATEFULSET=STATEFULSET,
            REBALANCE="true",
            WAIT_SECONDS="240",  # the Job's deadline; generous: CI machines are shared and loaded
        )
        try:
            return subprocess.run(
                ["sh", str(self.scripts / "bootstrap.sh")],
                env=env,
                capture_output=True,
                text=True,
                timeout=360,
            )
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"bootstrap.sh hung: {exc.stdout!r} {exc.stderr!r}") from exc

    def roles(self) -> dict[str, int]:
        lines = [ln.split() for ln in self.cli(0, "cluster", "nodes").splitlines()]
        masters = [f for f in lines if "master" in f[2].split(",")]
        with_slots = [f for f in masters if len(f) > 8]
        replicas = [f for f in lines if "slave" in f[2].split(",")]
        return {"masters": len(masters), "masters_with_slots": len(with_slots), "replicas": len(replicas)}


def _config_map() -> dict[str, str]:
    objects = render_with("redis-cluster", "staging", "tls.enabled=false")
    (cm,) = find(objects, "ConfigMap", "redis-cluster-config")
    return dict(cm["data"])


def make_cluster(tmp_path: Path) -> Iterator[Cluster]:
    """A Cluster in ``tmp_path`` with the chart's scripts; every process it started is killed after."""
    require_tool("redis-server")  # Debian's redis-server, installed by ci/install.sh
    require_tool("redis-cli")
    data = _config_map()
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    for name, text in data.items():
        if name.endswith(".sh"):
            (scripts / name).write_text(text)
    (tmp_path / "bin").mkdir()
    shim = tmp_path / "bin" / "getent"
    shim.write_text(GETENT)
    shim.chmod(0o755)
    (tmp_path / "password").write_text(PASSWORD)
    c = Cluster(root=tmp_path, scripts=scripts, conf_text=data["redis.conf"])
    try:
        yield c
    finally:
        for i in list(c.processes):
            c.processes[i].kill()
            c.processes.pop(i).wait(timeout=10)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    yield from make_cluster(tmp_path)


def test_bootstrap_forms_the_cluster_and_is_idempotent(cluster: Cluster) -> None:
    for i in range(6):
        cluster.start(i, f"127.0.0.{20 + i}")
    first = cluster.bootstrap(6, 1)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "creating the cluster: 3 primaries x 1 replicas" in first.stdout
    assert "cluster_state:ok" in cluster.cli(0, "cluster", "info")
    assert cluster.roles() == {"masters": 3, "masters_with_slots": 3, "replicas": 3}
    # Hostnames are announced, so clients and nodes.conf carry the stable DNS names.
    assert fqdn(3) in cluster.cli(0, "cluster", "nodes")
    again = cluster.bootstrap(6, 1)
    assert again.returncode == 0, again.stdout + again.stderr
    assert "creating" not in again.stdout and "adding" not in again.stdout
    assert cluster.roles() == {"masters": 3, "masters_with_slots": 3, "replicas": 3}


def test_every_pod_restarting_on_new_ips_finds_the_cluster_again(cluster: Cluster) -> None:
    for i in range(6):
        cluster.start(i, f"127.0.0.{40 + i}")
    assert cluster.bootstrap(6, 1).returncode == 0
    # No `redis-cli -c`: redirects name hosts (cluster-preferred-endpoint-type hostname) that only
    # the getent shim resolves. Write on whichever node owns the slot.
    assert "OK" in [cluster.cli(i, "set", "{a}key", "survives") for i in range(6)]
    for i in range(6):
        cluster.stop(i)
    for i in range(6):  # every pod rescheduled: new IPs, same volumes
        cluster.start(i, f"127.0.0.{60 + i}")
    nodes_conf = (cluster.node_dir(0) / "data" / "nodes.conf").read_text()
    assert "127.0.0.4" not in nodes_conf and "127.0.0.61:6379@16379" in nodes_conf
    for i in range(6):
        cluster.cli(i, "cluster", "info", wait_for="cluster_state:ok")
    replies = [cluster.cli(i, "get", "{a}key") for i in range(6)]
    assert "survives" in replies, replies


def test_scale_up_adds_a_primary_and_a_replica_and_rebalances(cluster: Cluster) -> None:
    for i in range(6):
        cluster.start(i, f"127.0.0.{80 + i}")
    first = cluster.bootstrap(6, 1)
    assert first.returncode == 0, first.stdout + first.stderr
    for i in (6, 7):
        cluster.start(i, f"127.0.0.{80 + i}")
    grown = cluster.bootstrap(8, 1)
    assert grown.returncode == 0, grown.stdout + grown.stderr
    assert "stays a primary" in grown.stdout and "replicates" in grown.stdout
    cluster.cli(0, "cluster", "info", wait_for="cluster_state:ok")
    assert cluster.roles() == {"masters": 4, "masters_with_slots": 4, "replicas": 4}


def test_probes_and_prestop_failover(cluster: Cluster) -> None:
    # probe.sh and prestop.sh talk to localhost: pod 0 gets 127.0.0.1.
    for i in range(6):
        cluster.start(i, "127.0.0.1" if i == 0 else f"127.0.0.{100 + i}")
    assert cluster.bootstrap(6, 1).returncode == 0
    if cluster.cli(0, "role").splitlines()[0] != "master":
        cluster.cli(0, "cluster", "failover")
        cluster.cli(0, "role", wait_for="master")
    cluster.cli(0, "info", "replication", wait_for="state=online")
    env = cluster.env(FAILOVER_WAIT_SECONDS="20")

    def probe(kind: str) -> subprocess.CompletedProcess[str]:
        script = str(cluster.scripts / "probe.sh")
        return subprocess.run(["sh", script, kind], env=env, capture_output=True, text=True, timeout=10)

    assert probe("liveness").returncode == 0
    assert probe("readiness").returncode == 0
    done = subprocess.run(
        ["sh", str(cluster.scripts / "prestop.sh")], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "handing over to replica" in done.stdout
    assert cluster.cli(0, "role").splitlines()[0] == "slave", (
        done.stdout,
        cluster.cli(0, "cluster", "nodes"),
    )
    cluster.cli(1, "cluster", "info", wait_for="cluster_state:ok")
    cluster.stop(0)
    failed = probe("readiness")
    assert failed.returncode == 1 and "readiness probe" in failed.stdout
