"""mongodb-sharded's exporter wrapper (files/scripts/exporter.sh): a rotated metrics password
restarts only the exporter process.

mongodb_exporter has no package here: the exporter is a stand-in process (a Python script) that
records its pid, arguments and the MONGODB_USER/MONGODB_PASSWORD it was started with, then runs
until SIGTERM — the behaviour the wrapper relies on (the real exporter reads its password once,
at start). The wrapper is the script the chart renders into its ConfigMap, run by /bin/sh (the
pod runs it with a static busybox's sh; the script is POSIX), with the arguments and environment
the rendered metrics container gives it. The password file is mounted the way the kubelet does
(``..data`` symlink swapped atomically).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.catalog import pg_servers as pg
from tests.catalog.conftest import find, render_with

pytestmark = pytest.mark.helm

CHART = "mongodb-sharded"
INTERVAL = 1  # RELOAD_INTERVAL_SECONDS under test (tls.reloadIntervalSeconds: 30 s by default)
STAND_IN = """\
import json, os, signal, sys, time
record = {"pid": os.getpid(), "argv": sys.argv[1:], "user": os.environ.get("MONGODB_USER"),
          "password": os.environ.get("MONGODB_PASSWORD")}
with open(os.environ["STAND_IN_LOG"], "a") as f:
    f.write(json.dumps(record) + "\\n")
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    time.sleep(60)
"""


def metrics_container(
    objects: list[dict[str, Any]], kind: str, name: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    (workload,) = find(objects, kind, name)
    pod = workload["spec"]["template"]["spec"]
    (container,) = [c for c in pod["containers"] if c["name"] == "metrics"]
    return pod, container


@pytest.mark.parametrize(
    ("kind", "name"), [("StatefulSet", "-configsvr"), ("StatefulSet", "-shard0"), ("Deployment", "-mongos")]
)
def test_exporter_runs_under_the_wrapper_with_a_file_password(kind: str, name: str) -> None:
    objects = render_with(CHART, "production")
    pod, container = metrics_container(objects, kind, name)
    assert container["command"] == ["/opt/exporter/busybox", "sh", "/opt/mongo/config/exporter.sh"]
    env = {e["name"]: e for e in container["env"]}
    assert "MONGODB_PASSWORD" not in env, "a password from the environment cannot change without a restart"
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    volumes = {v["name"]: v for v in pod["volumes"]}
    password_dir, password_name = env["PASSWORD_FILE"]["value"].rsplit("/", 1)
    secret = volumes[mounts[password_dir]]["secret"]
    assert secret["items"] == [{"key": "mongodb-metrics-password", "path": password_name}]  # nothing else
    (shell,) = [c for c in pod["initContainers"] if c["name"] == "exporter-shell"]
    assert shell["command"] == ["/bin/busybox", "cp", "/bin/busybox", f"{env['BUSYBOX']['value']}"]
    assert mounts["/opt/exporter"] == "exporter-shell" and "emptyDir" in volumes["exporter-shell"]
    assert "exporter.sh" in find(objects, "ConfigMap", "-config")[0]["data"]


class Wrapper:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.log = root / "stand-in.jsonl"
        self.proc: subprocess.Popen[bytes] | None = None

    def records(self) -> list[dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.strip()]


@pytest.fixture
def wrapper(tmp_path: Path) -> Iterator[tuple[Wrapper, list[str]]]:
    objects = render_with(CHART, "production")
    _, container = metrics_container(objects, "Deployment", "-mongos")
    script = tmp_path / "exporter.sh"
    script.write_text(find(objects, "ConfigMap", "-config")[0]["data"]["exporter.sh"])
    stand_in = tmp_path / "mongodb_exporter"
    stand_in.write_text(f"#!{sys.executable}\n{STAND_IN}")
    stand_in.chmod(0o755)
    w = Wrapper(tmp_path)
    pg.kubelet_mount(tmp_path / "metrics", {"mongodb-metrics-password": b"first-password"})
    rendered_env = {e["name"]: e.get("value", "") for e in container["env"]}
    env = {
        **{k: v for k, v in os.environ.items() if k != "MONGODB_PASSWORD"},
        **rendered_env,
        "PASSWORD_FILE": str(tmp_path / "metrics" / "mongodb-metrics-password"),
        "RELOAD_INTERVAL_SECONDS": str(INTERVAL),
        "EXPORTER_BINARY": str(stand_in),
        "BUSYBOX": "",  # the system's cat/cksum/sleep instead of busybox applets
        "STAND_IN_LOG": str(w.log),
    }
    w.proc = subprocess.Popen(["/bin/sh", str(script), *container["args"]], env=env, start_new_session=True)
    try:
        yield w, list(container["args"])
    finally:
        if w.proc.poll() is None:
            os.killpg(w.proc.pid, signal.SIGKILL)
            w.proc.wait(timeout=10)
        for record in w.records():
            if pg.alive(record["pid"]):
                os.kill(record["pid"], signal.SIGKILL)


def test_rotated_password_restarts_only_the_exporter(wrapper: tuple[Wrapper, list[str]]) -> None:
    w, args = wrapper
    assert w.proc is not None
    pg.wait_for(lambda: len(w.records()) == 1, 10, "the exporter to start")
    (first,) = w.records()
    assert first["password"] == "first-password" and first["user"] == "metrics" and first["argv"] == args
    environ = Path(f"/proc/{w.proc.pid}/environ").read_bytes().split(b"\0")
    assert not any(e.startswith(b"MONGODB_PASSWORD=") for e in environ), (
        "the wrapper keeps the password in its environment"
    )
    time.sleep(INTERVAL * 2.5)  # a few unchanged checks: no restart
    assert len(w.records()) == 1
    pg.kubelet_mount(w.root / "metrics", {"mongodb-metrics-password": b"second: p@ss'word"})
    swapped = time.monotonic()
    pg.wait_for(lambda: len(w.records()) == 2, 10, "a new exporter with the new password", poll=0.05)
    took = time.monotonic() - swapped
    second = w.records()[1]
    assert second["password"] == "second: p@ss'word" and second["argv"] == args
    assert second["pid"] != first["pid"]
    pg.wait_for(lambda: not pg.alive(first["pid"]), 5, "the old exporter to stop")
    print(f"exporter restarted with the new password {took:.2f}s after the swap")
    assert took < INTERVAL + 2, f"restart took {took:.1f}s"
    assert w.proc.poll() is None, "the wrapper (the container's main process) exited"
    time.sleep(INTERVAL * 2.5)
    assert len(w.records()) == 2 and pg.alive(second["pid"])
    # SIGTERM from the kubelet: the wrapper stops the exporter and exits 0.
    w.proc.send_signal(signal.SIGTERM)
    assert w.proc.wait(timeout=10) == 0
    pg.wait_for(lambda: not pg.alive(second["pid"]), 5, "the exporter to stop with the container")


def test_an_exporter_that_dies_ends_the_container(wrapper: tuple[Wrapper, list[str]]) -> None:
    """The wrapper does not hide a crashing exporter: it exits with its status, and the kubelet
    restarts the container as it would a bare exporter."""
    w, _ = wrapper
    assert w.proc is not None
    pg.wait_for(lambda: len(w.records()) == 1, 10, "the exporter to start")
    os.kill(w.records()[0]["pid"], signal.SIGKILL)
    assert w.proc.wait(timeout=INTERVAL + 10) == 128 + signal.SIGKILL
