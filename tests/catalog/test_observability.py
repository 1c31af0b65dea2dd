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
from tests.catalog.conftest import (
    ENVIRONMENTS,
    assert_restricted,
    catalog,
    find,
    render_text,
    render_with,
    rendered,
)
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


def test_backup_alerts_read_the_pushed_backup_timestamp() -> None:
    """The backup age comes from backup_last_success_timestamp_seconds, which the backup jobs push
    (HELPER_CONTRACTS 1), not from CronJob metrics: PostgreSQL's base backups run in Spilo, not in
    a CronJob, so the old kube_cronjob-based alert and panel never saw them."""
    found = {a["alert"]: a for a in alerts(rendered(CHART, "production"))}
    for prefix, chart in (("PostgreSQL", "postgresql-ha"), ("MongoDB", "mongodb-sharded")):
        expr = found[f"{prefix}BackupTooOld"]["expr"]
        assert f'backup_last_success_timestamp_seconds{{job="backup", database="{chart}"' in expr
        assert "kube_cronjob" not in expr and expr.endswith(f"> {26 * 3600}")
        assert found[f"{prefix}BackupMissing"]["expr"].startswith(
            "absent(backup_last_success_timestamp_seconds{"
        )


@pytest.mark.parametrize("env", MONITORED)
def test_dashboards_query_metrics_that_exist(env: str) -> None:
    """No panel queries kube-state-metrics CronJob series (no catalog backup of PostgreSQL is a
    CronJob); the backup age panels read the pushed timestamp."""
    maps = [c for c in find(rendered(CHART, env), "ConfigMap") if "dashboard" in c["metadata"]["name"]]
    panels = {
        (cm["metadata"]["name"], p["title"]): [t["expr"] for t in p["targets"]]
        for cm in maps
        for p in json.loads(next(iter(cm["data"].values())))["panels"]
    }
    assert not [k for k, exprs in panels.items() if any("kube_cronjob" in e for e in exprs)]
    (pg_backup,) = [e for (name, title), e in panels.items() if title == "Last base backup age"]
    assert pg_backup == [
        'time() - max(backup_last_success_timestamp_seconds{job="backup", database="postgresql-ha", namespace="$namespace"})'
    ]


@pytest.mark.parametrize(
    ("name", "severity", "for_", "expr_end"),
    [
        ("CertificateExpiringSoon", "warning", "1h", f"< {21 * 86400}"),
        ("CertificateExpiryCritical", "critical", "10m", f"< {7 * 86400}"),
        ("PersistentVolumeClaimFillingUp", "warning", "15m", "* 100 > 80"),
        ("PersistentVolumeClaimAlmostFull", "critical", "5m", "* 100 > 90"),
        ("PostgreSQLDRDrillTooOld", "warning", "1h", f"> {100 * 86400}"),
        ("PostgreSQLWALArchivingFailing", "critical", "15m", "[5m]) > 0"),
    ],
)
def test_thresholds_and_durations(name: str, severity: str, for_: str, expr_end: str) -> None:
    (alert,) = [a for a in alerts(rendered(CHART, "production")) if a["alert"] == name]
    assert alert["labels"]["severity"] == severity and alert["for"] == for_
    assert alert["expr"].endswith(expr_end), alert["expr"]


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


def jaeger(objects: list[dict[str, Any]]) -> dict[str, Any]:
    (found,) = [
        o
        for o in find(objects, "OpenTelemetryCollector")
        if o["metadata"]["labels"]["app.kubernetes.io/component"] == "jaeger"
    ]
    return found


