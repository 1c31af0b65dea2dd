"""JUnit of grouped helm findings: one mistake is one finding (helm 3 and 4, sub-chart and umbrella,
lint and render merged by ``atsource``) and each such finding is its own failing test case, named by
its ``sources/`` line, so two mistakes never share (or hide in) one case."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from chartforge.atsource import group_findings
from chartforge.diagnostics import Checked, Diagnostic
from chartforge.report import to_junit
from tests.conftest import CASES, copy_tree, require_tool, run_cli

SOURCE = "sources/charts/api/templates/deployment.yaml.j2"


def _helm(line: int, cause: str, helm: str, chart: str, stage: str = "lint") -> Diagnostic:
    return Diagnostic("error", "HELM-LINT-ERROR", cause, stage=stage, chart="api", environment="production",
                      path=SOURCE, line=line, extra=(("helm", helm), ("charts", chart)))  # fmt: skip


def _failures(xml: str) -> dict[str, str]:
    root = ET.fromstring(xml)
    return {
        case.get("name", ""): failure.get("message", "")
        for case in root.iter("testcase")
        for failure in case.findall("failure")
    }


def test_each_grouped_finding_is_its_own_failing_case() -> None:
    rows = [
        _helm(9, "<.Values.servce.port>: nil pointer", "v3.17.2", "api"),
        _helm(9, "<.Values.servce.port>: nil pointer", "v4.1.4", "platform"),
        _helm(9, "<.Values.servce.port>: nil pointer", "v4.1.4", "platform", stage="render"),
        _helm(14, "<.Values.imag.tag>: nil pointer", "v3.17.2", "api"),
        _helm(14, "<.Values.imag.tag>: nil pointer", "v4.1.4", "api"),
    ]
    grouped = group_findings(rows)
    assert len(grouped) == 2  # two mistakes
    failures = _failures(to_junit(grouped, name="chartforge check"))
    assert failures == {
        f"{SOURCE}:9": "<.Values.servce.port>: nil pointer",
        f"{SOURCE}:14": "<.Values.imag.tag>: nil pointer",
    }  # neither merged into the other ("+1 more") nor lost
    assert ET.fromstring(to_junit(grouped)).get("failures") == "2"


@pytest.mark.helm
def test_check_junit_has_a_failing_case_per_finding_of_the_table(tmp_path: Path) -> None:
    """Real helm 3 + helm 4: alpha and beta each misspell a value; the umbrella sees them too."""
    require_tool("helm")
    root = copy_tree(CASES / "build" / "base", tmp_path / "project")
    for chart, wrong in (("alpha", ".Values.servce.port"), ("beta", ".Values.replicas.count")):
        template = root / "sources" / "charts" / chart / "templates" / "configmap.yaml.j2"
        template.write_text(template.read_text().replace(".Values.replicaCount", wrong))
    assert run_cli("-C", str(root), "build").returncode == 0
    junit = tmp_path / "junit.xml"
    done = run_cli("-C", str(root), "check", "-e", "development", "-k", "1.33", "--engine", "builtin",
                   "--junit", str(junit), "-o", "json")  # fmt: skip
    assert done.returncode == 1, done.stderr
    failures = _failures(junit.read_text())
    assert set(failures) == {
        "sources/charts/alpha/templates/configmap.yaml.j2:9",
        "sources/charts/beta/templates/configmap.yaml.j2:9",
    }
    assert "servce" in failures["sources/charts/alpha/templates/configmap.yaml.j2:9"]
    assert "replicas" in failures["sources/charts/beta/templates/configmap.yaml.j2:9"]
    findings = json.loads(done.stdout)["diagnostics"]
    assert len(findings) == len(failures) == 2  # one mistake, one finding, one failing case
    # every lint run (alpha, beta and the umbrella suite, helm 3 and 4) saw one of the two mistakes:
    # none of them is also listed as a passing case of its own
    cases = list(ET.fromstring(junit.read_text()).iter("testcase"))
    passing_lint = [
        c.get("name")
        for c in cases
        if c.get("classname", "").startswith("lint.") and c.find("failure") is None
    ]
    assert passing_lint == []


def test_a_lint_run_reported_at_source_has_no_passing_case_of_its_own() -> None:
    grouped = group_findings([_helm(9, "<.Values.servce.port>: nil pointer", "v3.17.2", "api")])
    runs = [
        Checked("lint", chart, "production", "", f"charts/{chart}", "Chart", f"{chart} (helm {helm})")
        for chart in ("api", "web")
        for helm in ("v3.17.2", "v4.1.4")
    ]
    root = ET.fromstring(to_junit(grouped, runs))
    names = sorted(c.get("name", "") for c in root.iter("testcase"))
    assert names == [
        "Chart/api (helm v4.1.4) (charts/api)",  # helm 4 did not see it: its run passed
        "Chart/web (helm v3.17.2) (charts/web)",
        "Chart/web (helm v4.1.4) (charts/web)",
        f"{SOURCE}:9",
    ]
    assert root.get("failures") == "1"
