"""The shared reporters: grouped table, JSON with counts, deterministic JUnit XML."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

from chartforge.diagnostics import Checked, Diagnostic, findings_to_dict, summarize
from chartforge.report import render_table, to_junit, write_junit

DIAGS = [
    Diagnostic("error", "CF-VALIDATE-SCHEMA", "got string, want null or integer", stage="validate", chart="api",
               environment="production", kubernetes_version="1.34.0", path="api/templates/deployment.yaml",
               kind="Deployment", name="api", field="/spec/replicas"),
    Diagnostic("warning", "PSS-PROBES", "no readiness probe", stage="policy", chart="api", environment="staging",
               path="api/templates/deployment.yaml", kind="Deployment", name="api",
               field="/spec/template/spec/containers/0"),
    Diagnostic("error", "PSS-RUN-AS-NON-ROOT", "runAsNonRoot is not true", stage="policy", chart="api",
               environment="staging", path="api/templates/deployment.yaml", kind="Deployment", name="api",
               waived=True, waiver_reason="legacy image, ticket OPS-12"),
    Diagnostic("error", "CF-VALIDATE-YAML", "invalid YAML: bad indent", stage="validate", path="x.yaml", line=3),
]  # fmt: skip
CHECKED = [
    Checked("validate", "api", "production", "1.34.0", "api/templates/deployment.yaml", "Deployment", "api"),
    Checked("validate", "api", "production", "1.34.0", "api/templates/service.yaml", "Service", "api"),
    Checked("policy", "api", "staging", "", "api/templates/deployment.yaml", "Deployment", "api"),
]


def test_summary_counts_waived_apart() -> None:
    assert summarize(DIAGS) == {"error": 2, "warning": 1, "info": 0, "waived": 1, "total": 4}


def test_table_groups_by_chart_env_version_with_counts() -> None:
    out = io.StringIO()
    render_table(DIAGS, out, title="check", width=200)
    text = out.getvalue()
    assert (
        text.index("all versions") < text.index("api / production / k8s 1.34.0") < text.index("api / staging")
    )
    assert "api/templates/deployment.yaml Deployment/api" in text and "x.yaml:3" in text
    assert "(waived: legacy image, ticket OPS-12)" in text
    assert text.rstrip().endswith("2 errors, 1 warning, 1 waived in 3 groups")
    empty = io.StringIO()
    render_table([], empty)
    assert empty.getvalue().strip() == "no findings"


def test_json_is_sorted_and_round_trips() -> None:
    data = json.loads(json.dumps(findings_to_dict(DIAGS), sort_keys=True))
    assert data == findings_to_dict(list(reversed(DIAGS)))  # order of input does not matter
    assert data["summary"]["total"] == 4
    assert [d["code"] for d in data["diagnostics"]] == [
        "CF-VALIDATE-YAML", "CF-VALIDATE-SCHEMA", "PSS-RUN-AS-NON-ROOT", "PSS-PROBES",
    ]  # fmt: skip
    assert data["diagnostics"][1]["field"] == "/spec/replicas" and data["diagnostics"][1]["extra"] == {}


def test_junit_suites_cases_failures_and_waivers(tmp_path: Path) -> None:
    xml = to_junit(DIAGS, CHECKED, name="chartforge check")
    assert xml == to_junit(list(reversed(DIAGS)), list(reversed(CHECKED)), name="chartforge check")
    root = ET.fromstring(xml)
    assert (root.get("name"), root.get("tests"), root.get("failures"), root.get("skipped")) == (
        "chartforge check", "4", "2", "0",
    )  # fmt: skip
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["policy api/staging", "validate", "validate api/production/1.34.0"]
    validate = suites["validate api/production/1.34.0"]
    cases = {c.get("name"): c for c in validate.findall("testcase")}
    assert set(cases) == {
        "Deployment/api (api/templates/deployment.yaml)",
        "Service/api (api/templates/service.yaml)",
    }
    failure = cases["Deployment/api (api/templates/deployment.yaml)"].find("failure")
    assert failure is not None and failure.get("type") == "CF-VALIDATE-SCHEMA"
    assert failure.get("message") == "/spec/replicas: got string, want null or integer"
    assert cases["Service/api (api/templates/service.yaml)"].find("failure") is None
    assert validate.get("tests") == "2" and validate.get("failures") == "1"
    (policy_case,) = suites["policy api/staging"].findall("testcase")
    assert policy_case.find("failure") is None  # a warning and a waived error do not fail the case
    out = policy_case.find("system-out")
    assert (
        out is not None
        and "waived PSS-RUN-AS-NON-ROOT" in (out.text or "")
        and "warning PSS-PROBES" in (out.text or "")
    )
    target = tmp_path / "reports" / "junit.xml"
    write_junit(target, DIAGS, CHECKED)
    assert ET.parse(target).getroot().tag == "testsuites"


def test_junit_waived_only_case_is_skipped() -> None:
    waived = [d for d in DIAGS if d.waived]
    root = ET.fromstring(to_junit(waived))
    (case,) = root.iter("testcase")
    skipped = case.find("skipped")
    assert skipped is not None and "legacy image" in (skipped.get("message") or "")
    assert root.get("skipped") == "1" and root.get("failures") == "0"
