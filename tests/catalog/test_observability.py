"""observability: monitors, alerts, SLOs, dashboards, traces and logs as helm renders them.

The seed's SLA (99.95 % availability, < 0.1 % errors, P99 < 100 ms) as multi-window
multi-burn-rate alerts (1h/5m × 14.4, 6h/30m × 6, 1d/2h × 3, 3d/6h × 1), every alert with a
summary, a description and a runbook_url, monitors that select what the component charts expose.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from tests.catalog.conftest import ENVIRONMENTS, catalog, find, render_text, render_with, rendered
from tests.catalog.platform_helpers import containers, pod_templates, strict_errors

from chartforge.policy.selectors import selects

pytestmark = pytest.mark.helm

CHART = "observability"
COMPONENTS = [
    c
    for c in ("postgresql-ha", "redis-cluster", "mongodb-sharded")
    if c in {x.name for x in catalog().charts}
]
MONITORED = ("production", "staging")  # development switches the observability chart off
WINDOWS = [("1h", "5m", 14.4), ("6h", "30m", 6.0), ("1d", "2h", 3.0), ("3d", "6h", 1.0)]
ALL_FEATURES = (
    "opentelemetry.collector.enabled=true",
    "opentelemetry.instrumentation.enabled=true",
    "jaeger.enabled=true",
    "logs.elasticsearch.enabled=true",
    "logs.elasticsearch.endpoints[0]=https://es.example:9200",
    "logs.elasticsearch.existingSecret=es-credentials",
    "logs.nodeCollector.enabled=true",
)


def alerts(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        r
        for pr in find(objects, "PrometheusRule")
        for g in pr["spec"]["groups"]
        for r in g["rules"]
        if "alert" in r
    ]


def records(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {
        r["record"]: r
        for pr in find(objects, "PrometheusRule")
        for g in pr["spec"]["groups"]
        for r in g["rules"]
        if "record" in r
    }


def threshold(expr_line: str) -> float:
    """The number a burn-rate line compares against: `(F * (1 - T))` or `(F * B)`, evaluated."""
    match = re.search(r">\s*\(([0-9.]+) \* (?:\(1 - ([0-9.]+)\)|([0-9.]+))\)", expr_line)
    assert match, expr_line
    factor = float(match.group(1))
    budget = 1 - float(match.group(2)) if match.group(2) else float(match.group(3))
    return factor * budget


# --- monitors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("env", MONITORED)
def test_service_monitor_per_component_with_selector_labels(env: str) -> None:
    monitors = {
        m["metadata"]["labels"]["app.kubernetes.io/component"]: m
        for m in find(rendered(CHART, env), "ServiceMonitor")
    }
    for component in ("postgresql-ha", "redis-cluster", "mongodb-sharded"):
        spec = monitors[component]["spec"]
        assert spec["selector"]["matchLabels"] == {
            "app.kubernetes.io/name": component,
            "app.kubernetes.io/component": "metrics",
        }
        assert spec["endpoints"][0]["port"] == "metrics"
        assert spec["namespaceSelector"] == {"matchNames": [CHART]}
    for kind in ("ServiceMonitor", "PodMonitor", "PrometheusRule"):
        for obj in find(rendered(CHART, env), kind):
            assert obj["metadata"]["labels"]["release"] == "kube-prometheus-stack", obj["metadata"]["name"]


def test_selector_labels_are_configurable() -> None:
    objects = render_with(
        CHART,
        "production",
        "global.monitoring.selectorLabels.release=kps",
        "serviceMonitor.labels.team=platform",
    )
    for kind in ("ServiceMonitor", "PodMonitor", "PrometheusRule"):
        for obj in find(objects, kind):
            assert obj["metadata"]["labels"]["release"] == "kps"
            assert obj["metadata"]["labels"]["team"] == "platform"


@pytest.mark.parametrize("component", COMPONENTS)
def test_service_monitor_selects_the_component_metrics_service(component: str) -> None:
    """Cross-chart contract: the monitor finds the component chart's metrics Service and port."""
    (monitor,) = [
        m
        for m in find(rendered(CHART, "production"), "ServiceMonitor")
        if m["metadata"]["labels"]["app.kubernetes.io/component"] == component
    ]
    services = [
        s
        for s in find(rendered(component, "production"), "Service")
        if selects(monitor["spec"]["selector"], s["metadata"]["labels"])
    ]
    assert services, f"no Service of {component} matches {monitor['spec']['selector']}"
    for service in services:
        assert "metrics" in {p["name"] for p in service["spec"]["ports"]}


