"""Patroni's REST API (8008) is reachable only from the members, the update hook and Prometheus.

The umbrella is rendered by the real helm per environment; its NetworkPolicies are evaluated
(``tests/catalog/netpol.py``: Kubernetes' NetworkPolicy semantics) against the pod templates it
renders — every workload of every chart, hook Jobs and CronJobs included — plus a database
client of the namespace and a Prometheus pod of the monitoring namespace (neither is rendered by
the catalog). Writes on the REST API switch over, fail over, restart and reconfigure the cluster:
before the patroni-api policy, every postgresql-ha pod (poolers, backup and drill Jobs,
provisioning) reached it because 8008 was one of the component's peer ports.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.catalog.conftest import find, render_text, render_with, rendered
from tests.catalog.netpol import Pod, allowed, pod_from_template
from tests.catalog.platform_helpers import pod_templates

from chartforge.errors import ToolError

pytestmark = pytest.mark.helm

UMBRELLA = "spotify-ai-agent"
NAMESPACE = UMBRELLA  # conftest renders every chart into a namespace named after it
MONITORING = "monitoring"  # global.monitoring.namespace in every environment
PATRONI, POSTGRES, PGBOUNCER = 8008, 5432, 6432
APPLICATION = Pod(
    "application", NAMESPACE, {"app.kubernetes.io/name": "api", "spotify-ai-agent/database-client": "true"}
)
PROMETHEUS = Pod("prometheus-0", MONITORING, {"app.kubernetes.io/name": "prometheus"})


def pods(objects: list[dict[str, Any]]) -> dict[str, Pod]:
    return {
        f"{owner['kind']}/{owner['metadata']['name']}": pod_from_template(
            owner["metadata"]["name"], NAMESPACE, tpl
        )
        for owner, tpl in pod_templates(objects)
    }


def component(all_pods: dict[str, Pod], name: str, comp: str) -> list[Pod]:
    found = [
        p
        for p in all_pods.values()
        if p.labels.get("app.kubernetes.io/name") == name
        and p.labels.get("app.kubernetes.io/component") == comp
    ]
    assert found, f"no {name} {comp} pod rendered"
    return found


@pytest.mark.parametrize("env", ["staging", "production"])
def test_patroni_rest_api_only_from_members_hooks_and_prometheus(env: str) -> None:
    objects = rendered(UMBRELLA, env)
    policies = find(objects, "NetworkPolicy")
    all_pods = pods(objects)
    (member,) = component(all_pods, "postgresql-ha", "postgresql")
    assert member.ports.get("patroni") == PATRONI
    (hook,) = component(all_pods, "postgresql-ha", "update")
    (pooler,) = component(all_pods, "postgresql-ha", "pgbouncer")

    def may(src: Pod, dst: Pod, port: int) -> bool:
        return allowed(policies, src, dst, port, NAMESPACE)

    assert may(member, member, PATRONI), "members cannot reach each other's REST API"
    assert may(hook, member, PATRONI), "the update hook cannot reach the REST API (switchover)"
    # The observability chart's Patroni PodMonitor scrapes the named port from the monitoring namespace.
    (monitor,) = [m for m in find(objects, "PodMonitor") if m["metadata"]["name"].endswith("-patroni")]
    assert [e["port"] for e in monitor["spec"]["podMetricsEndpoints"]] == ["patroni"]
    assert may(PROMETHEUS, member, PATRONI), "Prometheus cannot scrape Patroni's /metrics"
    assert not may(APPLICATION, member, PATRONI), "an application pod reaches Patroni's REST API"
    refused = [
        where for where, pod in all_pods.items() if pod not in (member, hook) and may(pod, member, PATRONI)
    ]
    assert not refused, f"{env}: these pods reach Patroni's REST API: {refused}"
    # The database paths stay open: application -> PostgreSQL and PgBouncer, pooler -> PostgreSQL,
    # replication between members, and Prometheus -> the exporters.
    assert may(APPLICATION, member, POSTGRES)
    assert may(APPLICATION, pooler, PGBOUNCER)
    assert may(pooler, member, POSTGRES)
    assert may(member, member, POSTGRES)
    assert may(PROMETHEUS, member, member.ports["metrics"])


def test_patroni_api_policy_follows_its_values() -> None:
    """Off, the REST API is closed to every other pod (8008 is in no other allow); without
    monitoring, Prometheus is refused; an empty selector is an error, not an open port."""
    objects = render_with(UMBRELLA, "production", "security-baseline.networkPolicy.patroniApi.enabled=false")
    policies = find(objects, "NetworkPolicy")
    all_pods = pods(objects)
    (member,) = component(all_pods, "postgresql-ha", "postgresql")
    (hook,) = component(all_pods, "postgresql-ha", "update")
    assert not allowed(policies, hook, member, PATRONI, NAMESPACE)
    assert not allowed(policies, PROMETHEUS, member, PATRONI, NAMESPACE)
    objects = render_with(
        UMBRELLA, "production", "security-baseline.networkPolicy.patroniApi.monitoring=false"
    )
    policies = find(objects, "NetworkPolicy")
    assert not allowed(policies, PROMETHEUS, member, PATRONI, NAMESPACE)
    assert allowed(policies, PROMETHEUS, member, member.ports["metrics"], NAMESPACE)


@pytest.mark.parametrize("labels", ["memberPodLabels", "hookPodLabels"])
def test_an_empty_selector_is_an_error_not_an_open_port(labels: str) -> None:
    """An empty podSelector selects every pod of the namespace: refused with the value to set."""
    with pytest.raises(
        ToolError, match=r"networkPolicy\.patroniApi\.memberPodLabels and hookPodLabels must not be empty"
    ):
        render_text("security-baseline", "production", f"networkPolicy.patroniApi.{labels}=null")
