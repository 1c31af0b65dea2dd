"""Percona Backup for MongoDB in the mongodb-sharded chart: the chart's backup, agent, restore and
drill scripts run for real, against stand-ins where no package exists and real servers elsewhere.

- Object store: moto's S3 server on 127.0.0.1 (PyPI ``moto[server]``), reached through the real
  S3 API (boto3) — snapshots really land in, are listed from and deleted from a bucket.
- Metrics: a real Prometheus Pushgateway (Debian ``prometheus-pushgateway``) on 127.0.0.1; the
  scripts push with bash's /dev/tcp, the test reads ``/metrics`` back.
- Stand-ins (MongoDB, mongosh and PBM have no package here): ``fake_pbm.py`` for ``pbm`` and
  ``pbm-agent`` (PBM's metadata objects in the real S3 bucket), ``fake_mongosh.js`` for mongosh
  and the scratch cluster, ``mongod``/``mongos`` shims that only run until terminated.

The scripts, their environment and the PBM settings come from the chart rendered with the staging
values and the moto endpoint. Needs node, bash, prometheus-pushgateway and moto.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.catalog.conftest import find, render_with
from tests.conftest import require_tool

pytestmark = pytest.mark.helm

HERE = Path(__file__).parent
FAKE_PBM = HERE / "fake_pbm.py"
FAKE_MONGOSH = HERE / "fake_mongosh.js"
CHART = "mongodb-sharded"
BUCKET = "spotify-ai-agent-staging-backups"
BACKUP_PASSWORD = "b&ck/up %pass"  # percent-encoded by the scripts, checked by the stand-in
S3_KEYS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}  # moto takes any keys


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(command: list[str], url: str) -> subprocess.Popen[bytes]:
    """Starts a server and waits until it answers; fails if another process answers on its port
    (tests of other helpers run servers on 127.0.0.1 too: ours must be the one listening)."""
    proc = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"{command[0]} exited with {proc.returncode} (port taken?)")
        with contextlib.suppress(OSError):
            urllib.request.urlopen(url, timeout=2).close()
            time.sleep(0.3)
            if proc.poll() is None:
                return proc
        time.sleep(0.2)
    proc.kill()
    raise AssertionError(f"{command[0]} did not answer on {url}")


def _stop(proc: subprocess.Popen[Any]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


def _client(url: str) -> Any:
    import boto3  # type: ignore[import-untyped]  # moto's dependency (moto[server] in the dev extras)

    return boto3.client("s3", endpoint_url=url, region_name="eu-west-1", aws_access_key_id="testing",
                        aws_secret_access_key="testing")  # fmt: skip


@pytest.fixture(scope="module")
def s3() -> Iterator[str]:
    """moto's S3 server on a free 127.0.0.1 port; yields its endpoint URL."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    proc = _serve(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], f"{url}/moto-api/"
    )
    _client(url).create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    yield url
    _stop(proc)


@pytest.fixture
def pushgateway(tmp_path: Path) -> Iterator[str]:
    """A real Prometheus Pushgateway on a free 127.0.0.1 port; yields its URL."""
    binary = require_tool("prometheus-pushgateway")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    # Debian builds it with a persistence file under /var/lib: keep this one in memory only
    proc = _serve([binary, f"--web.listen-address=127.0.0.1:{port}", "--persistence.file="], f"{url}/-/ready")
    yield url
    _stop(proc)


def pushed(url: str, job: str) -> dict[str, float]:
    """Metrics of the group job=<job>, database=mongodb-sharded as the Pushgateway exposes them."""
    text = urllib.request.urlopen(f"{url}/metrics", timeout=5).read().decode()
    out = {}
    for line in text.splitlines():
        if line.startswith("#") or f'job="{job}"' not in line or f'database="{CHART}"' not in line:
            continue
        name, value = line.split("{", 1)[0], line.rsplit(" ", 1)[1]
        out[name] = float(value)
    return out


