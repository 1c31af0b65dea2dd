"""The drift cell: a check over some charts compiles only those, with the findings a full check gives for them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from chartforge.compile.build import build
from tests.conftest import CASES, copy_tree, require_tool, run_cli

BASE = CASES / "build" / "base"  # alpha and beta, both sub-charts of the umbrella "suite"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    project = copy_tree(BASE, tmp_path / "project")
    build(project)
    return project


def _check(root: Path, *args: str) -> tuple[int, dict[str, object], str]:
    done = run_cli("-C", str(root), "check", "--stage", "lint", "--no-cache", "-o", "json", *args)
    return done.returncode, json.loads(done.stdout) if done.stdout.strip() else {}, done.stderr


@pytest.mark.helm
def test_a_check_over_some_charts_compiles_only_those(root: Path) -> None:
    require_tool("helm")
    beta = root / "sources/charts/beta/templates/configmap.yaml.j2"
    beta.write_text(beta.read_text() + "[% if %]\n")  # beta's sources no longer compile
    code, _, stderr = _check(root)
    assert code == 1 and "sources/charts/beta/templates/configmap.yaml.j2" in stderr, stderr
    assert "Traceback" not in stderr and "Cancelled" not in stderr, "the build error, nothing else"
    code, result, stderr = _check(root, "--chart", "alpha")
    assert code == 0, stderr  # alpha and the umbrella: beta is neither compiled nor checked
    assert result["matrix"]["charts"] == ["alpha", "suite"]  # type: ignore[index]


@pytest.mark.helm
def test_drift_of_a_selected_chart_is_reported_and_of_another_is_not(root: Path) -> None:
    require_tool("helm")
    for chart in ("alpha", "beta"):
        generated = root / f"charts/{chart}/templates/configmap.yaml"
        generated.write_text(generated.read_text() + "# edited by hand\n")
    _, full, _ = _check(root)
    _, alpha, _ = _check(root, "--chart", "alpha")
    drift = [d for d in full["diagnostics"] if d["code"] == "CF-BUILD-DRIFT"]  # type: ignore[index, union-attr]
    assert [d["path"] for d in drift] == [
        "charts/alpha/templates/configmap.yaml",
        "charts/beta/templates/configmap.yaml",
    ]
    assert [d for d in alpha["diagnostics"] if d["code"] == "CF-BUILD-DRIFT"] == drift[:1]  # type: ignore[index, union-attr]


@pytest.mark.helm
def test_on_a_fresh_checkout_findings_still_point_at_sources(root: Path) -> None:
    """No line map from an earlier build (``.chartforge/`` is not committed): the subset drift writes it."""
    require_tool("helm")
    chart = root / "sources/charts/alpha/chart.yaml"
    chart.write_text(
        "".join(line for line in chart.read_text().splitlines(True) if not line.startswith("icon:"))
    )
    template = root / "sources/charts/alpha/templates/configmap.yaml.j2"
    template.write_text(template.read_text() + "  broken: {{ .Values.nope.x | quote }}\n")
    build(root)
    shutil.rmtree(root / ".chartforge")
    _, alpha, _ = _check(root, "--chart", "alpha")
    shutil.rmtree(root / ".chartforge")
    _, full, _ = _check(root)
    found = alpha["diagnostics"]
    assert any(d["path"] == "sources/charts/alpha/templates/configmap.yaml.j2" for d in found), found  # type: ignore[union-attr]
    assert found == [d for d in full["diagnostics"] if d["chart"] in ("alpha", "suite", "")]  # type: ignore[index, union-attr]
