"""Real PostgreSQL-side servers for the postgresql-ha script tests: etcd, Patroni members, PostgreSQL, PgBouncer.

Everything listens on free 127.0.0.1 ports inside one scratch directory. PostgreSQL refuses to
run as root, so when the tests run as root the servers run as the ``postgres`` user (Debian's
package creates it) and the scratch directory is given to it. Processes are started in their own
session and tracked by pid files, so a process started by a helper subprocess (the update
script's test platform) can be stopped by the test and vice versa.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

PG_BIN = Path("/usr/lib/postgresql/15/bin")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _postgres_ids() -> tuple[int, int] | None:
    """(uid, gid) to run servers as when we are root, else None (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    pw = pwd.getpwnam("postgres")
    return pw.pw_uid, pw.pw_gid


def _demote() -> None:
    ids = _postgres_ids()
    if ids:
        os.setgid(ids[1])
        os.setgroups([])
        os.setuid(ids[0])


def give(path: Path) -> None:
    """Hand ``path`` (recursively) to the user the servers run as."""
    ids = _postgres_ids()
    if ids:
        for p in [path, *path.rglob("*")]:
            os.chown(p, *ids, follow_symlinks=False)


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    """A scratch directory the servers' user can use (pytest's tmp_path is root-only under root)."""
    root = Path(tempfile.mkdtemp(prefix="chartforge-pg-", dir="/tmp"))
    root.chmod(0o755)
    give(root)
    try:
        yield root
    finally:
        for pidfile in root.rglob("*.pid"):  # Patroni, etcd, PgBouncer (not postmaster.pid)
            stop_pidfile(pidfile, signal.SIGKILL, timeout=10)
        for postmaster in root.rglob("postmaster.pid"):  # postgres started by Patroni outlives it
            run_as([str(PG_BIN / "pg_ctl"), "stop", "-m", "immediate", "-D", str(postmaster.parent)])
        shutil.rmtree(root, ignore_errors=True)


def spawn(argv: list[str], log: Path, pidfile: Path, env: dict[str, str] | None = None) -> int:
    """Start ``argv`` in its own session as the servers' user; its pid goes to ``pidfile``."""
    out = log.open("ab")
    proc = subprocess.Popen(
        argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=_demote,
        start_new_session=True, env={**os.environ, **(env or {})}, cwd=log.parent,
    )  # fmt: skip
    out.close()
    pidfile.write_text(str(proc.pid))
    return proc.pid


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def stop_pidfile(pidfile: Path, sig: int = signal.SIGTERM, timeout: float = 30) -> None:
    try:
        pid = int(pidfile.read_text())
    except (OSError, ValueError):
        return
    if alive(pid):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, sig)
    wait_for(lambda: not alive(pid), timeout, f"process {pid} to exit")
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def wait_for(done: Callable[[], bool], timeout: float, what: str, poll: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(poll)


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def run_as(argv: list[str], **kw: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, preexec_fn=_demote, capture_output=True, text=True, timeout=60, **kw)


# --- etcd ------------------------------------------------------------------------------------


def start_etcd(root: Path) -> int:
    client, peer = free_port(), free_port()
    d = root / "etcd"
    d.mkdir()
    give(d)
    spawn(
        ["etcd", "--name", "e0", "--data-dir", str(d / "data"),
         "--listen-client-urls", f"http://127.0.0.1:{client}", "--advertise-client-urls", f"http://127.0.0.1:{client}",
         "--listen-peer-urls", f"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
         "--initial-cluster", f"e0=http://127.0.0.1:{peer}"],
        d / "etcd.log", d / "etcd.pid",
    )  # fmt: skip
    wait_for(lambda: port_open(client), 30, "etcd")
    return client


# --- Patroni members -------------------------------------------------------------------------

PATRONI_USER, PATRONI_PASSWORD = "patroni", "rest-api-secret"
SUPERUSER_PASSWORD, REPLICATION_PASSWORD = "superuser-secret", "replication-secret"


class LocalPlatform:
    """The update script's Platform, for Patroni members that are local processes.

    "Deleting a pod" stops the member's Patroni (SIGTERM, as the kubelet does); the test's
    ``Controller`` (the StatefulSet controller's part) starts any stopped member again at the
    target revision, which stands for the new pod template. The state is on disk
    (``members.json``, ``target-revision``, each member's ``revision`` and pid file), so the
    update script can run in a subprocess and be killed while the test keeps the cluster.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self.spec: dict[str, Any] = json.loads((root / "members.json").read_text())

    def members(self) -> list[str]:
        return list(self.spec["members"])

    def target_revision(self) -> str:
        return (self.root / "target-revision").read_text().strip()

    def dir(self, member: str) -> Path:
        return self.root / member

    def pid(self, member: str) -> int | None:
        try:
            pid = int((self.dir(member) / "patroni.pid").read_text())
        except (OSError, ValueError):
            return None
        return pid if alive(pid) else None

    def revision(self, member: str) -> str | None:
        if self.pid(member) is None:
            return None
        return (self.dir(member) / "revision").read_text().strip()

    def start(self, member: str) -> None:
        """Start the member at the target revision; Patroni's REST credentials come from the
        environment, as the chart's PATRONI_RESTAPI_USERNAME/PASSWORD do."""
        d = self.dir(member)
        (d / "revision").write_text(self.target_revision())
        env = {"PATRONI_RESTAPI_USERNAME": PATRONI_USER, "PATRONI_RESTAPI_PASSWORD": PATRONI_PASSWORD}
        spawn(["patroni", str(d / "patroni.yaml")], d / "patroni.log", d / "patroni.pid", env=env)

    def replace(self, member: str) -> None:
        stop_pidfile(self.dir(member) / "patroni.pid", signal.SIGTERM, timeout=60)


class Controller:
    """The StatefulSet controller's part: a member whose process is gone is started again."""

    def __init__(self, platform: LocalPlatform) -> None:
        self.platform = platform
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self.stopped.wait(0.3):
            for member in self.platform.members():
                if self.platform.pid(member) is None:
                    self.platform.start(member)

    def __enter__(self) -> Controller:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stopped.set()
        self.thread.join()


def run_update(root_dir: str) -> int:
    """Entry point of the update script's subprocess: the chart's update.py (``root/update.py``,
    taken from the rendered ConfigMap) with the local platform and the real Patroni REST API."""
    root = Path(root_dir)
    spec = importlib.util.spec_from_file_location("chart_update", root / "update.py")
    assert spec and spec.loader
    update = importlib.util.module_from_spec(spec)
    sys.modules["chart_update"] = update
    spec.loader.exec_module(update)
    platform = LocalPlatform(root)
    seeds = [f"http://127.0.0.1:{m['rest']}" for m in platform.spec["members"].values()]
    patroni = update.Patroni(seeds, PATRONI_USER, PATRONI_PASSWORD)
    options = update.Options(max_lag_bytes=16 * 1024 * 1024, member_timeout=60, poll=0.5)
    desired = json.loads((root / "dcs.json").read_text())
    try:
        n = update.Updater(platform, patroni, options).run(desired)
    except update.UpdateError as e:
        update.log(f"error: {e}")
        return 1
    update.log(f"done ({n} switchovers)")
    return 0


def write_patroni_cluster(
    root: Path, etcd_port: int, names: list[str], dcs: dict[str, Any]
) -> dict[str, int]:
    """Patroni configurations of ``names`` (one REST and one PostgreSQL port each); returns REST ports."""
    rest_ports: dict[str, int] = {}
    members: dict[str, Any] = {}
    for name in names:
        rest, pg = free_port(), free_port()
        rest_ports[name] = rest
        d = root / name
        d.mkdir()
        config = {
            "scope": "chartforge-test",
            "name": name,
            "restapi": {"listen": f"127.0.0.1:{rest}", "connect_address": f"127.0.0.1:{rest}"},
            "etcd3": {"hosts": f"127.0.0.1:{etcd_port}"},
            "bootstrap": {"dcs": dcs, "initdb": [{"encoding": "UTF8"}, {"auth": "scram-sha-256"}]},
            "postgresql": {
                "listen": f"127.0.0.1:{pg}",
                "connect_address": f"127.0.0.1:{pg}",
                "data_dir": str(d / "data"),
                "bin_dir": str(PG_BIN),
                "pgpass": str(d / "pgpass"),
                "authentication": {
                    "superuser": {"username": "postgres", "password": SUPERUSER_PASSWORD},
                    "replication": {"username": "standby", "password": REPLICATION_PASSWORD},
                    "rewind": {"username": "postgres", "password": SUPERUSER_PASSWORD},
                },
                "parameters": {"unix_socket_directories": str(d)},
                "pg_hba": [
                    "local all all trust",
                    "host replication standby 127.0.0.1/32 scram-sha-256",
                    "host all all 127.0.0.1/32 scram-sha-256",
                ],
            },
        }
        (d / "patroni.yaml").write_text(yaml.safe_dump(config))
        members[name] = {"rest": rest, "pg": pg}
    (root / "members.json").write_text(json.dumps({"members": members}))
    give(root)
    return rest_ports
