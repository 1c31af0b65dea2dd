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
import ssl
import struct
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

PG_BIN = Path("/usr/lib/postgresql/15/bin")
ROOT_CHARTS = Path(__file__).resolve().parents[2] / "charts"


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


def demote() -> None:
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
            with contextlib.suppress(FileNotFoundError):  # a running server's temporary files
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


def spawn(
    argv: list[str], log: Path, pidfile: Path, env: dict[str, str] | None = None, as_server: bool = True
) -> int:
    """Start ``argv`` in its own session (as the servers' user unless ``as_server`` is false); its
    pid goes to ``pidfile``."""
    out = log.open("ab")
    proc = subprocess.Popen(
        argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=demote if as_server else None,
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
    """``argv`` as the servers' user (output captured as text; 60 s unless ``timeout`` is given)."""
    kw.setdefault("timeout", 60)
    return subprocess.run(argv, preexec_fn=demote, capture_output=True, text=True, **kw)


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
        """Start the member at the target revision. Patroni's REST credentials are in its
        configuration file (restapi.authentication), as the chart's SPILO_CONFIGURATION puts them
        into Spilo's /run/postgres.yml; no PATRONI_* variable reaches Patroni (Spilo drops them)."""
        d = self.dir(member)
        (d / "revision").write_text(self.target_revision())
        spawn(["patroni", str(d / "patroni.yaml")], d / "patroni.log", d / "patroni.pid")

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


def load_update_module(directory: Path) -> Any:
    """The chart's update.py (written to ``directory`` from the rendered ConfigMap) as a module."""
    spec = importlib.util.spec_from_file_location("chart_update", directory / "update.py")
    assert spec and spec.loader
    update = importlib.util.module_from_spec(spec)
    sys.modules["chart_update"] = update
    spec.loader.exec_module(update)
    return update


def run_update(root_dir: str) -> int:
    """Entry point of the update script's subprocess: the chart's update.py (``root/update.py``,
    taken from the rendered ConfigMap) with the local platform and the real Patroni REST API."""
    root = Path(root_dir)
    update = load_update_module(root)
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
    root: Path, etcd_port: int, names: list[str], dcs: dict[str, Any], restapi: dict[str, Any] | None = None
) -> dict[str, int]:
    """Patroni configurations of ``names`` (one REST and one PostgreSQL port each); returns REST ports.

    ``restapi`` is merged into each member's ``restapi`` section (default: the REST API
    credentials PATRONI_USER/PATRONI_PASSWORD in ``authentication``)."""
    restapi = restapi or {"authentication": {"username": PATRONI_USER, "password": PATRONI_PASSWORD}}
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
            "restapi": {"listen": f"127.0.0.1:{rest}", "connect_address": f"127.0.0.1:{rest}", **restapi},
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


# --- certificates and kubelet-style Secret volumes --------------------------------------------


def make_ca(d: Path) -> tuple[Path, Path]:
    key, crt = d / "ca.key", d / "ca.crt"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(crt), "-days", "2", "-subj", "/CN=chartforge test CA"],
        check=True, capture_output=True,
    )  # fmt: skip
    return key, crt


def make_cert(d: Path, ca: tuple[Path, Path], name: str, serial: int) -> dict[str, bytes]:
    """A server certificate for localhost/127.0.0.1 signed by ``ca``: the files of a kubernetes.io/tls Secret."""
    key, csr, crt, ext = d / f"{name}.key", d / f"{name}.csr", d / f"{name}.crt", d / f"{name}.ext"
    ext.write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    subprocess.run(
        ["openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
         "-keyout", str(key), "-out", str(csr), "-subj", "/CN=localhost"],
        check=True, capture_output=True,
    )  # fmt: skip
    subprocess.run(
        ["openssl", "x509", "-req", "-in", str(csr), "-CA", str(ca[1]), "-CAkey", str(ca[0]),
         "-set_serial", str(serial), "-days", "1", "-extfile", str(ext), "-out", str(crt)],
        check=True, capture_output=True,
    )  # fmt: skip
    return {"tls.crt": crt.read_bytes(), "tls.key": key.read_bytes(), "ca.crt": ca[1].read_bytes()}


