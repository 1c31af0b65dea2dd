"""observability's Pushgateway end to end, with the real servers (Debian's prometheus-pushgateway
and prometheus packages) on 127.0.0.1.

The Pushgateway runs with the arguments the chart's Deployment renders (only the listen address
and the volume path are moved to the test's port and directory) and is probed on the rendered
probe paths. The drill and backup results are pushed the way HELPER_CONTRACTS.md fixes them
(grouping job="dr-drill"/"backup", label database); the Pushgateway is restarted to prove the
persistence file keeps them; then Prometheus scrapes it with the ServiceMonitor's honorLabels and
relabelings, loads the chart's rendered rules and must raise the drill and backup alerts.
"""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.catalog.conftest import find, rendered
from tests.conftest import require_tool

pytestmark = [pytest.mark.helm, pytest.mark.slow]

CHART = "observability"
DAY = 86400


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http(url: str, data: bytes | None = None, method: str = "GET") -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status), response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


def wait_for(what: str, check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = check()
        except (urllib.error.URLError, ConnectionError, OSError):
            result = None
        if result:
            return result
        time.sleep(0.25)
    raise AssertionError(f"timed out waiting for {what}")


def pushgateway_objects() -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    objects = rendered(CHART, "production")
    (deploy,) = [d for d in find(objects, "Deployment") if d["metadata"]["name"].endswith("-pushgateway")]
    (monitor,) = [
        m for m in find(objects, "ServiceMonitor") if m["metadata"]["name"].endswith("-pushgateway")
    ]
    (container,) = deploy["spec"]["template"]["spec"]["containers"]
    return deploy, container, monitor


class Pushgateway:
    """prometheus-pushgateway started with the chart's rendered arguments."""

    def __init__(self, args: list[str], root: Path) -> None:
        self.port = free_port()
        self.root = root
        self.args = [
            f"--web.listen-address=127.0.0.1:{self.port}"
            if a.startswith("--web.listen-address=")
            else a.replace("=/data/", f"={root}/")
            for a in args
        ]
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, ready_path: str) -> None:
        binary = require_tool("prometheus-pushgateway")
        log = (self.root / "pushgateway.log").open("ab")
        self.proc = subprocess.Popen([binary, *self.args], stdout=log, stderr=subprocess.STDOUT)
        wait_for("the Pushgateway to be ready", lambda: http(self.url + ready_path)[0] == 200)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
            self.proc = None


@pytest.fixture
def pushgateway(tmp_path: Path) -> Iterator[Pushgateway]:
    _, container, _ = pushgateway_objects()
    gateway = Pushgateway(container["args"], tmp_path)
    try:
        yield gateway
    finally:
        gateway.stop()


def push(gateway: Pushgateway, job: str, database: str, metrics: dict[str, float]) -> None:
    body = "".join(f"# TYPE {name} gauge\n{name} {value}\n" for name, value in metrics.items())
    status, text = http(f"{gateway.url}/metrics/job/{job}/database/{database}", body.encode(), "PUT")
    assert status == 200, text


def test_pushgateway_keeps_pushed_results_and_prometheus_alerts_on_them(
    pushgateway: Pushgateway, tmp_path: Path
) -> None:
    deploy, container, monitor = pushgateway_objects()
    probes = {k: container[k]["httpGet"] for k in ("livenessProbe", "readinessProbe")}
    assert {p["port"] for p in probes.values()} == {"http"}
    assert any(a.startswith("--persistence.file=/data/") for a in container["args"])
    pushgateway.start(probes["readinessProbe"]["path"])
    assert http(pushgateway.url + probes["livenessProbe"]["path"])[0] == 200

    now = time.time()
    push(
        pushgateway,
        "dr-drill",
        "postgresql-ha",
        {
            "dr_drill_last_run_timestamp_seconds": now,
            "dr_drill_last_success_timestamp_seconds": now - 101 * DAY,
            "dr_drill_success": 1,
            "dr_drill_restore_duration_seconds": 2400,
            "dr_drill_recovery_objective_seconds": 1800,
        },
    )
    push(pushgateway, "backup", "postgresql-ha", {"backup_last_success_timestamp_seconds": now - 30 * 3600})

    # a restart (new pod, same volume) keeps what was pushed: the drill runs once a quarter
    pushgateway.stop()
    pushgateway.start(probes["readinessProbe"]["path"])
    status, body = http(pushgateway.url + "/api/v1/metrics")
    assert status == 200
    groups = {
        (g["labels"]["job"], g["labels"]["database"])
        for g in json.loads(body)["data"]
        if "database" in g["labels"]
    }
    assert groups == {("dr-drill", "postgresql-ha"), ("backup", "postgresql-ha")}

    # Prometheus scrapes it as the ServiceMonitor says and evaluates the chart's rules
    (endpoint,) = monitor["spec"]["endpoints"]
    assert endpoint["honorLabels"] is True
    rules = {
        "groups": [
            g for r in find(rendered(CHART, "production"), "PrometheusRule") for g in r["spec"]["groups"]
        ]
    }
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules))
    namespace = deploy["metadata"]["namespace"]
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(tmp_path / "rules.yaml")],
        "scrape_configs": [
            {
                "job_name": "servicemonitor/pushgateway",
                "honor_labels": endpoint["honorLabels"],
                "metrics_path": endpoint["path"],
                "static_configs": [
                    {"targets": [f"127.0.0.1:{pushgateway.port}"], "labels": {"namespace": namespace}}
                ],
                "relabel_configs": [
                    {"action": r["action"], "target_label": r["targetLabel"], "replacement": r["replacement"]}
                    for r in endpoint["relabelings"]
                ],
            }
        ],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    log = (tmp_path / "prometheus.log").open("wb")
    prometheus = subprocess.Popen(
        [
            require_tool("prometheus"),
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    api = f"http://127.0.0.1:{port}/api/v1"
    try:

        def alerts() -> dict[str, dict[str, str]] | None:
            status, body = http(api + "/alerts")
            if status != 200:  # 503 while the TSDB starts
                return None
            found = {a["labels"]["alertname"]: a["labels"] for a in json.loads(body)["data"]["alerts"]}
            wanted = {
                "PostgreSQLDRDrillTooOld",
                "PostgreSQLDRRestoreSlowerThanObjective",
                "PostgreSQLBackupTooOld",
            }
            return found if wanted <= set(found) else None

        found = wait_for("the drill and backup alerts", alerts, timeout=60)
        for name in (
            "PostgreSQLDRDrillTooOld",
            "PostgreSQLDRRestoreSlowerThanObjective",
            "PostgreSQLBackupTooOld",
        ):
            assert found[name]["database"] == "postgresql-ha", found[name]
            assert found[name]["component"] == "postgresql-ha"
        # what is fine does not alert (absent() guards are pending only until the first scrape)
        quiet = {
            "PostgreSQLDRDrillFailed",
            "PushgatewayDown",
            "PostgreSQLDRDrillMissing",
            "PostgreSQLBackupMissing",
        }
        settled = wait_for(
            "the absent() guards to settle", lambda: (a := alerts()) and not quiet & set(a) and a
        )
        assert {"PostgreSQLDRDrillTooOld", "PostgreSQLBackupTooOld"} <= set(settled)
        query = urllib.parse.quote('up{job="pushgateway"}')
        status, body = http(f"{api}/query?query={query}")
        (up,) = json.loads(body)["data"]["result"]
        assert up["value"][1] == "1" and up["metric"]["namespace"] == namespace
    finally:
        prometheus.terminate()
        prometheus.wait(timeout=20)