def test_patroni_pod_monitor_port_exists_on_postgresql_pods() -> None:
    if "postgresql-ha" not in COMPONENTS:
        pytest.skip("postgresql-ha is not in the catalog")
    (pm,) = find(rendered(CHART, "production"), "PodMonitor")
    port = pm["spec"]["podMetricsEndpoints"][0]["port"]
    selected = [
        pod
        for _, pod in pod_templates(rendered("postgresql-ha", "production"))
        if selects(pm["spec"]["selector"], pod["metadata"]["labels"])
    ]
    assert any(
        port in {p.get("name") for c in containers(pod) for p in c.get("ports", [])} for pod in selected
    )


def test_disabled_component_has_no_monitor_nor_alerts() -> None:
    objects = render_with(CHART, "production", "components.redis-cluster.enabled=false")
    assert not [
        o for o in objects if o["metadata"]["labels"].get("app.kubernetes.io/component") == "redis-cluster"
    ]
    assert not [a for a in alerts(objects) if a["labels"]["component"] == "redis-cluster"]


# --- alerts ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", MONITORED)
def test_every_alert_has_summary_description_runbook_and_severity(env: str) -> None:
    found = alerts(rendered(CHART, env))
    assert len(found) >= 30
    for alert in found:
        ann = alert["annotations"]
        assert ann["summary"] and ann["description"], alert["alert"]
        assert re.match(
            r"^https://runbooks\.company\.com/spotify-ai-agent/[a-z-]+#[a-z0-9]+$", ann["runbook_url"]
        ), ann
        assert alert["labels"]["severity"] in {"critical", "warning", "info"}
        assert alert["labels"]["environment"] == env


def test_prometheus_templates_reach_prometheus_unescaped() -> None:
    text = render_text(CHART, "production")
    assert "{{ $labels.pod }}" in text and "{{ $value | humanize }}" in text
    assert "`" not in "".join(a["annotations"]["description"] for a in alerts(rendered(CHART, "production")))


@pytest.mark.parametrize(
    ("component", "names"),
    [
        (
            "postgresql-ha",
            {
                "PostgreSQLInstanceDown",
                "PostgreSQLReplicationLagHigh",
                "PatroniLeaderMissing",
                "PostgreSQLMemoryHigh",
                "PostgreSQLWALArchiveStale",
            },
        ),
        (
            "redis-cluster",
            {"RedisInstanceDown", "RedisReplicationLagHigh", "RedisClusterStateFail", "RedisMemoryHigh"},
        ),
        (
            "mongodb-sharded",
            {
                "MongoDBInstanceDown",
                "MongoDBReplicationLagHigh",
                "MongoDBReplicaSetMemberUnhealthy",
                "MongoDBMemoryHigh",
                "MongoDBBackupTooOld",
            },
        ),
    ],
)
def test_component_alerts(component: str, names: set[str]) -> None:
    """Instance down, replication lag, memory, cluster state and backup freshness per component."""
    got = {a["alert"] for a in alerts(rendered(CHART, "production")) if a["labels"]["component"] == component}
    assert names <= got, names - got


def test_backup_alert_compares_age_with_the_schedule_interval() -> None:
    (alert,) = [a for a in alerts(rendered(CHART, "production")) if a["alert"] == "MongoDBBackupTooOld"]
    expr = alert["expr"]
    assert "kube_cronjob_status_last_successful_time" in expr
    assert "kube_cronjob_next_schedule_time" in expr and "kube_cronjob_status_last_schedule_time" in expr


