"""Rotation without restarts, run for real: the redis-cluster chart's reloader sidecar
(files/scripts/reloader.sh, taken from the rendered ConfigMap) against Debian's redis-server.

- TLS: a node runs with certificate A from a CA made with openssl; the mounted Secret is replaced
  by certificate B the way the kubelet does it (new timestamped directory, atomic rename of the
  ``..data`` symlink); a new handshake must present B's serial within the reload interval, and a
  connection opened before the swap must keep working.
- Password: a 3 x 1 cluster (bootstrap.sh) whose Secret changes on half of the pods first (the
  kubelet refreshes pods at different times): both passwords work while the switch is under way,
  replication keeps authenticating, the probes never fail, and the old password is refused once
  every node uses the new one and the overlap has passed.

Needs redis-server/redis-cli (built with TLS, as Debian's are) and openssl.
"""

from __future__ import annotations

import json
import os
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from tests.catalog.conftest import find, render_with
from tests.catalog.test_redis_cluster_scripts import PASSWORD, Cluster, make_cluster
from tests.conftest import require_tool

pytestmark = [pytest.mark.helm, pytest.mark.slow]

INTERVAL = 1  # RELOAD_INTERVAL of the reloader in these tests (the chart's default is 10 s)


def _tls_config_map() -> dict[str, str]:
    (cm,) = find(render_with("redis-cluster", "staging"), "ConfigMap", "redis-cluster-config")
    return dict(cm["data"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=30)


def _make_ca(pki: Path) -> None:
    pki.mkdir()
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "ca.key", cwd=pki)
    _openssl(
        "req",
        "-x509",
        "-new",
        "-key",
        "ca.key",
        "-subj",
        "/CN=test-ca",
        "-days",
        "2",
        "-out",
        "ca.crt",
        cwd=pki,
    )


def _make_cert(pki: Path, name: str, serial: int) -> None:
    """Certificate ``name`` (serial ``serial``) for localhost/127.0.0.1, signed by the test CA."""
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f"{name}.key", cwd=pki)
    _openssl("req", "-new", "-key", f"{name}.key", "-subj", f"/CN={name}", "-out", f"{name}.csr", cwd=pki)
    (pki / f"{name}.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    _openssl(
        "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-set_serial", str(serial),
        "-days", "1", "-extfile", f"{name}.ext", "-out", f"{name}.crt", cwd=pki,
    )  # fmt: skip


def kubelet_publish(mount: Path, pki: Path, name: str, stamp: str) -> None:
    """What the kubelet's atomic writer does with a Secret volume: write the new payload into a new
    ``..<timestamp>`` directory, point ``..data_tmp`` at it, rename it over ``..data`` (atomic),
    remove the previous directory. The user-visible files are symlinks through ``..data``."""
    mount.mkdir(exist_ok=True)
    payload = mount / f"..{stamp}"
    payload.mkdir()
    for target, source in (("tls.crt", f"{name}.crt"), ("tls.key", f"{name}.key"), ("ca.crt", "ca.crt")):
        (payload / target).write_bytes((pki / source).read_bytes())
    data = mount / "..data"
    previous = os.readlink(data) if data.is_symlink() else None
    tmp = mount / "..data_tmp"
    tmp.symlink_to(payload.name)
    tmp.rename(data)
    for target in ("tls.crt", "tls.key", "ca.crt"):
        link = mount / target
        if not link.is_symlink():
            link.symlink_to(f"..data/{target}")
    if previous:
        for f in (mount / previous).iterdir():
            f.unlink()
        (mount / previous).rmdir()


def _tls_client(port: int, ca: Path) -> ssl.SSLSocket:
    ctx = ssl.create_default_context(cafile=str(ca))
    raw = socket.create_connection(("127.0.0.1", port), timeout=5)
    return ctx.wrap_socket(raw, server_hostname="localhost")


def _serial(sock: ssl.SSLSocket) -> int:
    cert = sock.getpeercert()
    assert cert, "no peer certificate"
    return int(str(cert["serialNumber"]), 16)


def _command(sock: ssl.SSLSocket, *args: str) -> bytes:
    sock.sendall(b"".join([f"*{len(args)}\r\n".encode()] + [f"${len(a)}\r\n{a}\r\n".encode() for a in args]))
    return sock.recv(4096)


