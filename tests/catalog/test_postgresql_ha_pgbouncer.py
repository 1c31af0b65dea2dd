"""postgresql-ha's PgBouncer follows renewed certificates and rotated passwords without a restart.

Real servers: PostgreSQL 15 (Debian) with TLS, and PgBouncer (Debian's 1.18) started by the
chart's own container command (files/scripts/pgbouncer.sh) with the chart's pgbouncer.ini
(production values: TLS on both sides). Only addresses and paths are rewritten (ports,
/tls, /credentials, the auth file). Secrets are mounted the way the kubelet does: files behind a
``..data`` symlink that an update swaps atomically.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.catalog import pg_servers as pg
from tests.catalog.conftest import find, render_with
from tests.conftest import require_tool

pytestmark = [pytest.mark.helm, pytest.mark.slow]

CHART = "postgresql-ha"
APP_PASSWORD = 'app-"first"-secret'
RELOAD_INTERVAL = 1  # seconds (the chart's default is pgbouncer.reloadIntervalSeconds=10)


@dataclass
class Pooler:
    root: Path
    port: int
    pg_port: int
    tls: Path
    credentials: Path

    def dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=app dbname=app sslmode=require connect_timeout=5"

    def query(self, sql: str, password: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(pg.PG_BIN / "psql"), self.dsn(), "-XtAc", sql], capture_output=True, text=True, timeout=30,
            env={**os.environ, "PGPASSWORD": password},
        )  # fmt: skip

    def session(self, password: str) -> subprocess.Popen[str]:
        """A psql session held open (an application's pooled connection)."""
        return subprocess.Popen(
            [str(pg.PG_BIN / "psql"), self.dsn(), "-XtAq"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, bufsize=1, env={**os.environ, "PGPASSWORD": password},
        )  # fmt: skip


def ask(session: subprocess.Popen[str], sql: str) -> str:
    assert session.stdin and session.stdout
    session.stdin.write(sql + "\n")
    session.stdin.flush()
    return session.stdout.readline().strip()


def chart_pgbouncer() -> tuple[str, str]:
    objects = render_with(CHART, "production")
    data = find(objects, "ConfigMap", "-pgbouncer-config")[0]["data"]
    return data["pgbouncer.ini"], data["pgbouncer.sh"]


@pytest.fixture
def pooler() -> Iterator[Pooler]:
    require_tool("helm")
    require_tool("pgbouncer")
    require_tool("openssl")
    ini, script = chart_pgbouncer()
    with pg.scratch() as root:
        ca = pg.make_ca(root)
        cert_a = pg.make_cert(root, ca, "a", 0xA1)
        pg_port = pg.start_postgres(root / "postgres", cert_a)
        pg.psql(root / "postgres", pg_port, f"CREATE ROLE app LOGIN PASSWORD '{APP_PASSWORD}'")
        pg.psql(root / "postgres", pg_port, "CREATE DATABASE app OWNER app")
        tls, credentials, conf, auth = root / "tls", root / "credentials", root / "config", root / "auth"
        pg.kubelet_mount(tls, cert_a)
        pg.kubelet_mount(credentials, {"app-password": APP_PASSWORD.encode()})
        conf.mkdir()
        auth.mkdir()
        port = pg.free_port()
        ini = re.sub(r"^\* = host=\S+ port=5432$", f"* = host=127.0.0.1 port={pg_port}", ini, flags=re.M)
        ini = ini.replace("listen_addr = 0.0.0.0", "listen_addr = 127.0.0.1")
        ini = re.sub(r"^listen_port = \d+$", f"listen_port = {port}", ini, flags=re.M)
        ini = ini.replace("/etc/pgbouncer/auth/", f"{auth}/").replace("/tls/", f"{tls}/")
        (conf / "pgbouncer.ini").write_text(ini)
        (conf / "pgbouncer.sh").write_text(script)
        pg.give(root)
        env = {
            "PGBOUNCER_BIN": "/usr/sbin/pgbouncer", "PGBOUNCER_CONFIG": str(conf / "pgbouncer.ini"),
            "AUTH_FILE": str(auth / "userlist.txt"), "CREDENTIALS_DIR": str(credentials), "TLS_DIR": str(tls),
            "RELOAD_INTERVAL_SECONDS": str(RELOAD_INTERVAL), "APP_USER": "app",
        }  # fmt: skip
        pg.spawn(["sh", str(conf / "pgbouncer.sh")], root / "pgbouncer.log", root / "pgbouncer.pid", env=env)
        pg.wait_for(lambda: pg.port_open(port), 30, "pgbouncer")
        pooler = Pooler(root, port, pg_port, tls, credentials)
        pooler.ca = ca  # type: ignore[attr-defined]
        yield pooler


def test_pgbouncer_presents_the_renewed_certificate_and_keeps_connections(pooler: Pooler) -> None:
    p = pooler
    assert pg.presented_serial(p.port) == 0xA1
    session = p.session(APP_PASSWORD)
    assert ask(session, "SELECT 'before';") == "before"
    # cert-manager renewed the certificate (rotationPolicy: Always: a new key too)
    pg.kubelet_mount(p.tls, pg.make_cert(p.root, p.ca, "b", 0xB2))  # type: ignore[attr-defined]
    pg.wait_for(
        lambda: pg.presented_serial(p.port) == 0xB2, RELOAD_INTERVAL + 5, "PgBouncer to present cert B"
    )
    assert ask(session, "SELECT 'after';") == "after", "the connection opened before the renewal broke"
    assert p.query("SELECT 1", APP_PASSWORD).stdout.strip() == "1"
    assert "reloaded" in (p.root / "pgbouncer.log").read_text()
    session.terminate()
