"""spotify-ai-agent, the umbrella: all five sub-charts behind `enabled` conditions, environment values
that validate, and production fully HA with TLS, backups and alerts on."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from tests.catalog.conftest import ENVIRONMENTS, ROOT, catalog, find, render_with, rendered
from tests.catalog.platform_helpers import pod_templates
from tests.conftest import require_tool

from chartforge import proc, tools
from chartforge.compile.assemble import assemble, environment_data
from chartforge.compile.envvalues import validate_values
from chartforge.helm import lint, write_values
from chartforge.yamlio import load_yaml

pytestmark = pytest.mark.helm

UMBRELLA = "spotify-ai-agent"
SUBCHARTS = ("postgresql-ha", "redis-cluster", "mongodb-sharded", "security-baseline", "observability")
DATABASES = ("postgresql-ha", "redis-cluster", "mongodb-sharded")


def values(env: str) -> dict[str, Any]:
    return environment_data(catalog(), env)


def test_catalog_lists_the_five_subcharts_before_the_umbrella() -> None:
    names = [c.name for c in catalog().charts]
    assert set(SUBCHARTS) <= set(names)
    assert names[-1] == UMBRELLA


def test_chart_yaml_depends_on_every_subchart_with_an_enabled_condition() -> None:
    chart = yaml.safe_load((ROOT / "charts" / UMBRELLA / "Chart.yaml").read_text())
    deps = {d["name"]: d for d in chart["dependencies"]}
    assert set(deps) == set(SUBCHARTS)
    versions = {c.name: c.version for c in catalog().charts}
    for name, dep in deps.items():
        assert dep["condition"] == f"{name}.enabled"
        assert dep["version"] == versions[name]
        assert dep["repository"] == f"file://../{name}"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_environment_values_validate_against_the_umbrella_schema(env: str) -> None:
    cat = catalog()
    data = load_yaml(cat.env_file(env))
    merged = validate_values(cat, cat.chart(UMBRELLA), data, display=f"sources/environments/{env}.yaml")
    assert merged["global"]["environment"] == env


@pytest.mark.parametrize("helm_major", [3, 4])
def test_lint_strict_with_every_environment(helm_major: int) -> None:
    helm = next((h for h in tools.find_helms() if h.major == helm_major), None)
    if helm is None:
        require_tool(f"helm{helm_major}")
        pytest.skip(f"no helm {helm_major}")
    cat = catalog()
    with assemble(cat) as tmp:
        for env in ENVIRONMENTS:
            vals = write_values(tmp / f"{env}.yaml", values(env))
            result = lint(helm, tmp / UMBRELLA, values_files=[vals])
            assert result.returncode == 0, f"helm {helm_major} lint {env}:\n{result.stdout}{result.stderr}"


def test_each_subchart_can_be_switched_off() -> None:
    objects = render_with(
        UMBRELLA, "production", "observability.enabled=false", "mongodb-sharded.enabled=false"
    )
    assert not find(objects, "PrometheusRule") and not find(objects, "ServiceMonitor")
    sources = {o["metadata"]["labels"].get("helm.sh/chart", "").rsplit("-", 1)[0] for o in objects}
    assert "observability" not in sources and "mongodb-sharded" not in sources
    assert {"postgresql-ha", "redis-cluster", "security-baseline"} <= sources


# --- development: small and single-replica --------------------------------------------------------


def test_development_is_small() -> None:
    dev, prod = rendered(UMBRELLA, "development"), rendered(UMBRELLA, "production")
    replicas = {
        o["metadata"]["name"]: o["spec"].get("replicas", 1)
        for o, _ in pod_templates(dev)
        if o["kind"] != "Job"
    }
    pg = [n for n in replicas if n.endswith("postgresql-ha-postgresql")]
    assert pg and all(replicas[n] == 1 for n in pg)
    assert sum(replicas.values()) < sum(
        o["spec"].get("replicas", 1) for o, _ in pod_templates(prod) if o["kind"] != "Job"
    )
    assert not find(dev, "PrometheusRule")  # no monitoring stack needed to develop
    assert not find(dev, "Issuer") and not find(dev, "Certificate")


# --- production: HA, TLS, backups, alerts ----------------------------------------------------------


def test_production_turns_tls_backups_and_alerts_on() -> None:
    prod = values("production")
    for name in DATABASES:
        if name in prod:
            assert prod[name]["tls"]["enabled"] is True, name
    assert prod["postgresql-ha"]["backup"]["enabled"] is True
    assert prod["postgresql-ha"]["backup"]["retentionDays"] == 30
    assert prod["security-baseline"]["certManager"]["enabled"] is True
    assert prod["observability"].get("enabled", True) is True


def _tls_switches(data: Any, path: str = "") -> dict[str, Any]:
    """Every ``tls.*`` and ``certManager.enabled`` value of an environment, by dotted path."""
    out: dict[str, Any] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            here = f"{path}.{key}" if path else str(key)
            if key == "tls" and isinstance(value, dict):
                out.update(
                    {f"{here}.{k}": v for k, v in value.items() if k in ("enabled", "certManager", "mode")}
                )
            elif key == "certManager" and isinstance(value, dict):
                out[f"{here}.enabled"] = value.get("enabled")
            else:
                out.update(_tls_switches(value, here))
    return out


def test_staging_runs_tls_wherever_production_does() -> None:
    """Certificate rotation problems must surface in staging first: every TLS switch production
    turns on (per chart, the CA included) is on in staging too, with the same mode."""
    prod, staging = _tls_switches(values("production")), _tls_switches(values("staging"))
    assert prod, "production sets no TLS value"
    differ = {
        k: (v, staging.get(k)) for k, v in prod.items() if v not in (False, None) and staging.get(k) != v
    }
    assert not differ, f"staging differs from production: {differ}"


def test_production_certificates_come_from_the_platform_ca() -> None:
    objects = rendered(UMBRELLA, "production")
    issuer = values("production")["global"].get("tls", {}).get("issuerName", "spotify-ai-agent-ca")
    issuers = {i["metadata"]["name"] for i in find(objects, "Issuer")}
    assert issuer in issuers
    certificates = [c for c in find(objects, "Certificate") if not c["spec"].get("isCA")]
    charts = {c["metadata"]["labels"]["helm.sh/chart"].rsplit("-", 1)[0] for c in certificates}
    assert {"postgresql-ha", "redis-cluster"} <= charts
    for cert in certificates:
        assert cert["spec"]["issuerRef"]["name"] == issuer, cert["metadata"]["name"]


def test_production_alerts_and_slos_are_on() -> None:
    objects = rendered(UMBRELLA, "production")
    alerts = {
        r["alert"]
        for p in find(objects, "PrometheusRule")
        for g in p["spec"]["groups"]
        for r in g["rules"]
        if "alert" in r
    }
    assert {"SLOAvailabilityErrorBudgetBurn", "SLOErrorRateErrorBudgetBurn", "SLOLatencyP99High"} <= alerts
    assert {"PatroniLeaderMissing", "RedisClusterStateFail"} <= alerts


def test_production_is_highly_available() -> None:
    objects = rendered(UMBRELLA, "production")
    pdb_selectors = [p["spec"]["selector"] for p in find(objects, "PodDisruptionBudget")]
    hpas = {
        (h["spec"]["scaleTargetRef"]["kind"], h["spec"]["scaleTargetRef"]["name"])
        for h in find(objects, "HorizontalPodAutoscaler")
    }
    from chartforge.policy.selectors import selects

    for owner, pod in pod_templates(objects):
        if owner["kind"] in ("Job", "CronJob"):
            continue
        name = owner["metadata"]["name"]
        if name.endswith("-observability-pushgateway"):
            # one replica on purpose: two would hold diverging copies of the pushed results (a
            # failed drill kept by one, the next success by the other); it is off the serving path
            # and its volume keeps the results across a reschedule
            assert owner["spec"]["strategy"] == {"type": "Recreate"}, name
            continue
        assert owner["spec"].get("replicas", 1) >= 2 or (owner["kind"], name) in hpas, name
        assert any(selects(s, pod["metadata"]["labels"]) for s in pdb_selectors), f"no PDB for {name}"
        spread = pod["spec"].get("topologySpreadConstraints", [])
        assert any(c["topologyKey"] == "topology.kubernetes.io/zone" for c in spread), name


def test_notes_list_every_component() -> None:
    # helm 3.17 asks the API server for capabilities even with a client dry-run; helm 4 does not.
    helm = next((h for h in tools.find_helms() if h.major == 4), None)
    if helm is None:
        require_tool("helm4")
        pytest.skip("no helm 4")
    cat = catalog()
    with assemble(cat) as tmp:
        vals = write_values(tmp / "values.yaml", values("production"))
        out = proc.run(
            [
                helm.path,
                "install",
                UMBRELLA,
                str(tmp / UMBRELLA),
                "-n",
                UMBRELLA,
                "--dry-run=client",
                "-f",
                str(vals),
            ],
            what="helm install --dry-run",
        ).stdout
    notes = out.split("NOTES:", 1)[1]
    for name in SUBCHARTS:
        assert f"{name} " in notes and "enabled" in notes
    assert "spotify-ai-agent/database-client=true" in notes
