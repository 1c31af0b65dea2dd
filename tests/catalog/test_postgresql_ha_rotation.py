"""postgresql-ha's credential rotation (files/scripts/credentials.py) against real servers.

Real servers: etcd and two Patroni members (a leader and a streaming replica; Debian's patroni
3.0 and PostgreSQL 15) for the members' side, and PostgreSQL + PgBouncer (Debian's 1.18, started
by the chart's pgbouncer.sh) for the pooler's side. The credentials Secret is mounted the way the
kubelet does (``..data`` symlink swapped atomically); the sidecar script is the one the chart
renders, run once per member (RUN_ONCE=1) where the pod runs it in a loop. Each member's Patroni
configuration file stands for Spilo's /run/postgres.yml.
"""

from __future__ import annotations

import base64
import os
import re
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

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


# --- Patroni's REST API password ---------------------------------------------------------------

#: Passwords YAML would mangle if they were pasted into the configuration unquoted.
AWKWARD_PASSWORDS = [
    "plain",
    " leading space",
    "p@ss: \"w#o'rd\\",
    "$(NOT_A_VARIABLE)",
    "-dash",
    "|pipe",
    "new\n",
]
_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)")


def kubelet_env(
    container: dict[str, Any], configmaps: dict[str, str], secrets: dict[str, str]
) -> dict[str, str]:
    """The environment the kubelet gives ``container``: valueFrom resolved from ``configmaps`` /
    ``secrets`` (key -> value; a Secret key not given becomes ``<key>``), and ``$(NAME)`` in ``value`` replaced by the value of an
    earlier variable (``$$`` is a literal ``$``; an unknown reference stays as it is)."""
    env: dict[str, str] = {}
    for var in container["env"]:
        if "value" in var:

            def sub(m: re.Match[str]) -> str:
                return "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0))

            env[var["name"]] = _REFERENCE.sub(sub, str(var["value"]))
        elif "configMapKeyRef" in var.get("valueFrom", {}):
            env[var["name"]] = configmaps[var["valueFrom"]["configMapKeyRef"]["key"]]
        elif "secretKeyRef" in var.get("valueFrom", {}):
            key = var["valueFrom"]["secretKeyRef"]["key"]
            env[var["name"]] = secrets.get(key, f"<{key}>")
    return env


def spilo_configuration(password: str) -> dict[str, Any]:
    """SPILO_CONFIGURATION of production's members as the kubelet sets it, parsed (Spilo merges
    it into /run/postgres.yml, the file Patroni reads)."""
    objects = render_with(CHART, "production")
    (sts,) = find(objects, "StatefulSet", "-postgresql")
    (container,) = [c for c in sts["spec"]["template"]["spec"]["containers"] if c["name"] == "postgresql"]
    names = {v["name"] for v in container["env"]}
    assert not {"PATRONI_RESTAPI_USERNAME", "PATRONI_RESTAPI_PASSWORD"} & names, (
        "REST API credentials in Patroni's environment: a reload never re-reads it, and it overrides the file"
    )
    (config,) = find(objects, "ConfigMap", "-postgresql-config")
    env = kubelet_env(container, config["data"], {"patroni-password": password})
    parsed = yaml.safe_load(env["SPILO_CONFIGURATION"])
    assert parsed["kubernetes"] == yaml.safe_load(config["data"]["spilo.yaml"])["kubernetes"]
    return dict(parsed)


@pytest.mark.parametrize("password", AWKWARD_PASSWORDS)
def test_rest_api_credentials_are_in_patroni_configuration_file(password: str) -> None:
    auth = spilo_configuration(password)["restapi"]["authentication"]
    assert auth == {"username": pg.PATRONI_USER, "password": password.rstrip("\n")}


def rest_write(port: int, password: str) -> int:
    """HTTP status of an authenticated write (POST /reload) on a member's REST API."""
    basic = base64.b64encode(f"{pg.PATRONI_USER}:{password}".encode()).decode()
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/reload",
        data=b"",
        method="POST",
        headers={"Authorization": "Basic " + basic},
    )
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


def postmaster_pid(root: Path, member: str) -> int:
    return int((root / member / "data" / "postmaster.pid").read_text().split()[0])


INTERVAL = 1.0  # rotation.intervalSeconds of the sidecars under test (loop_wait is 1 s too)