def test_tracing_per_environment() -> None:
    """Jaeger v2 (an OpenTelemetry Collector distribution) replaces the end-of-life Jaeger Operator
    CR: memory storage in staging, Elasticsearch with two replicas in production."""
    for env in MONITORED:
        objects = rendered(CHART, env)
        assert not find(objects, "Jaeger")  # no jaegertracing.io/v1 CR: the Jaeger Operator is EOL
        assert {"OpenTelemetryCollector", "Instrumentation"} <= {o["kind"] for o in objects}
        spec = jaeger(objects)["spec"]
        image = spec["image"].rsplit(":", 1)
        assert image[0].endswith("jaegertracing/jaeger") and image[1].startswith("2.")
        backend = spec["config"]["extensions"]["jaeger_storage"]["backends"]["main"]
        assert spec["config"]["exporters"]["jaeger_storage_exporter"] == {"trace_storage": "main"}
        assert spec["config"]["extensions"]["jaeger_query"]["storage"] == {"traces": "main"}
        assert {"jaeger_storage", "jaeger_query"} <= set(spec["config"]["service"]["extensions"])
        assert {p["port"] for p in spec["ports"]} == {16686, 16685}
        if env == "staging":
            assert list(backend) == ["memory"] and spec["replicas"] == 1
        else:
            assert backend["elasticsearch"]["server_urls"] == [
                "https://elasticsearch-es-http.elastic-system.svc:9200"
            ]
            assert backend["elasticsearch"]["auth"]["basic"]["password"] == "${env:ES_PASSWORD}"
            assert backend["elasticsearch"]["tls"] == {"ca_file": "/etc/jaeger/elasticsearch-ca/ca.crt"}
            assert spec["volumes"] == [
                {
                    "name": "elasticsearch-ca",
                    "secret": {"secretName": "spotify-ai-agent-observability-elasticsearch-ca"},
                }
            ]
            assert spec["replicas"] == 2 and spec["podDisruptionBudget"] == {"maxUnavailable": 1}
            (cleaner,) = [
                c for c in find(objects, "CronJob") if c["metadata"]["name"].endswith("-index-cleaner")
            ]
            pod = cleaner["spec"]["jobTemplate"]["spec"]["template"]["spec"]
            assert_restricted("jaeger index cleaner", pod)
            assert pod["containers"][0]["args"] == [
                "7",
                "https://elasticsearch-es-http.elastic-system.svc:9200",
            ]


def test_jaeger_runs_restricted_in_the_release_namespace() -> None:
    """The Jaeger Operator gave Jaeger no container securityContext, so it needed its own namespace
    at Pod Security "baseline"; Jaeger v2 under the OpenTelemetry Operator runs restricted."""
    objects = rendered(CHART, "production")
    spec = jaeger(objects)["spec"]
    assert jaeger(objects)["metadata"]["namespace"] == CHART
    assert not [n for n in find(objects, "Namespace") if n["metadata"]["name"].endswith("-tracing")]
    pod, container = spec["podSecurityContext"], spec["securityContext"]
    assert pod["runAsNonRoot"] is True and pod["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["allowPrivilegeEscalation"] is False and container["capabilities"]["drop"] == ["ALL"]
    assert container["readOnlyRootFilesystem"] is True and container["runAsNonRoot"] is True
    (policy,) = [p for p in find(objects, "NetworkPolicy") if p["metadata"]["name"] == "observability-jaeger"]
    otlp = policy["spec"]["ingress"][0]
    assert (
        otlp["from"][0]["podSelector"]["matchLabels"]["app.kubernetes.io/instance"]
        == "observability.observability-otel"
    )


def test_jaeger_memory_storage_is_single_replica() -> None:
    from chartforge.errors import ToolError

    with pytest.raises(
        ToolError, match=r"jaeger\.replicaCount > 1 needs jaeger\.storage\.type elasticsearch"
    ):
        render_text(CHART, "staging", "jaeger.replicaCount=2")


def test_collector_runs_restricted_and_ships_logs_to_elasticsearch() -> None:
    (col,) = [
        c
        for c in find(rendered(CHART, "production"), "OpenTelemetryCollector")
        if c["metadata"]["labels"]["app.kubernetes.io/component"] == "otel-collector"
    ]
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
    assert (
        spec["config"]["exporters"]["otlp/traces"]["endpoint"]
        == "observability-jaeger-collector.observability.svc:4317"
    )


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
        CHART, "production", *ALL_FEATURES, "jaeger.replicaCount=1", "jaeger.storage.type=memory"
    )
    assert strict_errors(text) == []
    assert strict_errors(render_text(CHART, "production", *ALL_FEATURES)) == []


