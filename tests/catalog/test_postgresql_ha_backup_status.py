"""postgresql-ha reports its last successful base backup (files/scripts/walg_status.py) to a real
Pushgateway, and the observability chart's backup alerts see what it pushes.

Real servers: an S3 API on 127.0.0.1 (moto's server, PyPI ``moto[server]``) holding the backups,
a Prometheus Pushgateway (Debian's prometheus-pushgateway), and Prometheus' rule engine
(``promtool test rules``) evaluating the rendered production alert rules on the series the
Pushgateway exposes. Stand-in: WAL-G has no package here, so ``wal-g`` is
tests/catalog/walg_standin.py (``backup-push`` writes the stop sentinel last, like WAL-G, and
``backup-list --json --detail`` lists only backups that have one). The script is the one the chart
renders into its scripts ConfigMap; it runs with the system python3, as in the Spilo image.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from tests.catalog import pg_servers as pg
from tests.catalog.conftest import find, render_with
from tests.catalog.test_observability_alerts import NS, component, fired, run_rule_tests
from tests.conftest import require_tool

pytestmark = [pytest.mark.helm, pytest.mark.slow]

CHART = "postgresql-ha"
STANDIN = Path(__file__).with_name("walg_standin.py")
SYSTEM_PYTHON = "/usr/bin/python3"
AUTH = {"Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0"}  # fmt: skip
METRIC = "backup_last_success_timestamp_seconds"


@dataclass
class Site:
    root: Path
    env: dict[str, str]
    pushgateway: int

    def report(self) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [SYSTEM_PYTHON, str(self.root / "walg_status.py")], env=self.env, capture_output=True, text=True,
            timeout=60, check=False,
        )  # fmt: skip

    def backup(self) -> None:
        data = self.root / "data"
        data.mkdir(exist_ok=True)
        (data / "PG_VERSION").write_text("15\n")
        done = subprocess.run([str(self.root / "bin" / "wal-g"), "backup-push", str(data)], env=self.env,
                              capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr

    def pushed(self) -> list[tuple[dict[str, str], float]]:
        """The backup_last_success_timestamp_seconds series of database="postgresql-ha" the Pushgateway
        exposes (labels, value); other databases' are not ours (another test on this machine may
        push to a port it once had)."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.pushgateway}/metrics", timeout=5) as r:
            text = r.read().decode()
        out = []
        for line in text.splitlines():
            m = re.match(rf"^{METRIC}\{{(.*)\}} (\S+)$", line)
            if m and 'database="postgresql-ha"' in m.group(1):
                labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
                out.append(({k: v for k, v in labels.items() if v}, float(m.group(2))))
        return out


def chart_job(env: str = "production") -> tuple[dict[str, str], dict[str, str]]:
    """The walg-status CronJob's scripts and plain env of ``env``'s values (release = chart name)."""
    objects = render_with(CHART, env)
    (cron,) = find(objects, "CronJob", "-walg-status")
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]
    assert pod["metadata"]["labels"]["access.spotify-ai-agent.io/object-store"] == "true"  # may push
    assert "access.spotify-ai-agent.io/kube-api" not in pod["metadata"]["labels"]
    (container,) = pod["spec"]["containers"]
    assert container["command"] == ["python3", "/scripts/walg_status.py"]
    env_vars = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    scripts = find(objects, "ConfigMap", "-scripts")[0]["data"]
    return {name: scripts[name] for name in ("walg_status.py", "pushgateway.py")}, env_vars


@pytest.mark.parametrize("env", ["staging", "production"])
def test_the_umbrella_url_reaches_the_report_job(env: str) -> None:
    _, job_env = chart_job(env)
    # HELPER_CONTRACTS 1: the URL of the observability chart's Pushgateway, through tpl
    assert job_env["PUSHGATEWAY_URL"] == f"http://{CHART}-observability-pushgateway:9091"
    assert job_env["DATABASE"] == CHART
    assert job_env["WALG_S3_PREFIX"].startswith("s3://spotify-ai-agent-")


def test_no_report_without_a_url_or_backups() -> None:
    assert not find(render_with(CHART, "production", "backup.pushgateway.url="), "CronJob", "-walg-status")
    assert not find(render_with(CHART, "development"), "CronJob", "-walg-status")  # no backups there