def test_rest_api_password_rotates_without_restart(
    members: tuple[Path, pg.LocalPlatform, dict[str, int]],
) -> None:
    """The Secret's patroni-password changes (kubelet ``..data`` swap); each member's sidecar (the
    chart's credentials.py, looping every INTERVAL) rewrites Patroni's file and reloads it: the
    REST API takes the new password and refuses the old one, with the same Patroni and PostgreSQL."""
    root, platform, rest = members
    new_password = "rotated: p@ss \"#1'"
    for name in platform.members():  # the members run the file the chart's SPILO_CONFIGURATION yields
        member_auth = yaml.safe_load((root / name / "patroni.yaml").read_text())["restapi"]["authentication"]
        assert member_auth == spilo_configuration(pg.PATRONI_PASSWORD)["restapi"]["authentication"]
    script = root / "credentials.py"
    script.write_text(chart_script())
    credentials = root / "credentials"
    current = {
        **NEW,
        "superuser-password": pg.SUPERUSER_PASSWORD,
        "replication-password": pg.REPLICATION_PASSWORD,
    }
    pg.kubelet_mount(credentials, {k: v.encode() for k, v in current.items()})
    sidecars: list[subprocess.Popen[bytes]] = []
    logs = {name: root / f"{name}-credentials.log" for name in platform.members()}
    try:
        for name in platform.members():
            out = logs[name].open("wb")
            env = {
                **os.environ,
                "INTERVAL_SECONDS": str(INTERVAL),
                "HEARTBEAT_FILE": str(root / f"{name}.alive"),
                "CREDENTIALS_DIR": str(credentials),
                "PGHOST": str(root / name),
                "PGPORT": str(platform.spec["members"][name]["pg"]),
                "PGUSER": "postgres",
                "PSQL": str(pg.PG_BIN / "psql"),
                "SUPERUSER": "postgres",
                "REPLICATION_USER": "standby",
                "PATRONI_CONFIG": str(root / name / "patroni.yaml"),
                "PATRONI_URL": f"http://127.0.0.1:{rest[name]}",
                "PATRONI_USERNAME": pg.PATRONI_USER,
                "PATRONI_PASSWORD_FILE": str(credentials / "patroni-password"),
            }
            sidecars.append(
                subprocess.Popen([SYSTEM_PYTHON, str(script)], stdout=out, stderr=subprocess.STDOUT, env=env)
            )
            out.close()
        pg.wait_for(
            lambda: all("Patroni configuration updated" in p.read_text() for p in logs.values()), 60,
            "every sidecar's first apply",
        )  # fmt: skip
        assert all(rest_write(port, pg.PATRONI_PASSWORD) == 202 for port in rest.values())
        pids = {n: (platform.pid(n), postmaster_pid(root, n)) for n in platform.members()}
        pg.kubelet_mount(
            credentials,
            {**{k: v.encode() for k, v in current.items()}, "patroni-password": new_password.encode()},
        )
        swapped = time.monotonic()

        def rotated() -> bool:
            return all(
                rest_write(port, new_password) == 202 and rest_write(port, pg.PATRONI_PASSWORD) == 401
                for port in rest.values()
            )

        pg.wait_for(rotated, 30, "the REST API to take the new password and refuse the old", poll=0.1)
        took = time.monotonic() - swapped
        # one sidecar interval to notice, one Patroni loop (loop_wait 1 s) to apply the reload
        print(f"REST API password rotated on every member {took:.2f}s after the swap")
        assert took < INTERVAL + 1 + 2, f"rotation took {took:.1f}s"
        assert all(rest_write(port, "") == 401 for port in rest.values()), "unauthenticated writes accepted"
        assert {n: (platform.pid(n), postmaster_pid(root, n)) for n in platform.members()} == pids, (
            "a restart"
        )
        assert all(pg.alive(pid) for pair in pids.values() for pid in pair if pid)
        pg.wait_for(
            lambda: pg.patroni_healthy(rest), 30, "Patroni to report a leader and a streaming replica"
        )
        for name in platform.members():
            assert pg.psql(root / name, platform.spec["members"][name]["pg"], "SELECT 1") == "1"
    finally:
        for p in sidecars:
            p.terminate()
            p.wait(timeout=30)
