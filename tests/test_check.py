"""check: the lint × validate × policy matrix over a built catalog, with real helm and kubeconform."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from chartforge.compile.build import build
from tests.conftest import CASES, copy_tree, require_tool, run_cli

pytestmark = pytest.mark.helm
BASE = CASES / "build" / "base"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    require_tool("helm")
    root = copy_tree(BASE, tmp_path / "project")
    build(root)
    return root


def test_clean_catalog_passes_whole_matrix(project: Path, tmp_path: Path) -> None:
    junit = tmp_path / "report.xml"
    result = run_cli("-C", str(project), "check", "--engine", "builtin", "-o", "json", "--junit", str(junit))
    assert result.returncode == 0, result.stdout + result.stderr
    data = json.loads(result.stdout)
    assert data["summary"]["error"] == 0
    assert data["matrix"]["environments"] == ["development", "production"]
    assert data["matrix"]["kubernetes_versions"] == ["1.31", "1.32", "1.33"]
    suites = ET.parse(junit).getroot()
    assert int(suites.get("tests", "0")) > 0 and suites.get("failures") == "0"


def test_findings_from_every_stage_are_collected_before_failing(project: Path, tmp_path: Path) -> None:
    # an invalid Kubernetes field (validate), a helm template error in one env (render), drift (build)
    cm = project / "charts/alpha/templates/configmap.yaml"
    cm.write_text(cm.read_text().replace("\ndata:", "\nbogusField: 1\ndata:"))
    junit = tmp_path / "report.xml"
    result = run_cli("-C", str(project), "check", "--engine", "builtin", "-o", "json", "--junit", str(junit))
    assert result.returncode == 1
    data = json.loads(result.stdout)
    codes = {(d["stage"], d["code"]) for d in data["diagnostics"]}
    assert ("build", "CF-BUILD-DRIFT") in codes
    assert ("validate", "CF-VALIDATE-SCHEMA") in codes
    bad = [d for d in data["diagnostics"] if d["code"] == "CF-VALIDATE-SCHEMA"]
    assert {d["environment"] for d in bad} == {"development", "production"}
    assert {d["kubernetes_version"] for d in bad} == {"1.31", "1.32", "1.33"}
    assert all(d["chart"] == "alpha" and d["kind"] == "ConfigMap" and "bogusField" in d["field"] for d in bad)
    failures = ET.parse(junit).getroot().get("failures")
    assert failures is not None and int(failures) >= 6


def test_lint_findings_name_chart_env_and_helm(project: Path) -> None:
    chart_yaml = project / "charts/beta/Chart.yaml"
    chart_yaml.write_text(chart_yaml.read_text().replace("icon: https://example.com/beta.svg\n", ""))
    result = run_cli("-C", str(project), "lint", "-o", "json")
    assert result.returncode == 1
    data = json.loads(result.stdout)
    found = [d for d in data["diagnostics"] if d["stage"] == "lint"]
    assert found, data
    assert {d["chart"] for d in found} == {"beta"}
    assert {d["environment"] for d in found} == {"development", "production"}
    assert all("icon is recommended" in d["message"] for d in found)
    helms = {d["extra"]["helm"].split(".")[0] for d in found}
    assert helms == {"v3", "v4"}, "lint runs with both helm majors"


def test_external_tool_failure_exits_3(project: Path, tmp_path: Path) -> None:
    fake = tmp_path / "helm"
    fake.write_text("#!/bin/sh\necho 'helm exploded' >&2\nexit 42\n")
    fake.chmod(0o755)
    result = run_cli("-C", str(project), "check", "--helm", str(fake))
    assert result.returncode == 3
    assert "helm exploded" in result.stderr


def test_unknown_environment_is_a_usage_error(project: Path) -> None:
    result = run_cli("-C", str(project), "check", "--env", "qa")
    assert result.returncode == 2
    assert "unknown environment 'qa'" in result.stderr


@pytest.mark.slow
@pytest.mark.kubeconform
def test_bundled_catalog_check_is_clean() -> None:
    """The gate of issue 4/5: every chart × env × version, both helm majors, kubeconform, policy."""
    require_tool("kubeconform")
    root = Path(__file__).resolve().parents[1]
    result = run_cli("-C", str(root), "check", "--engine", "kubeconform", "--checkov", "-o", "json")
    data = json.loads(result.stdout)
    errors = [d for d in data["diagnostics"] if d["severity"] == "error" and not d["waived"]]
    assert result.returncode == 0, json.dumps(errors[:20], indent=1)
    assert len(data["matrix"]["helm_versions"]) == 2
    assert data["matrix"]["kubernetes_versions"] == ["1.31", "1.32", "1.33", "1.34", "1.35", "1.36", "1.37"]


def test_validate_and_policy_print_one_json_shape_over_catalog_or_files(project: Path) -> None:
    """Catalog mode and --manifests mode share the pipeline, so they share CheckResult.to_dict()."""
    manifest = str(CASES / "policy" / "positive" / "restricted-deployment" / "manifest.yaml")
    runs = {
        "validate catalog": ("validate", "--engine", "builtin", "-k", "1.33"),
        "validate files": ("validate", "--engine", "builtin", "-k", "1.33", "-m", manifest),
        "policy catalog": ("policy", "--no-checkov", "-e", "production"),
        "policy files": ("policy", "--no-checkov", "-m", manifest),
    }
    shapes: dict[str, tuple[tuple[str, ...], ...]] = {}
    for label, args in runs.items():
        result = run_cli("-C", str(project), *args, "-o", "json")
        assert result.returncode in (0, 1), label + result.stderr
        data = json.loads(result.stdout)
        shapes[label] = (tuple(sorted(data)), tuple(sorted(data["matrix"])), tuple(sorted(data["summary"])))
        if label == "validate catalog":
            assert {r["chart"] for r in data["resources"]} >= {"alpha", "beta"}
            assert data["matrix"]["kubernetes_versions"] == ["1.33"]
    assert len(set(shapes.values())) == 1, shapes
    assert shapes["policy files"][0] == ("diagnostics", "failed", "matrix", "resources", "summary")