@dataclass
class Chart:
    """The staging rendering with the moto endpoint: scripts and PBM settings, and the pods' env."""

    scripts: dict[str, str]
    objects: list[dict[str, Any]]

    def env_of(self, kind: str, name: str, container: str) -> dict[str, str]:
        (obj,) = find(self.objects, kind, name)
        spec = obj["spec"]
        if "jobTemplate" in spec:
            spec = spec["jobTemplate"]["spec"]
        pod = spec["template"]["spec"]
        (c,) = [c for c in pod.get("initContainers", []) + pod["containers"] if c["name"] == container]
        return {e["name"]: e["value"] for e in c["env"] if "value" in e}


@pytest.fixture(scope="module")
def chart(s3: str) -> Chart:
    require_tool("helm")
    objects = render_with(CHART, "staging", f"backup.s3.endpoint={s3}", "backup.s3.forcePathStyle=true",
                          "restore.enabled=true", "restore.fromPrefix=old-cluster",
                          "restore.fromFullname=old-mongodb-sharded", release="new")  # fmt: skip
    (cm,) = find(objects, "ConfigMap", "-config")
    return Chart(dict(cm["data"]), objects)


@dataclass
class Bench:
    root: Path
    chart: Chart
    s3: str

    @property
    def scripts(self) -> Path:
        return self.root / "scripts"

    def variables(self, base: dict[str, str], **extra: str) -> dict[str, str]:
        inherited = {
            k: v for k, v in os.environ.items() if not k.startswith("AWS_")
        }  # keys only from the files
        return {
            **inherited, **base, "S3_CREDENTIALS_DIR": str(self.root / "s3"),
            "PATH": f"{self.root / 'bin'}{os.pathsep}{os.environ['PATH']}",
            "SECRETS_DIR": str(self.root / "secrets"), "TLS_DIR": str(self.root / "tls"),
            "PBM_CONFIG_FILE": str(self.scripts / "pbm-config.yaml"),
            "PBM_RESTORE_CONFIG_FILE": str(self.scripts / "pbm-restore-config.yaml"),
            "PBM_DRILL_CONFIG_FILE": str(self.scripts / "pbm-drill-config.yaml"),
            "SCRIPTS_DIR": str(self.scripts), "TOPOLOGY_FILE": str(self.scripts / "topology.json"),
            "PBM_STATE": str(self.root / "pbm.json"), "CLUSTER_STATE": str(self.root / "cluster.json"),
            "EXPECT_PASSWORD": BACKUP_PASSWORD, "POLL_SECONDS": "0.2", "HOME": str(self.root),
            **extra,
        }  # fmt: skip

    def run(self, script: str, base: dict[str, str], **extra: str) -> subprocess.CompletedProcess[str]:
        shell = "bash" if script.endswith(".sh") and "scratch" not in script else "sh"
        return subprocess.run([shell, str(self.scripts / script)], env=self.variables(base, **extra),
                              capture_output=True, text=True, timeout=120)  # fmt: skip

    def pbm(self) -> dict[str, Any]:
        return dict(json.loads((self.root / "pbm.json").read_text()))

    def cluster(self, state: dict[str, Any]) -> None:
        (self.root / "cluster.json").write_text(json.dumps(state))

    def snapshots(self, prefix: str) -> list[str]:
        listing = _client(self.s3).list_objects_v2(Bucket=BUCKET, Prefix=f"{prefix}/").get("Contents", [])
        return sorted(o["Key"].removeprefix(f"{prefix}/").removesuffix(".pbm.json") for o in listing
                      if o["Key"].endswith(".pbm.json"))  # fmt: skip

    def clear(self, prefix: str) -> None:
        client = _client(self.s3)
        for o in client.list_objects_v2(Bucket=BUCKET, Prefix=f"{prefix}/").get("Contents", []):
            client.delete_object(Bucket=BUCKET, Key=o["Key"])

    def seed(self, prefix: str, name: str, databases: dict[str, Any]) -> None:
        """A snapshot as PBM stores it: its metadata object and its data."""
        client = _client(self.s3)
        client.put_object(
            Bucket=BUCKET, Key=f"{prefix}/{name}/data.json", Body=json.dumps({"databases": databases})
        )
        meta = {"name": name, "type": "logical", "status": "done"}
        client.put_object(Bucket=BUCKET, Key=f"{prefix}/{name}.pbm.json", Body=json.dumps(meta))