def test_every_expression_is_valid_promql() -> None:
    import promql_parser as parser  # a dev extra: a missing parser must fail, not skip

    objects = render_with(CHART, "production", "components.redis-cluster.minReplicasPerPrimary=1")
    rules = [r for pr in find(objects, "PrometheusRule") for g in pr["spec"]["groups"] for r in g["rules"]]
    assert len(rules) > 40
    for rule in rules:
        parser.parse(rule["expr"])


# --- SLOs -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("env", MONITORED)
def test_slo_thresholds(env: str) -> None:
    objects = rendered(CHART, env)
    rec = records(objects)
    assert rec["slo:objective_availability_target"]["expr"] == "vector(0.9995)"
    assert rec["slo:objective_error_rate"]["expr"] == "vector(0.001)"
    assert rec["slo:objective_latency_p99_seconds"]["expr"] == "vector(0.1)"
    (latency,) = [a for a in alerts(objects) if a["alert"] == "SLOLatencyP99High"]
    assert latency["expr"].endswith("> 0.1")
    assert "histogram_quantile(0.99," in rec["slo:sli_latency_seconds:p99_rate5m"]["expr"]


@pytest.mark.parametrize(
    ("slo", "budget"),
    [("SLOAvailabilityErrorBudgetBurn", 1 - 0.9995), ("SLOErrorRateErrorBudgetBurn", 0.001)],
)
def test_multi_window_multi_burn_rate(slo: str, budget: float) -> None:
    objects = rendered(CHART, "production")
    rec = records(objects)
    burns = [a for a in alerts(objects) if a["alert"] == slo]
    got = [
        (a["labels"]["long_window"], a["labels"]["short_window"], float(a["labels"]["burn_rate"]))
        for a in burns
    ]
    assert got == WINDOWS
    for alert, (long, short, factor) in zip(burns, WINDOWS, strict=True):
        lines = alert["expr"].split("\n")
        assert len(lines) == 3 and lines[1] == "and"
        for line, window in ((lines[0], long), (lines[2], short)):
            series = line.split("{")[0]
            assert series.endswith(window) and series in rec, line  # a recorded SLI over that window
            assert threshold(line) == pytest.approx(factor * budget)
        assert alert["labels"]["severity"] == ("critical" if factor >= 6 else "warning")


def test_sli_metric_names_are_values() -> None:
    objects = render_with(
        CHART,
        "production",
        "slo.sli.requestsMetric=api_requests_total",
        'slo.sli.selector=app="gateway"',
        "json:slo.availabilityTarget=0.999",
    )
    rec = records(objects)
    assert 'api_requests_total{app="gateway", code=~"5.."}[1h]' in rec["slo:sli_errors:ratio_rate1h"]["expr"]
    burn = next(a for a in alerts(objects) if a["alert"] == "SLOAvailabilityErrorBudgetBurn")
    assert "(14.4 * (1 - 0.999))" in burn["expr"]


# --- dashboards -----------------------------------------------------------------------------------


@pytest.mark.parametrize("env", MONITORED)
def test_grafana_dashboards(env: str) -> None:
    maps = [c for c in find(rendered(CHART, env), "ConfigMap") if "dashboard" in c["metadata"]["name"]]
    assert len(maps) == 1 + len(("postgresql-ha", "redis-cluster", "mongodb-sharded"))
    for cm in maps:
        assert cm["metadata"]["labels"]["grafana_dashboard"] == "1"
        ((name, body),) = cm["data"].items()
        board = json.loads(body)
        assert board["uid"] and board["panels"], name
        for panel in board["panels"]:
            assert panel["targets"] and all(t["expr"] for t in panel["targets"])
    redis = next(cm for cm in maps if "redis" in cm["metadata"]["name"])
    assert '"legendFormat": "{{pod}}"' in next(iter(redis["data"].values()))  # Grafana's {{ }} left alone


# --- traces and logs ------------------------------------------------------------------------------


def test_tracing_per_environment() -> None:
    kinds = {e: {o["kind"] for o in rendered(CHART, e)} for e in ENVIRONMENTS}
    for env in MONITORED:
        assert {"OpenTelemetryCollector", "Instrumentation", "Jaeger"} <= kinds[env]
    (jaeger,) = find(rendered(CHART, "production"), "Jaeger")
    assert jaeger["spec"]["strategy"] == "production" and jaeger["spec"]["storage"]["type"] == "elasticsearch"
    assert jaeger["metadata"]["namespace"] == f"{CHART}-tracing"