# --- Pushgateway ----------------------------------------------------------------------------------


def test_pushgateway_per_environment() -> None:
    for env in ENVIRONMENTS:
        umbrella = rendered("spotify-ai-agent", env)
        services = [s for s in find(umbrella, "Service") if s["metadata"]["name"].endswith("-pushgateway")]
        if env == "development":
            assert not services  # the observability chart is off in development
            continue
        # the name and port the database charts push to (HELPER_CONTRACTS 1)
        (service,) = services
        assert service["metadata"]["name"] == "spotify-ai-agent-observability-pushgateway"
        assert [(p["name"], p["port"]) for p in service["spec"]["ports"]] == [("http", 9091)]


def test_pushgateway_is_restricted_persistent_scraped_with_honor_labels() -> None:
    objects = rendered(CHART, "production")
    (deploy,) = [d for d in find(objects, "Deployment") if d["metadata"]["name"].endswith("-pushgateway")]
    assert deploy["spec"]["replicas"] == 1 and deploy["spec"]["strategy"] == {"type": "Recreate"}
    pod = deploy["spec"]["template"]
    assert_restricted("pushgateway", pod["spec"])
    assert pod["spec"]["automountServiceAccountToken"] is False
    (container,) = pod["spec"]["containers"]
    assert container["image"] == "quay.io/prometheus/pushgateway:v1.11.4"
    assert "--persistence.file=/data/pushgateway.db" in container["args"]
    (claim,) = [
        c for c in find(objects, "PersistentVolumeClaim") if c["metadata"]["name"].endswith("-pushgateway")
    ]
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["data"]["persistentVolumeClaim"]["claimName"] == claim["metadata"]["name"]
    (service,) = [s for s in find(objects, "Service") if s["metadata"]["name"].endswith("-pushgateway")]
    assert selects({"matchLabels": service["spec"]["selector"]}, pod["metadata"]["labels"])
    (monitor,) = [
        m for m in find(objects, "ServiceMonitor") if m["metadata"]["name"].endswith("-pushgateway")
    ]
    assert monitor["spec"]["endpoints"][0]["honorLabels"] is True
    assert selects(monitor["spec"]["selector"], service["metadata"]["labels"])
    (policy,) = [p for p in find(objects, "NetworkPolicy") if p["metadata"]["name"].endswith("-pushgateway")]
    assert selects(policy["spec"]["podSelector"], pod["metadata"]["labels"])
    assert policy["spec"]["egress"] == [] and set(policy["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    (rule,) = policy["spec"]["ingress"]
    assert {"podSelector": {"matchLabels": {"access.spotify-ai-agent.io/object-store": "true"}}} in rule[
        "from"
    ]
    assert [p["port"] for p in rule["ports"]] == [9091]


def test_pushgateway_reachable_through_the_security_baseline() -> None:
    """Cross-chart: the baseline's metrics-push policy lets the object-store-labelled pods reach the
    Pushgateway pods, whose own policy admits them."""
    umbrella = rendered("spotify-ai-agent", "production")
    (deploy,) = [d for d in find(umbrella, "Deployment") if d["metadata"]["name"].endswith("-pushgateway")]
    pod_labels = deploy["spec"]["template"]["metadata"]["labels"]
    (push,) = [p for p in find(umbrella, "NetworkPolicy") if p["metadata"]["name"].endswith("-metrics-push")]
    pusher = {"access.spotify-ai-agent.io/object-store": "true", "app.kubernetes.io/name": "postgresql-ha"}
    assert selects(push["spec"]["podSelector"], pusher)
    (rule,) = push["spec"]["egress"]
    assert selects(rule["to"][0]["podSelector"], pod_labels) and [p["port"] for p in rule["ports"]] == [9091]