def _shim(path: Path, body: str) -> None:
    path.write_text(body)
    path.chmod(0o755)


@pytest.fixture
def bench(tmp_path: Path, chart: Chart, s3: str) -> Bench:
    require_tool("bash")
    require_tool("node")
    b = Bench(tmp_path, chart, s3)
    b.scripts.mkdir()
    for name, text in chart.scripts.items():
        (b.scripts / name).write_text(text)
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "mongodb-backup-password").write_text(BACKUP_PASSWORD)
    (tmp_path / "tls").mkdir()
    (tmp_path / "s3").mkdir()  # the mounted object-store Secret (backup.credentials.mode secret)
    for key, value in S3_KEYS.items():
        (tmp_path / "s3" / key).write_text(value)
    for prefix in ("mongodb-sharded", "old-cluster"):
        b.clear(prefix)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    _shim(bin_dir / "pbm", f'#!/bin/sh\nexec "{sys.executable}" "{FAKE_PBM}" "$@"\n')
    _shim(bin_dir / "pbm-agent", f'#!/bin/sh\nPBM_FAKE_AS=agent exec "{sys.executable}" "{FAKE_PBM}" "$@"\n')
    _shim(bin_dir / "mongosh",
          '#!/bin/sh\ncase "$*" in *--eval*) exit 0 ;; esac\neval "script=\\${$#}"\n'
          f'exec node "{FAKE_MONGOSH}" "$CLUSTER_STATE" "$script"\n')  # fmt: skip
    for server in ("mongod", "mongos"):
        _shim(bin_dir / server, '#!/bin/sh\necho "$$ $*" >> "$SERVERS_LOG"\nexec sleep 600\n')
    return b


def _stamp(ago: timedelta) -> str:
    return (datetime.now(UTC) - ago).strftime("%Y-%m-%dT%H:%M:%SZ")


APP = {"app": {"events": {"valid": True}, "users": {"valid": True}}}


def _commands(bench: Bench) -> list[str]:
    return [a["action"] for a in bench.pbm()["actions"] if a["action"] != "agent"]


def test_backup_takes_a_snapshot_applies_retention_and_pushes_its_timestamp(
    bench: Bench, pushgateway: str
) -> None:
    base = bench.chart.env_of("CronJob", "-backup", "backup")
    assert base["RETENTION_DAYS"] == "7" and base["CONFIGSVR_RS"] == "new-mongodb-sharded-configsvr"
    old = _stamp(timedelta(days=10))
    bench.seed("mongodb-sharded", old, APP)
    bench.cluster({"databases": APP})
    failed = bench.run("pbm-backup.sh", base, PUSHGATEWAY_URL=pushgateway, EXPECT_PASSWORD="another")
    assert failed.returncode != 0 and "authentication failed" in failed.stderr
    assert pushed(pushgateway, "backup") == {}  # no success to report

    done = bench.run("pbm-backup.sh", base, PUSHGATEWAY_URL=pushgateway)
    assert done.returncode == 0, done.stdout + done.stderr
    (snapshot,) = bench.snapshots("mongodb-sharded")  # the 10-day-old one is past the 7-day retention
    assert snapshot != old and snapshot >= _stamp(timedelta(minutes=1))
    assert _commands(bench)[-3:] == [
        f"config --file {bench.scripts}/pbm-config.yaml",
        "backup --type=logical --compression=s2 --wait",
        "cleanup --older-than=7d --yes --wait",
    ]
    config = bench.pbm()["config"]
    assert config["pitr"]["enabled"] is True and config["storage"]["s3"]["prefix"] == "mongodb-sharded"
    assert config["storage"]["s3"]["endpointUrl"] == bench.s3
    last = bench.pbm()["actions"][-1]
    assert last["user"] == "backup" and "replicaSet=new-mongodb-sharded-configsvr" in last["query"]
    assert "tls=true" in last["query"]  # staging runs TLS
    metrics = pushed(pushgateway, "backup")
    assert abs(metrics["backup_last_success_timestamp_seconds"] - time.time()) < 60