def test_collector_runs_restricted_and_ships_logs_to_elasticsearch() -> None:
    (col,) = find(rendered(CHART, "production"), "OpenTelemetryCollector")
    spec = col["spec"]
    assert spec["mode"] == "deployment" and spec["replicas"] >= 2 and spec["podDisruptionBudget"]
    assert spec["podSecurityContext"]["runAsNonRoot"] is True
    assert spec["securityContext"]["allowPrivilegeEscalation"] is False
    assert spec["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert spec["securityContext"]["readOnlyRootFilesystem"] is True
    assert not spec["image"].endswith(":latest")
    assert spec["config"]["service"]["pipelines"]["logs"]["exporters"] == ["elasticsearch"]
    assert spec["config"]["exporters"]["elasticsearch"]["password"] == "${env:ES_PASSWORD}"
    secret_refs = {e["name"]: e["valueFrom"]["secretKeyRef"]["name"] for e in spec["env"]}
    assert secret_refs == {
        "ES_USERNAME": "spotify-ai-agent-observability-elasticsearch",
        "ES_PASSWORD": "spotify-ai-agent-observability-elasticsearch",
    }
    assert spec["config"]["exporters"]["otlp/traces"]["endpoint"].startswith(
        "observability-jaeger-collector.observability-tracing.svc"
    )


def test_jaeger_namespace_is_the_documented_baseline_exception() -> None:
    namespaces = {n["metadata"]["name"]: n for n in find(rendered(CHART, "production"), "Namespace")}
    labels = namespaces[f"{CHART}-tracing"]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "baseline"
    assert (
        labels["pod-security.kubernetes.io/warn"]
        == labels["pod-security.kubernetes.io/audit"]
        == "restricted"
    )
    policies = [
        p
        for p in find(rendered(CHART, "production"), "NetworkPolicy")
        if p["metadata"]["namespace"] == f"{CHART}-tracing"
    ]
    assert any(
        p["spec"]["podSelector"] == {} and "ingress" not in p["spec"] for p in policies
    )  # default deny


def test_node_log_collector_is_off_and_isolated_when_on(env: str) -> None:
    assert not [
        o
        for o in rendered(CHART, env)
        if o["kind"] == "OpenTelemetryCollector" and o["spec"]["mode"] == "daemonset"
    ]
    objects = render_with(CHART, "production", *ALL_FEATURES)
    (daemon,) = [
        o for o in objects if o["kind"] == "OpenTelemetryCollector" and o["spec"]["mode"] == "daemonset"
    ]
    ns = daemon["metadata"]["namespace"]
    assert ns == f"{CHART}-logs" != CHART
    (namespace,) = [n for n in find(objects, "Namespace") if n["metadata"]["name"] == ns]
    assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"
    (host,) = [v for v in daemon["spec"]["volumes"] if "hostPath" in v]
    assert host["hostPath"]["path"] == "/var/log/pods"
    assert all(m.get("readOnly") for m in daemon["spec"]["volumeMounts"] if m["name"] == host["name"])
    assert [p for p in find(objects, "NetworkPolicy") if p["metadata"]["namespace"] == ns]
    hostpaths = [o for o in objects if "hostPath" in json.dumps(o.get("spec", {}))]
    assert hostpaths == [daemon]  # the single hostPath workload


def test_node_log_collector_needs_elasticsearch() -> None:
    from chartforge.errors import ToolError

    with pytest.raises(ToolError, match=r"logs\.nodeCollector\.enabled needs logs\.elasticsearch\.enabled"):
        render_text(
            CHART, "production", "logs.elasticsearch.enabled=false", "logs.nodeCollector.enabled=true"
        )


def test_every_feature_validates_strictly() -> None:
    text = render_text(
        CHART, "production", *ALL_FEATURES, "jaeger.strategy=allInOne", "jaeger.storage.type=badger"
    )
    assert strict_errors(text) == []
    assert strict_errors(render_text(CHART, "production", *ALL_FEATURES)) == []
