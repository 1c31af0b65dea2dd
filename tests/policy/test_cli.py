"""``chartforge policy`` as users run it: exit codes, JSON and JUnit output, waivers file."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import require_tool, run_cli
from tests.policy.conftest import CLEAN, POLICY_CASES

NEGATIVE = POLICY_CASES / "negative"


def test_clean_manifest_exits_0_with_json(tmp_path: Path) -> None:
    result = run_cli("-C", str(tmp_path), "policy", "--no-checkov", "--manifests", str(CLEAN), "-o", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["diagnostics"] == []
    assert report["matrix"]["checked"] == 7 and report["matrix"]["checkov"] is False
    assert report["failed"] is False and report["resources"] == []  # no validation records: policy only
    assert report["summary"]["total"] == 0


def test_findings_exit_1_and_json_names_every_location(tmp_path: Path) -> None:
    cases = [NEGATIVE / "pss-privileged", NEGATIVE / "image-untagged"]
    result = run_cli(
        "-C", str(tmp_path), "policy", "--no-checkov", "--chart", "web", "-e", "production",
        "--kubernetes-version", "1.34", "-o", "json", "--manifests", *map(str, cases),
    )  # fmt: skip
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    got = sorted((d["code"], d["field"]) for d in report["diagnostics"])
    assert got == [
        ("IMAGE-UNTAGGED", "spec.template.spec.initContainers[migrate].image"),
        ("PSS-PRIVILEGED", "spec.template.spec.containers[web].securityContext.privileged"),
    ]
    for d in report["diagnostics"]:
        assert (d["chart"], d["environment"], d["kubernetes_version"], d["kind"], d["name"]) == (
            "web", "production", "1.34", "Deployment", "web",
        )  # fmt: skip
        assert d["path"] == "web/templates/deployment.yaml"
        assert re.search(r"/manifest\.yaml:\d+$", d["extra"]["manifest"]), d["extra"]
        assert d["extra"]["namespace"] == "apps"
    assert report["summary"]["error"] == 2 and report["matrix"]["checked"] == 14


def test_text_output_and_junit(tmp_path: Path) -> None:
    junit = tmp_path / "reports" / "policy.xml"
    case = NEGATIVE / "res-limits-missing-init-container" / "manifest.yaml"
    result = run_cli(
        "-C", str(tmp_path), "policy", "--no-checkov", str(case), "--junit", str(junit), "--chart", "web"
    )  # fmt: skip
    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.count("RES-LIMITS") == 2
    assert "2 errors, 0 warnings" in result.stderr
    assert result.stderr.rstrip().endswith(
        "chartforge policy: manifests, 7 object(s) — 7 checks, 2 errors, 0 warnings"
    )
    root = ET.parse(junit).getroot()
    assert (root.get("tests"), root.get("failures")) == ("7", "1")  # one case per object, one failing
    [failed] = [c for c in root.iter("testcase") if c.find("failure") is not None]
    assert failed.get("name") == "Deployment/web (web/templates/deployment.yaml)"
    failure = failed.find("failure")
    assert failure is not None and failure.get("type") == "RES-LIMITS"
    assert "initContainers[migrate].resources.limits.memory" in (failure.text or "")


def test_default_waivers_file_under_root_waives_and_reports_stale(tmp_path: Path) -> None:
    (tmp_path / "sources").mkdir()
    (tmp_path / "sources" / "waivers.yaml").write_text(
        "waivers:\n"
        "  - id: PSS-PRIVILEGED\n    kind: Deployment\n    name: web\n    reason: needs a device\n"
        "  - id: PDB-MISSING\n    kind: Deployment\n    name: web\n    reason: was single replica\n"
    )
    case = NEGATIVE / "pss-privileged" / "manifest.yaml"
    result = run_cli("-C", str(tmp_path), "policy", "--no-checkov", "-m", str(case), "-o", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    by_code = {d["code"]: d for d in report["diagnostics"]}
    assert sorted(by_code) == ["PSS-PRIVILEGED", "WAIVER-STALE"]
    assert (by_code["PSS-PRIVILEGED"]["waived"], by_code["PSS-PRIVILEGED"]["waiver_reason"]) == (
        True,
        "needs a device",
    )
    stale = by_code["WAIVER-STALE"]
    assert (stale["severity"], stale["line"], stale["waived"]) == ("warning", 6, False)
    assert stale["path"].endswith("sources/waivers.yaml")
    assert (report["summary"]["error"], report["summary"]["warning"], report["summary"]["waived"]) == (
        0,
        1,
        1,
    )


def test_bad_waivers_file_is_one_error_with_file_and_line(tmp_path: Path) -> None:
    waivers = tmp_path / "w.yaml"
    waivers.write_text("waivers:\n  - id: PSS-PRIVILEGED\n    kind: Deployment\n    name: web\n")
    result = run_cli("policy", "--no-checkov", "--waivers", str(waivers), "-m", str(CLEAN))
    assert result.returncode == 1
    assert result.stderr.startswith(f"error: {waivers}:2:") and "'reason' is required" in result.stderr
    assert "Traceback" not in result.stderr


def test_explicit_missing_waivers_file_is_an_error(tmp_path: Path) -> None:
    result = run_cli("policy", "--no-checkov", "--waivers", str(tmp_path / "nope.yaml"), "-m", str(CLEAN))
    assert result.returncode == 1 and "file not found" in result.stderr


def test_usage_errors(tmp_path: Path) -> None:
    no_catalog = run_cli("-C", str(tmp_path), "policy", "--no-checkov")  # no --manifests: the built catalog
    assert no_catalog.returncode == 1 and "no catalog here" in no_catalog.stderr
    missing = run_cli("-C", str(tmp_path), "policy", "--no-checkov", "-m", str(tmp_path / "absent"))
    assert missing.returncode == 1 and "no such file or directory" in missing.stderr


def test_values_file_is_scanned(tmp_path: Path) -> None:
    case = NEGATIVE / "secret-in-values-password"
    result = run_cli(
        "-C", str(tmp_path), "policy", "--no-checkov", "-m", str(case / "manifest.yaml"),
        "--values", str(case / "values.yaml"), "-o", "json",
    )  # fmt: skip
    assert result.returncode == 1
    [d] = json.loads(result.stdout)["diagnostics"]
    assert (d["code"], d["field"], d["line"], d["kind"]) == ("SECRET-IN-VALUES", "auth.password", 3, "Values")
    assert "hunter2" not in result.stdout


@pytest.mark.slow
def test_checkov_runs_by_default(tmp_path: Path) -> None:
    require_tool("checkov")
    case = NEGATIVE / "image-latest" / "manifest.yaml"
    result = run_cli("-C", str(tmp_path), "policy", "-m", str(case), "-o", "json")
    assert result.returncode == 1, result.stderr
    codes = sorted(d["code"] for d in json.loads(result.stdout)["diagnostics"])
    assert codes == ["CKV_K8S_14", "CKV_K8S_43", "IMAGE-LATEST"]


def test_kubernetes_version_is_parsed_at_the_edge(tmp_path: Path) -> None:
    case = str(NEGATIVE / "pss-privileged" / "manifest.yaml")
    spelled = run_cli("-C", str(tmp_path), "policy", "--no-checkov", "-m", case, "--kubernetes-version", "v1.34.2",
                      "-o", "json")  # fmt: skip
    data = json.loads(spelled.stdout)
    assert {d["kubernetes_version"] for d in data["diagnostics"]} == {"1.34"}
    assert data["matrix"]["kubernetes_versions"] == ["1.34"]
    bad = run_cli("-C", str(tmp_path), "policy", "--no-checkov", "-m", case, "--kubernetes-version", "latest")
    assert bad.returncode == 1 and "not a Kubernetes version: 'latest'" in bad.stderr
    assert "Traceback" not in bad.stderr