@pytest.fixture
def tls_node(tmp_path: Path) -> Iterator[dict[str, object]]:
    """One node started by the chart's prepare.sh/start.sh with the staging (TLS) redis.conf, on a
    free port, its TLS Secret volume at tmp_path/tls holding certificate A."""
    require_tool("redis-server")
    require_tool("redis-cli")
    require_tool("openssl")
    data = _tls_config_map()
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    for name, text in data.items():
        if name.endswith(".sh"):
            (scripts / name).write_text(text)
    pki = tmp_path / "pki"
    _make_ca(pki)
    _make_cert(pki, "cert-a", 0xA1)
    _make_cert(pki, "cert-b", 0xB2)
    mount = tmp_path / "tls"
    kubelet_publish(mount, pki, "cert-a", "2026_12_01_00_00_00.1")
    port, bus = _free_port(), _free_port()
    for sub in ("conf", "runtime", "data"):
        (tmp_path / sub).mkdir()
    conf = (
        data["redis.conf"].replace("/opt/redis/tls", str(mount)).replace("/data", str(tmp_path / "data"))
        .replace("bind * -::*", "bind 127.0.0.1").replace("tls-port 6379", f"tls-port {port}")
        .replace("cluster-port 16379", f"cluster-port {bus}")
    )  # fmt: skip
    (tmp_path / "conf" / "redis.conf").write_text(conf)
    (tmp_path / "password").write_text(PASSWORD)
    env = {
        "PATH": os.environ["PATH"], "SCRIPTS_DIR": str(scripts), "CONF_DIR": str(tmp_path / "conf"),
        "RUNTIME_DIR": str(tmp_path / "runtime"), "REDIS_DATA_DIR": str(tmp_path / "data"),
        "REDIS_PASSWORD_FILE": str(tmp_path / "password"), "POD_NAME": "redis-cluster-node-0",
        "POD_NAMESPACE": "redis-cluster", "POD_IP": "127.0.0.1", "HEADLESS_SERVICE": "h",
        "CLUSTER_DOMAIN": "cluster.local", "ANNOUNCE_HOSTNAME": "false", "EXPORTER_ADDR": "",
        "REDIS_PORT": str(port), "REDIS_TLS": "true", "REDIS_TLS_DIR": str(mount),
    }  # fmt: skip
    subprocess.run(["sh", str(scripts / "prepare.sh")], env=env, check=True, timeout=30)
    log = (tmp_path / "redis.log").open("ab")
    server = subprocess.Popen(
        ["sh", str(scripts / "start.sh")], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    reloader_env = {
        **env,
        "SECRET_PASSWORD_FILE": str(tmp_path / "password"),
        "RELOAD_INTERVAL": str(INTERVAL),
    }
    reloader_log = (tmp_path / "reloader.log").open("ab")
    reloader = subprocess.Popen(
        ["sh", str(scripts / "reloader.sh")], env=reloader_env, stdout=reloader_log, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with _tls_client(port, pki / "ca.crt"):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        # The reloader's first tick may come before redis-server answers: wait until it has applied
        # the files once, so that the next change the test makes is a reload, not its first apply.
        while "TLS certificate files in use" not in (tmp_path / "reloader.log").read_text():
            if time.monotonic() > deadline + INTERVAL + 10:
                raise AssertionError((tmp_path / "reloader.log").read_text())
            time.sleep(0.2)
        yield {"port": port, "pki": pki, "mount": mount, "root": tmp_path}
    finally:
        for proc in (reloader, server):
            proc.terminate()
            proc.wait(timeout=20)


def test_a_renewed_certificate_is_served_without_restart_and_old_connections_survive(
    tls_node: dict[str, object],
) -> None:
    port, pki, mount, root = (tls_node[k] for k in ("port", "pki", "mount", "root"))
    assert (
        isinstance(port, int) and isinstance(pki, Path) and isinstance(mount, Path) and isinstance(root, Path)
    )
    ca = pki / "ca.crt"
    before = _tls_client(port, ca)
    try:
        assert _command(before, "AUTH", PASSWORD) == b"+OK\r\n"
        assert _command(before, "CLIENT", "SETNAME", "opened-before-the-swap") == b"+OK\r\n"
        assert _serial(before) == 0xA1
        info_before = subprocess.run(
            ["redis-cli", "--tls", "--cacert", str(ca), "-p", str(port), "info", "server"],
            env={**os.environ, "REDISCLI_AUTH": PASSWORD}, capture_output=True, text=True, timeout=10,
        ).stdout  # fmt: skip
        run_id = next(ln for ln in info_before.splitlines() if ln.startswith("run_id:"))
        swapped = time.monotonic()
        kubelet_publish(mount, pki, "cert-b", "2026_12_01_01_00_00.2")
        serial = 0xA1
        while time.monotonic() - swapped < INTERVAL + 10:
            with _tls_client(port, ca) as fresh:
                serial = _serial(fresh)
            if serial == 0xB2:
                break
            time.sleep(0.1)
        waited = time.monotonic() - swapped
        assert serial == 0xB2, f"new handshakes still present serial {serial:#x} after {waited:.1f}s"
        # "within the reload interval": one tick of the loop, plus the tick's own work (cksum,
        # redis-cli) on a loaded 2-core CI machine.
        assert waited <= INTERVAL + 4, f"certificate B served only after {waited:.1f}s (interval {INTERVAL}s)"
        print(f"certificate B served {waited:.2f}s after the ..data swap (reload interval {INTERVAL}s)")
        # The connection opened before the swap still works, on its original certificate.
        assert _command(before, "PING") == b"+PONG\r\n"
        assert _command(before, "CLIENT", "GETNAME") == b"$22\r\nopened-before-the-swap\r\n"
        assert _serial(before) == 0xA1
        info_after = subprocess.run(
            ["redis-cli", "--tls", "--cacert", str(ca), "-p", str(port), "info", "server"],
            env={**os.environ, "REDISCLI_AUTH": PASSWORD}, capture_output=True, text=True, timeout=10,
        ).stdout  # fmt: skip
        assert run_id in info_after.splitlines(), "redis-server was restarted"
        assert "TLS certificate reloaded" in (root / "reloader.log").read_text()
    finally:
        before.close()


NEW_PASSWORD = 'n3w"pa\\ss 2026'  # a space, a quote and a backslash must survive the ACL commands
OVERLAP = 4  # OVERLAP_SECONDS in this test (the chart's default is 3600)


def _accepts(c: Cluster, i: int, password: str) -> bool:
    return c.cli(i, "ping", password=password) == "PONG"


def _wait(what: str, condition: Callable[[], bool], seconds: float) -> float:
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > seconds:
            raise AssertionError(f"not within {seconds}s: {what}")
        time.sleep(0.2)
    return time.monotonic() - start


@pytest.fixture
def rotating(tmp_path: Path) -> Iterator[tuple[Cluster, list[Path], list[subprocess.Popen[bytes]]]]:
    require_tool("redis-server")
    require_tool("redis-cli")
    make = make_cluster(tmp_path)
    c = next(make)
    reloaders: list[subprocess.Popen[bytes]] = []
    try:
        secrets = []
        for i in range(6):
            secret = tmp_path / f"secret-{i}"  # each pod's own view of the Secret volume
            secret.write_text(PASSWORD)
            secrets.append(secret)
            c.start(i, f"127.0.0.{120 + i}", secret=secret)
        yield c, secrets, reloaders
    finally:
        for proc in reloaders:
            proc.kill()
            proc.wait(timeout=10)
        make.close()


def test_a_rotated_password_takes_effect_without_downtime(
    rotating: tuple[Cluster, list[Path], list[subprocess.Popen[bytes]]],
) -> None:
    c, secrets, reloaders = rotating
    assert c.bootstrap(6, 1).returncode == 0
    for i in range(6):
        env = c.env(
            RUNTIME_DIR=str(c.node_dir(i) / "runtime"), REDIS_HOST=c.ips[i], SECRET_PASSWORD_FILE=str(secrets[i]),
            RELOAD_INTERVAL=str(INTERVAL), OVERLAP_SECONDS=str(OVERLAP),
        )  # fmt: skip
        log = (c.node_dir(i) / "reloader.log").open("ab")
        reloaders.append(
            subprocess.Popen(
                ["sh", str(c.scripts / "reloader.sh")], env=env, stdout=log, stderr=subprocess.STDOUT
            )
        )
    # A client that authenticated with the old password before the rotation.
    long_lived = subprocess.Popen(
        ["redis-cli", "-h", c.ips[0], "-p", "6379"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        env={**os.environ, "REDISCLI_AUTH": PASSWORD}, text=True,
    )  # fmt: skip
    try:
        # 1. The kubelet has refreshed the Secret in three pods only.
        for i in (0, 1, 2):
            secrets[i].write_text(NEW_PASSWORD)
        took = _wait(
            "pods 0-2 accept the new password",
            lambda: all(_accepts(c, i, NEW_PASSWORD) for i in (0, 1, 2)),
            10,
        )
        assert took <= INTERVAL + 3
        time.sleep(OVERLAP + 2 * INTERVAL)  # longer than the overlap: nothing may be removed yet
        for i in range(6):
            assert _accepts(c, i, PASSWORD), f"node {i} refused the old password while pods 3-5 still use it"
            # the probes' password file always holds a password the server accepts
            probe_password = (c.node_dir(i) / "runtime" / "password").read_text()
            assert _accepts(c, i, probe_password), i
        for i in (3, 4, 5):
            assert not _accepts(c, i, NEW_PASSWORD)
        for i in (0, 1, 2):  # replication keeps the old password until every node accepts the new one
            assert c.cli(i, "config", "get", "masterauth", password=NEW_PASSWORD).splitlines()[1] == PASSWORD
        # 2. The other pods see the new Secret.
        for i in (3, 4, 5):
            secrets[i].write_text(NEW_PASSWORD)
        _wait(
            "every node accepts the new password",
            lambda: all(_accepts(c, i, NEW_PASSWORD) for i in range(6)),
            10,
        )
        # 3. After the overlap, the old password is refused everywhere.
        took = _wait(
            "the old password is refused everywhere",
            lambda: not any(_accepts(c, i, PASSWORD) for i in range(6)),
            OVERLAP + 15,
        )
        for i in range(6):
            assert (
                c.cli(i, "config", "get", "masterauth", password=NEW_PASSWORD).splitlines()[1] == NEW_PASSWORD
            )
            assert (c.node_dir(i) / "runtime" / "password").read_text() == NEW_PASSWORD
        # Replication authenticates with the new password: drop every replica's link and watch it
        # come back against primaries that no longer accept the old one.
        replicas = [i for i in range(6) if c.cli(i, "role", password=NEW_PASSWORD).splitlines()[0] == "slave"]
        assert len(replicas) == 3
        for i in replicas:
            c.cli(i, "client", "kill", "type", "master", password=NEW_PASSWORD)
        for i in replicas:
            c.cli(i, "info", "replication", wait_for="master_link_status:up", password=NEW_PASSWORD)
        for i in range(6):
            c.cli(i, "cluster", "info", wait_for="cluster_state:ok", password=NEW_PASSWORD)
        # The connection authenticated with the old password before the switch still works.
        assert long_lived.stdin is not None and long_lived.stdout is not None
        long_lived.stdin.write("ping\n")
        long_lived.stdin.flush()
        assert long_lived.stdout.readline().strip() == "PONG"
        # redis_exporter has its own ACL user (random password per pod), untouched by the rotation:
        # it still reads INFO (the persistence fields behind redis_rdb_last_bgsave_status,
        # redis_aof_last_write_status, redis_aof_last_bgrewrite_status) and no data.
        exporter = json.loads((c.node_dir(0) / "runtime" / "exporter-passwords.json").read_text())
        as_exporter = {**os.environ, "REDISCLI_AUTH": exporter["redis://localhost:6379"]}
        info = subprocess.run(
            ["redis-cli", "-h", c.ips[0], "--user", "redis-exporter", "info", "persistence"],
            env=as_exporter, capture_output=True, text=True, timeout=10,
        ).stdout  # fmt: skip
        for field in (
            "rdb_last_bgsave_status:ok",
            "aof_last_write_status:ok",
            "aof_last_bgrewrite_status:ok",
        ):
            assert field in info, info
        denied = subprocess.run(
            ["redis-cli", "-h", c.ips[0], "--user", "redis-exporter", "get", "any"],
            env=as_exporter, capture_output=True, text=True, timeout=10,
        ).stdout  # fmt: skip
        assert "NOPERM" in denied, denied
        logs = "".join((c.node_dir(i) / "reloader.log").read_text() for i in range(6))
        assert logs.count("old password removed") == 6, logs
    finally:
        long_lived.kill()
        long_lived.wait(timeout=10)
