"""A helm failure on a macro's line: at the call site when one call fails, at the macro line (every
call site listed) when several fail with the same cause — one mistake, one finding."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from chartforge.diagnostics import Diagnostic
from chartforge.macrofindings import merge_macro_findings
from chartforge.report import to_junit

MACRO = "sources/macros/k8s.j2:4"


def _at(
    chart: str, cause: str = "<.Values.global.platfrom.name>: nil pointer", env: str = "production"
) -> Diagnostic:
    return Diagnostic("error", "HELM-LINT-ERROR", cause, stage="lint", chart=chart, environment=env,
                      path=f"sources/charts/{chart}/templates/cm.yaml.j2", line=7,
                      extra=(("macro", MACRO), ("generated", f"charts/{chart}/templates/cm.yaml:9"),
                             ("helm", "v3.17.2, v4.1.4"), ("charts", f"{chart}, suite"), ("stages", "lint, render")))  # fmt: skip


def test_one_call_site_stays_at_the_call_site() -> None:
    rows = [_at("alpha"), _at("beta", env="staging")]  # one call site per environment
    assert merge_macro_findings(rows) == rows


def test_several_call_sites_with_one_cause_are_one_finding_at_the_macro_line() -> None:
    (merged,) = merge_macro_findings([_at("alpha"), _at("beta")])
    assert (merged.path, merged.line, merged.chart) == ("sources/macros/k8s.j2", 4, "")
    extra = dict(merged.extra)
    assert extra["call_sites"] == (
        "sources/charts/alpha/templates/cm.yaml.j2:7, sources/charts/beta/templates/cm.yaml.j2:7"
    )
    assert extra["charts"] == "alpha, beta, suite" and "macro" not in extra
    assert merged.context.startswith(" (called from sources/charts/alpha/templates/cm.yaml.j2:7, ")
    failures = [c.get("name") for c in ET.fromstring(to_junit([merged])).iter("testcase")]
    assert failures == ["sources/macros/k8s.j2:4"]


def test_different_causes_stay_one_finding_per_call_site() -> None:
    rows = [
        _at("alpha", "<.Values.alpha.servce>: nil pointer"),
        _at("beta", "<.Values.beta.servce>: nil pointer"),
    ]
    assert merge_macro_findings(rows) == rows