def test_pbm_agent_talks_to_its_own_mongod_and_restarts_with_a_rotated_password(bench: Bench) -> None:
    base = bench.chart.env_of("StatefulSet", "-shard0", "pbm-agent")
    assert base["MONGO_PORT"] == "27018"
    known = bench.root / "mongod-knows"  # the backup user's password in mongod
    known.write_text(BACKUP_PASSWORD)
    proc = subprocess.Popen(["bash", str(bench.scripts / "pbm-agent.sh")], start_new_session=True,
                            env=bench.variables(base, RELOAD_INTERVAL_SECONDS="1", EXPECT_PASSWORD_FILE=str(known),
                                                PID_FILE=str(bench.root / "agent.pid")))  # fmt: skip
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not (bench.root / "pbm.json").exists():
            time.sleep(0.1)
        time.sleep(0.5)
        (first,) = [a for a in bench.pbm()["actions"] if a["action"] == "agent"]
        assert first["node"] == "localhost:27018" and first["user"] == "backup"
        assert first["key"] == "testing"  # the object-store key from the mounted file
        assert "directConnection=true" in first["query"] and "tls=true" in first["query"]
        old_pid = int((bench.root / "agent.pid").read_text())
        (bench.root / "secrets" / "mongodb-backup-password").write_text("r0tated")
        known.write_text("r0tated")  # the first config server's updateUser (tested in the scripts tests)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and int((bench.root / "agent.pid").read_text()) == old_pid:
            time.sleep(0.1)
        new_pid = int((bench.root / "agent.pid").read_text())
        assert new_pid != old_pid and proc.poll() is None
        deadline = time.monotonic() + 15
        while (
            time.monotonic() < deadline
            and len([a for a in bench.pbm()["actions"] if a["action"] == "agent"]) < 2
        ):
            time.sleep(0.1)
        assert len([a for a in bench.pbm()["actions"] if a["action"] == "agent"]) == 2  # reconnected
        with pytest.raises(ProcessLookupError):
            os.kill(old_pid, 0)
        # rotated object-store keys restart it too, with the new key
        (bench.root / "s3" / "AWS_ACCESS_KEY_ID").write_text("rotated-key")
        deadline = time.monotonic() + 15
        while (
            time.monotonic() < deadline
            and len([a for a in bench.pbm()["actions"] if a["action"] == "agent"]) < 3
        ):
            time.sleep(0.1)
        assert [a["key"] for a in bench.pbm()["actions"] if a["action"] == "agent"] == [
            "testing",
            "testing",
            "rotated-key",
        ]
        new_pid = int((bench.root / "agent.pid").read_text())
    finally:
        os.kill(proc.pid, signal.SIGTERM)
        status = proc.wait(timeout=15)
    assert status == 0
    with pytest.raises(ProcessLookupError):
        os.kill(new_pid, 0)


def _agents(bench: Bench, count: int) -> None:
    """The pbm-agent sidecars of a running cluster, as registered in PBM's state."""
    (bench.root / "pbm.json").write_text(
        json.dumps({"actions": [], "agents": {f"member-{i}": 0 for i in range(count)}})
    )


