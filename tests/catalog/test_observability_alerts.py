"""observability: the rendered alerting rules evaluated by Prometheus' own rule engine.

``promtool test rules`` (Debian's ``prometheus`` package) loads the PrometheusRule groups exactly as
helm renders them for production, feeds synthetic series and checks which alerts fire at which
time: thresholds, ``for:`` durations, label joins and ``absent()`` guards are what Prometheus
evaluates, not what a regex sees. Annotations are dropped from the rule file (promtool compares
them verbatim; test_observability.py checks them). ``promtool check rules`` validates every rule of
every environment.
"""

from __future__ import annotations

import functools
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.catalog.conftest import find, render_with
from tests.conftest import require_tool

pytestmark = pytest.mark.helm

CHART = "observability"
NS = CHART  # the release namespace of the rendered chart (conftest renders into <chart>)
ENV_LABEL = {"environment": "production"}


@functools.cache
def _rendered_rules(env: str, sets: tuple[str, ...]) -> str:
    groups = [g for r in find(render_with(CHART, env, *sets), "PrometheusRule") for g in r["spec"]["groups"]]
    return json.dumps(groups)


def rule_groups(
    env: str = "production", *sets: str, annotations: bool = False, only: set[str] | None = None
) -> dict[str, Any]:
    """The rendered rule groups; ``only``: keep just those alerts (promtool then evaluates less)."""
    groups = json.loads(_rendered_rules(env, sets))
    for group in groups:
        if only is not None:
            group["rules"] = [r for r in group["rules"] if r.get("alert") in only]
        if not annotations:
            for r in group["rules"]:
                r.pop("annotations", None)
    return {"groups": [g for g in groups if g["rules"]]}


def promtool(tmp: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [require_tool("promtool"), *args], cwd=tmp, capture_output=True, text=True, timeout=300, check=False
    )


def run_rule_tests(tmp: Path, tests: list[dict[str, Any]]) -> None:
    """Evaluate the production rules of the alerts these tests name with ``promtool test rules``."""
    names = {case["alertname"] for test in tests for case in test["alert_rule_test"]}
    groups = rule_groups("production", only=names)
    assert {r["alert"] for g in groups["groups"] for r in g["rules"]} == names, "an alert is not rendered"
    (tmp / "rules.yaml").write_text(yaml.safe_dump(groups))
    (tmp / "tests.yaml").write_text(
        yaml.safe_dump({"rule_files": ["rules.yaml"], "evaluation_interval": "1m", "tests": tests})
    )
    done = promtool(tmp, "test", "rules", "tests.yaml")
    assert done.returncode == 0, done.stdout + done.stderr


def fired(name: str, at: str, *labels: dict[str, str]) -> dict[str, Any]:
    return {"alertname": name, "eval_time": at, "exp_alerts": [{"exp_labels": dict(lbl)} for lbl in labels]}


def component(comp: str, severity: str, **extra: str) -> dict[str, str]:
    return {"severity": severity, "component": comp, **ENV_LABEL, **extra}


@pytest.mark.parametrize("env", ["staging", "production"])
def test_promtool_accepts_every_rule(env: str, tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rule_groups(env, annotations=True)))
    done = promtool(tmp_path, "check", "rules", "rules.yaml")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "SUCCESS" in done.stdout + done.stderr


# --- certificates ---------------------------------------------------------------------------------


def test_certificate_expiry_warns_at_21_days_and_pages_at_7(tmp_path: Path) -> None:
    day = 86400
    expiry = "certmanager_certificate_expiration_timestamp_seconds"
    series = [
        # expires on day 8: inside the 21-day warning at once, inside 7 days from day 1 on
        {"series": f'{expiry}{{name="redis-tls", namespace="{NS}"}}', "values": f"{8 * day}x1700"},
        # cert-manager scraped without honorLabels: the certificate's namespace is exported_namespace
        {
            "series": f'{expiry}{{name="pg-tls", namespace="cert-manager", exported_namespace="{NS}"}}',
            "values": f"{8 * day}x1700",
        },
        # far from expiry, and another namespace's certificate: never alerts
        {"series": f'{expiry}{{name="fresh", namespace="{NS}"}}', "values": f"{60 * day}x1700"},
        {"series": f'{expiry}{{name="other", namespace="elsewhere"}}', "values": f"{2 * day}x1700"},
    ]
    redis = component("certificates", "warning", name="redis-tls", namespace=NS)
    pg = component("certificates", "warning", name="pg-tls", namespace="cert-manager", exported_namespace=NS)
    crit = {**redis, "severity": "critical"}
    crit_pg = {**pg, "severity": "critical"}
    run_rule_tests(
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": series,
                "alert_rule_test": [
                    fired("CertificateExpiringSoon", "50m"),  # for: 1h not yet elapsed
                    fired("CertificateExpiringSoon", "70m", redis, pg),
                    fired("CertificateExpiryCritical", "1d"),  # exactly 7 days left: not below
                    fired("CertificateExpiryCritical", "1d5m"),  # below, but for: 10m
                    fired("CertificateExpiryCritical", "1d15m", crit, crit_pg),
                    fired("CertificateMetricsAbsent", "1h"),
                ],
            }
        ],
    )


