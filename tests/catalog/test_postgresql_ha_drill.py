"""postgresql-ha's disaster-recovery drill (files/scripts/drill.py) against real servers.

Real servers: PostgreSQL 15 (Debian) as the source cluster, archiving its WAL; an S3 API on
127.0.0.1 (moto's server, PyPI ``moto[server]``); a Prometheus Pushgateway (Debian's
prometheus-pushgateway). Stand-in: WAL-G has no package here, so ``wal-g`` is
tests/catalog/walg_standin.py, which implements the four commands the drill and archiving use
(backup-push/-fetch, wal-push/-fetch) against the same S3 endpoint; the base backup is a real
``pg_basebackup``. The drill script is the one the chart renders; it runs as the postgres user
with the system python3, as in the Spilo image, and restores into a real throw-away PostgreSQL.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.catalog import pg_servers as pg
from tests.catalog.conftest import find, render_with
from tests.conftest import require_tool

pytestmark = [pytest.mark.helm, pytest.mark.slow]

CHART = "postgresql-ha"
STANDIN = Path(__file__).with_name("walg_standin.py")
SYSTEM_PYTHON = "/usr/bin/python3"
STANDIN_AUTH = {
    "Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0"
}


@dataclass
class Site:
    root: Path
    env: dict[str, str]
    pushgateway: int
    source: Path
    source_port: int

    def metrics(self) -> dict[str, float]:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.pushgateway}/metrics", timeout=5) as r:
            text = r.read().decode()
        out = {}
        for line in text.splitlines():
            m = re.match(r"^(dr_drill_\w+)\{(.*)\} (\S+)$", line)
            if m and 'job="dr-drill"' in m.group(2) and 'database="postgresql-ha"' in m.group(2):
                out[m.group(1)] = float(m.group(3))
        return out

    def drill(self, check_sql: str) -> subprocess.CompletedProcess[str]:
        env = {**self.env, "DRILL_CHECK_SQL": check_sql, "DRILL_CHECK_DATABASE": "postgres"}
        return pg.run_as([SYSTEM_PYTHON, str(self.root / "drill.py")], env=env, timeout=120)


def chart_drill() -> tuple[dict[str, str], dict[str, str]]:
    objects = render_with(CHART, "production", "drill.pushgateway.url=http://pushgateway.example:9091")
    (cron,) = find(objects, "CronJob", "-drill")
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]
    assert pod["metadata"]["labels"]["access.spotify-ai-agent.io/object-store"] == "true"
    assert cron["spec"]["schedule"] == "0 3 1 */3 *"
    env = {e["name"]: e["value"] for e in pod["spec"]["containers"][0]["env"] if "value" in e}
    scripts = find(objects, "ConfigMap", "-scripts")[0]["data"]
    return {name: scripts[name] for name in ("drill.py", "pushgateway.py")}, env


@pytest.fixture
def site() -> Iterator[Site]:
    require_tool("helm")
    for tool in ("moto_server", "prometheus-pushgateway", SYSTEM_PYTHON):
        require_tool(tool)
    scripts, chart_env = chart_drill()
    with pg.scratch() as root:
        s3 = pg.free_port()
        pg.spawn(
            ["moto_server", "-H", "127.0.0.1", "-p", str(s3)],
            root / "moto.log",
            root / "moto.pid",
            as_server=False,
        )
        gw = pg.free_port()
        pg.spawn(
            ["prometheus-pushgateway", f"--web.listen-address=127.0.0.1:{gw}"],
            root / "gw.log",
            root / "gw.pid",
            as_server=False,
        )
        pg.wait_for(lambda: pg.port_open(s3) and pg.port_open(gw), 30, "moto and the pushgateway")
        create = urllib.request.Request(f"http://127.0.0.1:{s3}/backups", method="PUT", headers=STANDIN_AUTH)
        urllib.request.urlopen(create, timeout=10).read()
        bindir = root / "bin"
        bindir.mkdir()
        prefix, endpoint = "s3://backups/spilo/test/wal/15", f"http://127.0.0.1:{s3}"
        (bindir / "wal-g").write_text(  # PostgreSQL's archive_command does not get our environment
            f'#!/bin/sh\nexport WALG_S3_PREFIX="${{WALG_S3_PREFIX:-{prefix}}}" AWS_ENDPOINT="${{AWS_ENDPOINT:-{endpoint}}}"\n'
            f'exec {SYSTEM_PYTHON} {STANDIN} "$@"\n'
        )
        (bindir / "wal-g").chmod(0o755)
        for name, text in scripts.items():  # drill.py imports pushgateway.py beside it
            (root / name).write_text(text)
        env = {
            **os.environ,
            # the chart's settings, with the endpoints of this machine
            "DATABASE": chart_env["DATABASE"], "RECOVERY_OBJECTIVE_SECONDS": chart_env["RECOVERY_OBJECTIVE_SECONDS"],
            "PGUSER": chart_env["PGUSER"], "WALG_S3_PREFIX": prefix, "AWS_ENDPOINT": endpoint, "PUSHGATEWAY_URL": f"http://127.0.0.1:{gw}",
            "SCRATCH_DIR": str(root / "scratch"), "SCRATCH_PORT": str(pg.free_port()), "PGBIN": str(pg.PG_BIN),
            "RESTORE_TIMEOUT_SECONDS": "60", "PATH": f"{bindir}:{os.environ['PATH']}",
        }  # fmt: skip
        (root / "scratch").mkdir()
        source = root / "source"
        archive = f"archive_command = '{bindir}/wal-g wal-push %p'"
        pg.give(root)
        port = pg.start_postgres(source, extra=("archive_mode = on", archive, "wal_level = replica"))
        # the source cluster: data, a base backup, then more data only in the WAL archive
        pg.psql(
            source,
            port,
            "CREATE TABLE t AS SELECT g AS id, md5(g::text) AS v FROM generate_series(1, 10000) g",
        )
        pg.psql(source, port, "CREATE INDEX ON t (v)")
        backup = root / "basebackup"
        pg.run_as([str(pg.PG_BIN / "pg_basebackup"), "-h", str(source), "-p", str(port), "-U", "postgres",
                   "-D", str(backup), "-X", "fetch"], check=True)  # fmt: skip
        pushed = pg.run_as(["wal-g", "backup-push", str(backup)], env=env)
        assert pushed.returncode == 0, pushed.stderr
        pg.psql(source, port, "INSERT INTO t SELECT g, md5(g::text) FROM generate_series(10001, 15000) g")
        archived = int(pg.psql(source, port, "SELECT archived_count FROM pg_stat_archiver"))
        pg.psql(source, port, "SELECT pg_switch_wal()")
        try:
            pg.wait_for(
                lambda: int(pg.psql(source, port, "SELECT archived_count FROM pg_stat_archiver")) > archived, 30,
                "WAL archived",
            )  # fmt: skip
        except TimeoutError as e:
            raise AssertionError((source / "postgres.log").read_text()[-2000:]) from e
        yield Site(root, env, gw, source, port)


def test_drill_restores_checks_times_tears_down_and_pushes_metrics(site: Site) -> None:
    before = time.time()
    out = site.drill("SELECT count(*) = 15000 AND count(DISTINCT v) = 15000 FROM t")
    assert out.returncode == 0, out.stdout + out.stderr
    assert "pg_amcheck clean" in out.stdout and "DRILL_CHECK_SQL returned true" in out.stdout, out.stdout
    assert not (site.root / "scratch" / "data").exists(), "scratch data left behind"
    assert not pg.port_open(int(site.env["SCRATCH_PORT"]))
    m = site.metrics()
    assert m["dr_drill_success"] == 1
    assert (
        before
        <= m["dr_drill_last_run_timestamp_seconds"]
        <= m["dr_drill_last_success_timestamp_seconds"]
        <= time.time()
    )
    assert 0 < m["dr_drill_restore_duration_seconds"] < 60
    assert m["dr_drill_recovery_objective_seconds"] == 3600

    # A failed check is a failed drill: success 0, the last success stays the previous one.
    last_success = m["dr_drill_last_success_timestamp_seconds"]
    out = site.drill("SELECT count(*) = 99 FROM t")
    assert out.returncode == 1, out.stdout + out.stderr
    m = site.metrics()
    assert m["dr_drill_success"] == 0
    assert m["dr_drill_last_success_timestamp_seconds"] == last_success
    assert m["dr_drill_last_run_timestamp_seconds"] > last_success
    assert not (site.root / "scratch" / "data").exists()
    assert sys.executable  # the drill ran with the system python3, not the test's interpreter