@pytest.fixture
def site() -> Iterator[Site]:
    require_tool("helm")
    for tool in ("moto_server", "prometheus-pushgateway", SYSTEM_PYTHON):
        require_tool(tool)
    scripts, job_env = chart_job()
    with pg.scratch() as root:
        s3, gw = pg.free_port(), pg.free_port()
        pg.spawn(["moto_server", "-H", "127.0.0.1", "-p", str(s3)], root / "moto.log", root / "moto.pid",
                 as_server=False)  # fmt: skip
        pg.spawn(["prometheus-pushgateway", f"--web.listen-address=127.0.0.1:{gw}"], root / "gw.log",
                 root / "gw.pid", as_server=False)  # fmt: skip
        pg.wait_for(lambda: pg.port_open(s3) and pg.port_open(gw), 30, "moto and the pushgateway")
        create = urllib.request.Request(f"http://127.0.0.1:{s3}/backups", method="PUT", headers=AUTH)
        urllib.request.urlopen(create, timeout=10).read()
        bindir = root / "bin"
        bindir.mkdir()
        (bindir / "wal-g").write_text(f'#!/bin/sh\nexec {SYSTEM_PYTHON} {STANDIN} "$@"\n')
        (bindir / "wal-g").chmod(0o755)
        for name, text in scripts.items():
            (root / name).write_text(text)
        env = {
            **os.environ, "PATH": f"{bindir}:{os.environ['PATH']}",
            # the chart's settings, with this machine's endpoints
            "DATABASE": job_env["DATABASE"], "PUSHGATEWAY_URL": f"http://127.0.0.1:{gw}",
            "WALG_S3_PREFIX": "s3://backups/spilo/test/wal/15", "AWS_ENDPOINT": f"http://127.0.0.1:{s3}",
        }  # fmt: skip
        yield Site(root, env, gw)


def test_pushes_the_newest_base_backup_finish_time(site: Site) -> None:
    # no base backup yet: nothing to report, nothing pushed (the absent() alert says so)
    out = site.report()
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no completed base backup" in out.stdout
    assert site.pushed() == []

    site.backup()
    before_second = time.time()
    site.backup()
    after_second = time.time()
    out = site.report()
    assert out.returncode == 0, out.stdout + out.stderr
    ((labels, value),) = site.pushed()
    assert labels == {"job": "backup", "database": "postgresql-ha"}
    assert before_second <= value <= after_second, (before_second, value, after_second)  # the newest one

    # a backup-push that died before its sentinel is not a success: the report keeps the last one
    prefix = "spilo/test/wal/15/basebackups_005"
    put = urllib.request.Request(f"{site.env['AWS_ENDPOINT']}/backups/{prefix}/base_9999999999999999999.tar.gz",
                                 data=b"partial", method="PUT", headers=AUTH)  # fmt: skip
    urllib.request.urlopen(put, timeout=10).read()
    assert site.report().returncode == 0
    assert site.pushed() == [(labels, value)]

    # the object store unreachable: exit 1, the pushed value stays (its age keeps growing)
    broken = {**site.env, "AWS_ENDPOINT": f"http://127.0.0.1:{pg.free_port()}"}
    out = subprocess.run([SYSTEM_PYTHON, str(site.root / "walg_status.py")], env=broken, capture_output=True,
                         text=True, timeout=60, check=False)  # fmt: skip
    assert out.returncode == 1 and "FAILED" in out.stdout, out.stdout + out.stderr
    assert site.pushed() == [(labels, value)]


def test_the_backup_alerts_see_the_pushed_series(site: Site, tmp_path: Path) -> None:
    """The series exactly as the Pushgateway exposes it (Prometheus scrapes it with honorLabels and
    adds the target's namespace) satisfies BackupMissing's absent() and feeds BackupTooOld."""
    site.backup()
    assert site.report().returncode == 0
    ((labels, _),) = site.pushed()
    selector = ", ".join(f'{k}="{v}"' for k, v in sorted({**labels, "namespace": NS}.items()))
    series = [{"series": f"{METRIC}{{{selector}}}", "values": "0x1700"}]  # a backup at t=0
    run_rule_tests(
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": series,
                "alert_rule_test": [
                    fired("PostgreSQLBackupMissing", "26h15m"),  # fired here before walg-status existed
                    fired("PostgreSQLBackupTooOld", "1h"),
                    fired("PostgreSQLBackupTooOld", "26h15m", component(CHART, "critical", database=CHART)),
                ],
            }
        ],
    )