def test_certificate_not_ready_and_metrics_absent(tmp_path: Path) -> None:
    ready = "certmanager_certificate_ready_status"
    series = [
        {"series": f'{ready}{{name="stuck", namespace="{NS}", condition="True"}}', "values": "0x40"},
        {"series": f'{ready}{{name="stuck", namespace="{NS}", condition="False"}}', "values": "1x40"},
        {"series": f'{ready}{{name="ok", namespace="{NS}", condition="True"}}', "values": "1x40"},
        {"series": f'{ready}{{name="ok", namespace="{NS}", condition="False"}}', "values": "0x40"},
    ]
    stuck = component("certificates", "warning", name="stuck", namespace=NS, condition="False")
    absent = component("certificates", "warning")
    run_rule_tests(
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": series,
                "alert_rule_test": [
                    fired("CertificateNotReady", "10m"),
                    fired("CertificateNotReady", "20m", stuck),
                    # no expiration metric at all: the guard fires after 30 minutes
                    fired("CertificateMetricsAbsent", "20m"),
                    fired("CertificateMetricsAbsent", "35m", absent),
                ],
            }
        ],
    )


# --- volumes --------------------------------------------------------------------------------------


def test_pvc_usage_warns_at_80_and_pages_at_90_percent(tmp_path: Path) -> None:
    def pvc(claim: str, used: int) -> list[dict[str, str]]:
        labels = f'namespace="{NS}", persistentvolumeclaim="{claim}"'
        return [
            {"series": f"kubelet_volume_stats_used_bytes{{{labels}}}", "values": f"{used}x40"},
            {"series": f"kubelet_volume_stats_capacity_bytes{{{labels}}}", "values": "100x40"},
        ]

    series = pvc("data-pg-0", 85) + pvc("data-redis-0", 95) + pvc("data-mongo-0", 80)
    warn = [
        component("volumes", "warning", namespace=NS, persistentvolumeclaim=c)
        for c in ("data-pg-0", "data-redis-0")
    ]
    run_rule_tests(
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": series,
                "alert_rule_test": [
                    fired("PersistentVolumeClaimAlmostFull", "4m"),
                    fired(
                        "PersistentVolumeClaimAlmostFull",
                        "7m",
                        component("volumes", "critical", namespace=NS, persistentvolumeclaim="data-redis-0"),
                    ),
                    fired("PersistentVolumeClaimFillingUp", "10m"),
                    fired("PersistentVolumeClaimFillingUp", "17m", *warn),  # 80 % exactly is not above
                ],
            }
        ],
    )


# --- backups and disaster-recovery drills (pushed metrics, HELPER_CONTRACTS 1) ---------------------


def pushed(metric: str, job: str, database: str, values: str) -> dict[str, str]:
    return {"series": f'{metric}{{job="{job}", database="{database}", namespace="{NS}"}}', "values": values}


def test_backup_age_from_the_pushed_timestamp(tmp_path: Path) -> None:
    # postgresql-ha's last base backup finished at t=0; mongodb-sharded's one every hour
    series = [
        pushed("backup_last_success_timestamp_seconds", "backup", "postgresql-ha", "0x1700"),
        pushed("backup_last_success_timestamp_seconds", "backup", "mongodb-sharded", "0+60x1700"),
    ]
    pg = component("postgresql-ha", "critical", database="postgresql-ha")
    run_rule_tests(
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": series,
                "alert_rule_test": [
                    fired("PostgreSQLBackupTooOld", "26h"),  # 26 h old is the limit, not above it
                    fired("PostgreSQLBackupTooOld", "26h5m"),  # above, for: 10m pending
                    fired("PostgreSQLBackupTooOld", "26h15m", pg),
                    fired("MongoDBBackupTooOld", "26h15m"),
                    fired("PostgreSQLBackupMissing", "26h15m"),
                ],
            }
        ],
    )