def test_restore_hook_restores_the_newest_snapshot_under_the_new_replica_set_names(bench: Bench) -> None:
    base = bench.chart.env_of("Job", "-restore", "restore")
    remap = ",".join(
        f"new-mongodb-sharded-{c}=old-mongodb-sharded-{c}" for c in ("configsvr", "shard0", "shard1")
    )
    assert base["REPLSET_REMAPPING"] == remap
    older, newer = _stamp(timedelta(days=2)), _stamp(timedelta(days=1))
    bench.seed("old-cluster", older, {"app": {"v1": {"valid": True}}})
    bench.seed("old-cluster", newer, {"app": {"v2": {"valid": True}}})
    bench.cluster({"replicaSets": {"cfg": {}, "s0": {}, "s1": {}}})
    _agents(bench, 3)
    done = bench.run("pbm-restore.sh", base, WAIT_SECONDS="10")
    assert done.returncode == 0, done.stdout + done.stderr
    assert _commands(bench) == [
        f"config --file {bench.scripts}/pbm-restore-config.yaml",
        "config --force-resync",
        "list -o json",
        f"restore {newer} --wait --replset-remapping={remap}",
        f"config --file {bench.scripts}/pbm-config.yaml",
    ]
    assert json.loads((bench.root / "cluster.json").read_text())["databases"] == {
        "app": {"v2": {"valid": True}}
    }
    config = bench.pbm()["config"]  # back to its own prefix, PITR on again
    assert config["storage"]["s3"]["prefix"] == "mongodb-sharded" and config["pitr"]["enabled"] is True


def test_restore_hook_recovers_to_a_point_in_time(bench: Bench) -> None:
    base = bench.chart.env_of("Job", "-restore", "restore")
    older, newer = _stamp(timedelta(days=2)), _stamp(timedelta(days=1))
    bench.seed("old-cluster", older, {"app": {"v1": {"valid": True}}})
    bench.seed("old-cluster", newer, {"app": {"v2": {"valid": True}}})
    bench.cluster({"replicaSets": {"cfg": {}, "s0": {}, "s1": {}}})
    _agents(bench, 3)
    target = (datetime.now(UTC) - timedelta(days=1, hours=12)).strftime("%Y-%m-%dT%H:%M:%S")
    done = bench.run("pbm-restore.sh", base, RESTORE_TARGET_TIME=target, WAIT_SECONDS="10")
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"restore --time={target} --wait --replset-remapping={base['REPLSET_REMAPPING']}" in _commands(
        bench
    )
    assert json.loads((bench.root / "cluster.json").read_text())["databases"] == {
        "app": {"v1": {"valid": True}}
    }


def test_restore_hook_fails_when_the_source_has_no_snapshot(bench: Bench) -> None:
    base = bench.chart.env_of("Job", "-restore", "restore")
    bench.cluster({"replicaSets": {"cfg": {}}})
    _agents(bench, 1)
    done = bench.run("pbm-restore.sh", base, WAIT_SECONDS="1")
    assert done.returncode == 1 and "no completed snapshot" in done.stderr
    assert not [c for c in _commands(bench) if c.startswith("restore")]


def _scratch_cluster(bench: Bench) -> dict[str, Any]:
    topology = json.loads(bench.chart.scripts["topology.json"])
    names = [topology["configsvr"]["name"]] + [s["name"] for s in topology["shards"]]
    return {
        "keyfile": "", "noAuth": True, "mongos": "127.0.0.1:27017", "shards": [], "balancer": "full", "actions": [],
        "replicaSets": {n: {"members": [f"127.0.0.1:{27019 + i}"], "initiated": False, "config": None, "users": {}}
                        for i, n in enumerate(names)},
    }  # fmt: skip


