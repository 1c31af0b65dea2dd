"""postgresql-ha's credential rotation (files/scripts/credentials.py) against real servers.

Real servers: etcd and two Patroni members (a leader and a streaming replica; Debian's patroni
3.0 and PostgreSQL 15) for the members' side, and PostgreSQL + PgBouncer (Debian's 1.18, started
by the chart's pgbouncer.sh) for the pooler's side. The credentials Secret is mounted the way the
kubelet does (``..data`` symlink swapped atomically); the sidecar script is the one the chart
renders, run once per member (RUN_ONCE=1) where the pod runs it in a loop. Each member's Patroni
configuration file stands for Spilo's /run/postgres.yml.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from tests.catalog import pg_servers as pg
from tests.catalog.conftest import find, render_with
from tests.catalog.test_postgresql_ha_pgbouncer import APP_PASSWORD, Pooler, ask, pooler
from tests.conftest import require_tool

pytestmark = [pytest.mark.helm, pytest.mark.slow]
__all__ = ["pooler"]  # the PgBouncer fixture, shared with the certificate test

CHART = "postgresql-ha"
SYSTEM_PYTHON = "/usr/bin/python3"  # the script runs with the image's python3 (with PyYAML, as Patroni needs)
NEW = {
    "superuser-password": "new-super'user",
    "replication-password": 'new-repl"ication',
    "app-password": "new-app-password",
    "metrics-password": "new-metrics-password",
    "patroni-password": pg.PATRONI_PASSWORD,
}


def chart_script() -> str:
    objects = render_with(CHART, "production")
    (sts,) = find(objects, "StatefulSet", "-postgresql")
    names = [c["name"] for c in sts["spec"]["template"]["spec"]["containers"]]
    assert "credentials" in names, "no credential-rotation sidecar in the members"
    return str(find(objects, "ConfigMap", "-scripts")[0]["data"]["credentials.py"])


def run_sidecar(script: Path, credentials: Path, socket_dir: Path, port: int, **env: str) -> None:
    out = subprocess.run(
        [SYSTEM_PYTHON, str(script)], capture_output=True, text=True, timeout=120, check=False,
        env={**os.environ, "RUN_ONCE": "1", "CREDENTIALS_DIR": str(credentials), "PGHOST": str(socket_dir),
             "PGPORT": str(port), "PGUSER": "postgres", "PSQL": str(pg.PG_BIN / "psql"), "SUPERUSER": "postgres",
             "REPLICATION_USER": "standby", "APP_USER": "app", "METRICS_USER": "metrics", **env},
    )  # fmt: skip
    assert out.returncode == 0, out.stdout + out.stderr


def tcp_login(port: int, user: str, password: str) -> bool:
    out = subprocess.run(
        [str(pg.PG_BIN / "psql"), f"host=127.0.0.1 port={port} user={user} dbname=postgres connect_timeout=5",
         "-XtAc", "SELECT 1"], capture_output=True, text=True, timeout=30, env={**os.environ, "PGPASSWORD": password},
    )  # fmt: skip
    return out.stdout.strip() == "1"


@pytest.fixture
def members() -> Iterator[tuple[Path, pg.LocalPlatform, dict[str, int]]]:
    require_tool("helm")
    for tool in ("patroni", "etcd"):
        require_tool(tool)
    with pg.scratch() as root:
        (root / "target-revision").write_text("rev-1")
        etcd = pg.start_etcd(root)
        dcs = {"ttl": 10, "loop_wait": 1, "retry_timeout": 5, "postgresql": {"use_pg_rewind": True}}
        rest = pg.write_patroni_cluster(root, etcd, ["pg-0", "pg-1"], dcs)
        platform = pg.LocalPlatform(root)
        with pg.Controller(platform):
            pg.wait_for(lambda: pg.patroni_healthy(rest), 90, "a leader with one streaming replica")
            yield root, platform, rest


def leader_of(root: Path, platform: pg.LocalPlatform) -> str:
    for name in platform.members():
        port = platform.spec["members"][name]["pg"]
        try:
            if pg.psql(root / name, port, "SELECT pg_is_in_recovery()") == "f":
                return name
        except subprocess.CalledProcessError:
            continue
    raise AssertionError("no primary")


def streaming(root: Path, platform: pg.LocalPlatform) -> int:
    try:
        leader = leader_of(root, platform)
        port = platform.spec["members"][leader]["pg"]
        return int(
            pg.psql(root / leader, port, "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'")
        )
    except (AssertionError, subprocess.CalledProcessError):
        return -1


def test_members_rotate_superuser_and_replication_passwords_without_restart(
    members: tuple[Path, pg.LocalPlatform, dict[str, int]],
) -> None:
    root, platform, rest = members
    script = root / "credentials.py"
    script.write_text(chart_script())
    leader = leader_of(root, platform)
    lport = platform.spec["members"][leader]["pg"]
    pids = {n: platform.pid(n) for n in platform.members()}
    assert tcp_login(lport, "postgres", pg.SUPERUSER_PASSWORD)
    credentials = root / "credentials"
    pg.kubelet_mount(credentials, {k: v.encode() for k, v in NEW.items()})  # the Secret changed
    for name in sorted(platform.members(), key=lambda n: n != leader):  # any order works; primary first here
        run_sidecar(
            script, credentials, root / name, platform.spec["members"][name]["pg"],
            PATRONI_CONFIG=str(root / name / "patroni.yaml"), PATRONI_URL=f"http://127.0.0.1:{rest[name]}",
            PATRONI_USERNAME=pg.PATRONI_USER, PATRONI_PASSWORD_FILE=str(credentials / "patroni-password"),
        )  # fmt: skip
    assert tcp_login(lport, "postgres", NEW["superuser-password"])
    assert not tcp_login(lport, "postgres", pg.SUPERUSER_PASSWORD)
    for name in platform.members():
        auth = yaml.safe_load((root / name / "patroni.yaml").read_text())["postgresql"]["authentication"]
        assert auth["replication"]["password"] == NEW["replication-password"]
        assert auth["superuser"]["password"] == auth["rewind"]["password"] == NEW["superuser-password"]
    # The replica's next replication connection authenticates with the new password: cut it.
    pg.psql(root / leader, lport, "SELECT pg_terminate_backend(pid) FROM pg_stat_replication")
    pg.wait_for(
        lambda: streaming(root, platform) == 1, 30, "the replica streaming again with the new password"
    )
    pg.wait_for(lambda: pg.patroni_healthy(rest), 30, "Patroni to report the replica in sync")
    assert {n: platform.pid(n) for n in platform.members()} == pids, "a member restarted"
    assert leader_of(root, platform) == leader


def test_pgbouncer_and_app_user_rotate_without_dropping_connections(pooler: Pooler) -> None:
    p = pooler
    script = p.root / "credentials.py"
    script.write_text(chart_script())
    pg.give(p.root)
    session = p.session(APP_PASSWORD)
    assert ask(session, "SELECT 'before';") == "before"
    new = "rotated-app-password"
    pg.kubelet_mount(p.credentials, {"app-password": new.encode()})
    run_sidecar(
        script, p.credentials, p.root / "postgres", p.pg_port
    )  # the primary's sidecar (no Patroni here)
    pg.wait_for(
        lambda: p.query("SELECT 1", new).stdout.strip() == "1", 10, "the new password through PgBouncer"
    )
    assert p.query("SELECT 1", APP_PASSWORD).returncode != 0, "the old password still works"
    assert ask(session, "SELECT 'after';") == "after", "the connection opened before the rotation broke"
    session.terminate()