def test_backup_never_pushed_is_an_alert(tmp_path: Path) -> None:
    up = {"series": f'up{{job="pushgateway", namespace="{NS}"}}', "values": "1x1700"}
    missing = component("postgresql-ha", "warning", job="backup", database="postgresql-ha", namespace=NS)
    run_rule_tests(
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": [up],
                "alert_rule_test": [
                    fired("PostgreSQLBackupMissing", "25h"),
                    fired("PostgreSQLBackupMissing", "26h5m", missing),
                    fired("PostgreSQLBackupTooOld", "26h5m"),  # nothing to compare: the guard covers it
                    fired("PushgatewayDown", "26h5m"),
                ],
            }
        ],
    )


def test_drill_older_than_100_days_failed_or_slower_than_objective(tmp_path: Path) -> None:
    day = 86400
    series = [
        # last successful drill 99 days before t=0, last run (failed) just now
        pushed("dr_drill_last_success_timestamp_seconds", "dr-drill", "postgresql-ha", f"{-99 * day}x1700"),
        pushed("dr_drill_last_run_timestamp_seconds", "dr-drill", "postgresql-ha", "0x1700"),
        pushed("dr_drill_success", "dr-drill", "postgresql-ha", "0x1700"),
        pushed("dr_drill_restore_duration_seconds", "dr-drill", "postgresql-ha", "1500x1700"),
        pushed("dr_drill_recovery_objective_seconds", "dr-drill", "postgresql-ha", "1800x1700"),
        # mongodb-sharded: a fresh, successful drill whose restore took longer than its objective
        pushed("dr_drill_last_success_timestamp_seconds", "dr-drill", "mongodb-sharded", "0+60x1700"),
        pushed("dr_drill_last_run_timestamp_seconds", "dr-drill", "mongodb-sharded", "0+60x1700"),
        pushed("dr_drill_success", "dr-drill", "mongodb-sharded", "1x1700"),
        pushed("dr_drill_restore_duration_seconds", "dr-drill", "mongodb-sharded", "2400x1700"),
        pushed("dr_drill_recovery_objective_seconds", "dr-drill", "mongodb-sharded", "1800x1700"),
    ]
    run_rule_tests(
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": series,
                "alert_rule_test": [
                    fired("PostgreSQLDRDrillTooOld", "1d"),  # exactly 100 days: not above
                    fired("PostgreSQLDRDrillTooOld", "1d30m"),  # above, for: 1h pending
                    fired(
                        "PostgreSQLDRDrillTooOld",
                        "1d2h",
                        component("postgresql-ha", "warning", database="postgresql-ha"),
                    ),
                    fired("MongoDBDRDrillTooOld", "1d2h"),
                    fired(
                        "PostgreSQLDRDrillFailed",
                        "10m",
                        component("postgresql-ha", "warning", database="postgresql-ha"),
                    ),
                    fired("MongoDBDRDrillFailed", "10m"),
                    fired("PostgreSQLDRRestoreSlowerThanObjective", "10m"),
                    fired(
                        "MongoDBDRRestoreSlowerThanObjective",
                        "10m",
                        component("mongodb-sharded", "warning", database="mongodb-sharded"),
                    ),
                    fired("PostgreSQLDRDrillMissing", "1d2h"),
                ],
            }
        ],
    )


def test_drill_that_never_ran_is_an_alert(tmp_path: Path) -> None:
    missing = component(
        "mongodb-sharded", "warning", job="dr-drill", database="mongodb-sharded", namespace=NS
    )
    run_rule_tests(
        tmp_path,
        [
            {
                "interval": "1h",
                "input_series": [],
                "alert_rule_test": [
                    fired("MongoDBDRDrillMissing", "23h"),
                    fired("MongoDBDRDrillMissing", "25h", missing),
                ],
            }
        ],
    )