def _drill(bench: Bench, pushgateway: str, wait: str = "30") -> tuple[int, int, str]:
    shared, scratch = bench.root / "shared", bench.root / "scratch"
    shared.mkdir()
    scratch.mkdir()
    common = {"SHARED_DIR": str(shared), "SCRATCH_DIR": str(scratch), "SERVERS_LOG": str(bench.root / "servers"),
              "PUSHGATEWAY_URL": pushgateway, "WAIT_SECONDS": wait, "RESTORE_SECONDS": "1",
              "MEMORY_LIMIT_MB": "4096"}  # fmt: skip
    scratch_env = bench.variables(bench.chart.env_of("CronJob", "-drill", "scratch"), **common)
    drill_env = bench.variables(bench.chart.env_of("CronJob", "-drill", "drill"), **common)
    del drill_env["EXPECT_PASSWORD"]  # the scratch cluster has no users: no credentials in the URIs
    with (bench.root / "scratch.log").open("w") as log_a, (bench.root / "drill.log").open("w") as log_b:
        side = subprocess.Popen(["sh", str(bench.scripts / "drill-scratch.sh")], env=scratch_env, stdout=log_a,
                                stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        drill = subprocess.Popen(["bash", str(bench.scripts / "drill.sh")], env=drill_env, stdout=log_b,
                                 stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        try:
            drill_status = drill.wait(timeout=240)  # generous: CI machines are shared
            side_status = side.wait(timeout=30)
        finally:
            for proc in (side, drill):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
    logs = (bench.root / "scratch.log").read_text() + (bench.root / "drill.log").read_text()
    return drill_status, side_status, logs


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def test_drill_restores_the_newest_snapshot_checks_it_tears_down_and_pushes_metrics(
    bench: Bench, pushgateway: str
) -> None:
    bench.seed("mongodb-sharded", _stamp(timedelta(days=3)), {"old": {"gone": {"valid": True}}})
    bench.seed("mongodb-sharded", _stamp(timedelta(hours=5)), APP)
    bench.cluster(_scratch_cluster(bench))
    drill, side, logs = _drill(bench, pushgateway)
    assert drill == 0 and side == 0, logs
    assert "drill: 1 databases, 2 collections valid" in logs
    metrics = pushed(pushgateway, "dr-drill")
    assert metrics["dr_drill_success"] == 1
    assert 1 <= metrics["dr_drill_restore_duration_seconds"] < 120  # measured (the stand-in takes 1 s)
    assert metrics["dr_drill_recovery_objective_seconds"] == 1800
    assert abs(metrics["dr_drill_last_success_timestamp_seconds"] - time.time()) < 120
    assert (
        metrics["dr_drill_last_run_timestamp_seconds"] == metrics["dr_drill_last_success_timestamp_seconds"]
    )
    cluster = json.loads((bench.root / "cluster.json").read_text())
    assert cluster["databases"] == APP  # the newest snapshot, not the older one
    kinds = [(a["action"], a.get("rs") or a.get("name") or "") for a in cluster["actions"]]
    names = list(_scratch_cluster(bench)["replicaSets"])
    assert [k for k in kinds if k[0] == "replSetInitiate"] == [("replSetInitiate", n) for n in names]
    assert [k for k in kinds if k[0] == "addShard"] == [("addShard", n) for n in names[1:]]
    assert ("balancerStop", "") in kinds
    assert sorted(bench.pbm()["agents"]) == [f"127.0.0.1:{27019 + i}" for i in range(len(names))]
    assert bench.pbm()["config"]["pitr"]["enabled"] is False  # the drill never writes oplog slices
    servers = (bench.root / "servers").read_text().splitlines()
    assert len(servers) == len(names) + 1  # every scratch mongod and the router ...
    assert all(_gone(int(line.split()[0])) for line in servers)  # ... torn down
    assert all(_gone(pid) for pid in bench.pbm()["agents"].values())


def test_a_drill_whose_restored_data_fails_validation_reports_failure(bench: Bench, pushgateway: str) -> None:
    bench.seed("mongodb-sharded", _stamp(timedelta(hours=5)), {"app": {"events": {"valid": False}}})
    bench.cluster(_scratch_cluster(bench))
    drill, side, logs = _drill(bench, pushgateway)
    assert drill == 1 and side == 0, logs
    assert "integrity check failed" in logs and "validate app.events: not valid" in logs
    metrics = pushed(pushgateway, "dr-drill")
    assert metrics["dr_drill_success"] == 0
    assert "dr_drill_last_success_timestamp_seconds" not in metrics  # the last success stays what it was
    assert "dr_drill_restore_duration_seconds" not in metrics


def test_a_drill_without_any_backup_fails(bench: Bench, pushgateway: str) -> None:
    bench.cluster(_scratch_cluster(bench))
    drill, side, logs = _drill(bench, pushgateway, wait="3")
    assert drill == 1 and side == 0, logs
    assert "no completed snapshot in the backup storage" in logs
    assert pushed(pushgateway, "dr-drill")["dr_drill_success"] == 0