def kubelet_mount(mount: Path, files: dict[str, bytes], mode: int = 0o640) -> None:
    """Write ``files`` into ``mount`` the way the kubelet updates a Secret volume: a new
    timestamped directory, then an atomic rename of the ``..data`` symlink onto it; the
    visible names are symlinks through ``..data``."""
    mount.mkdir(exist_ok=True)
    version = mount / f"..{time.strftime('%Y_%m_%d_%H_%M_%S')}.{time.monotonic_ns()}"
    version.mkdir()
    for name, content in files.items():
        (version / name).write_bytes(content)
        (version / name).chmod(mode)
    give(mount)
    tmp = mount / "..data_tmp"
    tmp.symlink_to(version.name)
    os.rename(tmp, mount / "..data")
    for name in files:
        link = mount / name
        if not link.is_symlink():
            link.symlink_to(f"..data/{name}")


def presented_serial(port: int) -> int:
    """Serial of the certificate a PostgreSQL-protocol server presents in a new TLS handshake."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(struct.pack("!ii", 8, 80877103))  # SSLRequest
        assert sock.recv(1) == b"S", "the server refused TLS"
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with context.wrap_socket(sock) as tls:
            der = tls.getpeercert(binary_form=True)
    assert der
    out = subprocess.run(
        ["openssl", "x509", "-noout", "-serial"], input=ssl.DER_cert_to_PEM_cert(der), capture_output=True,
        text=True, check=True,
    )  # fmt: skip
    return int(out.stdout.strip().split("=", 1)[1], 16)


# --- a plain PostgreSQL server ----------------------------------------------------------------


def start_postgres(d: Path, tls: dict[str, bytes] | None = None, extra: tuple[str, ...] = ()) -> int:
    """initdb + postgres on a free port (socket in ``d``), SCRAM for TCP, TLS when ``tls`` is given,
    ``extra`` postgresql.conf lines."""
    port = free_port()
    data = d / "data"
    d.mkdir(exist_ok=True)
    give(d)
    run_as([str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "--auth-local=trust",
            "--auth-host=scram-sha-256"], check=True)  # fmt: skip
    conf = [f"port = {port}", "listen_addresses = '127.0.0.1'", f"unix_socket_directories = '{d}'"]
    if tls:
        for name, content in tls.items():
            (data / name).write_bytes(content)
            (data / name).chmod(0o600)
        give(data)
        conf += [
            "ssl = on",
            "ssl_cert_file = 'tls.crt'",
            "ssl_key_file = 'tls.key'",
            "ssl_ca_file = 'ca.crt'",
        ]
    with (data / "postgresql.conf").open("a") as f:
        f.write("\n".join([*conf, *extra]) + "\n")
    spawn([str(PG_BIN / "postgres"), "-D", str(data)], d / "postgres.log", d / "server.pid")
    wait_for(lambda: port_open(port), 30, "postgres")
    return port


def psql(d: Path, port: int, sql: str, user: str = "postgres", db: str = "postgres") -> str:
    out = run_as(
        [str(PG_BIN / "psql"), "-h", str(d), "-p", str(port), "-U", user, "-XtAc", sql, db], check=True
    )
    return out.stdout.strip()


def patroni_healthy(rest_ports: dict[str, int]) -> bool:
    """One running leader and every other member a replica in sync (lag 0), per Patroni's /cluster."""
    for port in rest_ports.values():
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/cluster", timeout=5) as r:
                members = json.load(r)["members"]
            break
        except OSError:
            continue
    else:
        return False
    leaders = [m for m in members if m["role"] == "leader" and m["state"] == "running"]
    replicas = [m for m in members if m["role"] != "leader" and m["state"] in ("running", "streaming")]
    return (
        len(leaders) == 1
        and len(replicas) == len(rest_ports) - 1
        and all(m.get("lag") == 0 for m in replicas)
    )