# --- component alerts -------------------------------------------------------------------------------


def test_wal_archiving_failure_does_not_page_on_one_transient_error(tmp_path: Path) -> None:
    def failures(pod: str, values: str) -> dict[str, str]:
        return {
            "series": f'pg_stat_archiver_failed_count{{job="postgresql-ha", namespace="{NS}", pod="{pod}"}}',
            "values": values,
        }

    series = [
        failures("pg-0", "0x10 1x50"),  # one failed attempt at minute 11, the retry archived it
        failures("pg-1", "0+2x60"),  # archive_command keeps failing
    ]
    page = component("postgresql-ha", "critical", job="postgresql-ha", namespace=NS, pod="pg-1")
    run_rule_tests(
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": series,
                "alert_rule_test": [
                    fired("PostgreSQLWALArchivingFailing", "14m"),  # rate > 0 since 1m, for: 15m
                    fired("PostgreSQLWALArchivingFailing", "20m", page),
                    fired("PostgreSQLWALArchivingFailing", "25m", page),  # pg-0's single error never pages
                    fired("PostgreSQLWALArchivingFailing", "40m", page),  # pg-0 never fires
                ],
            }
        ],
    )


def test_redis_persistence_failures(tmp_path: Path) -> None:
    def redis(metric: str, pod: str, value: int) -> dict[str, str]:
        return {
            "series": f'{metric}{{job="redis-cluster", namespace="{NS}", pod="{pod}"}}',
            "values": f"{value}x20",
        }

    series = [
        redis("redis_rdb_last_bgsave_status", "node-0", 0),
        redis("redis_rdb_last_bgsave_status", "node-1", 1),
        redis("redis_aof_last_write_status", "node-0", 1),
        redis("redis_aof_last_write_status", "node-1", 1),
        redis("redis_aof_last_bgrewrite_status", "node-0", 1),
        redis("redis_aof_last_bgrewrite_status", "node-1", 0),
    ]
    run_rule_tests(
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": series,
                "alert_rule_test": [
                    fired("RedisRDBSaveFailing", "4m"),
                    fired(
                        "RedisRDBSaveFailing",
                        "6m",
                        component("redis-cluster", "critical", namespace=NS, pod="node-0"),
                    ),
                    fired(
                        "RedisAOFWriteFailing",
                        "6m",
                        component("redis-cluster", "critical", namespace=NS, pod="node-1"),
                    ),
                ],
            }
        ],
    )


def test_absent_guards_when_a_source_job_is_missing(tmp_path: Path) -> None:
    """With no series at all, every SLI and every component's scrape is reported missing instead of
    every SLO and component alert silently evaluating to nothing."""
    api = {"series": 'up{job="spotify-ai-agent-api"}', "values": "1x30"}
    redis_up = {"series": f'up{{job="redis-cluster", namespace="{NS}", pod="node-0"}}', "values": "1x30"}
    slo = {"component": "slo", "severity": "warning", **ENV_LABEL, "job": "spotify-ai-agent-api"}
    run_rule_tests(
        tmp_path,
        [
            {
                "interval": "1m",
                "input_series": [api, redis_up],
                "alert_rule_test": [
                    fired(
                        "SLOSourceMissing",
                        "20m",
                        {**slo, "slo": "error-rate"},
                        {**slo, "slo": "latency"},
                    ),
                    fired("RedisMetricsAbsent", "20m"),  # scraped
                    fired("PostgreSQLMetricsAbsent", "10m"),
                    fired(
                        "PostgreSQLMetricsAbsent",
                        "20m",
                        component("postgresql-ha", "warning", job="postgresql-ha"),
                    ),
                    fired(
                        "MongoDBMetricsAbsent",
                        "20m",
                        component("mongodb-sharded", "warning", job="mongodb-sharded"),
                    ),
                ],
            }
        ],
    )


def test_redis_has_no_backup_or_drill_alerts_by_default() -> None:
    """redis-cluster keeps its data on its volumes and ships no backup job: no alert would ever see
    a pushed result for it."""
    names = {r.get("alert") for g in rule_groups()["groups"] for r in g["rules"]}
    assert {"PostgreSQLDRDrillTooOld", "MongoDBBackupTooOld"} <= names
    assert not {n for n in names if n and n.startswith("Redis") and ("Backup" in n or "Drill" in n)}
