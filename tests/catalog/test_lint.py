"""`helm lint --strict` passes on every bundled chart with each environment's values, helm 3 and helm 4."""

from __future__ import annotations

import json

import pytest
from tests.catalog.conftest import ROOT, catalog
from tests.conftest import require_tool, run_cli


@pytest.mark.helm
def test_every_chart_lints_strictly_with_both_helm_majors() -> None:
    require_tool("helm3")
    require_tool("helm4")
    result = run_cli("-C", str(ROOT), "lint", "-o", "json")
    data = json.loads(result.stdout)
    errors = [d for d in data["diagnostics"] if d["severity"] == "error"]
    assert result.returncode == 0, json.dumps(errors[:10], indent=1)
    assert [v.split(".")[0] for v in data["matrix"]["helm_versions"]] == ["v3", "v4"]
    charts = len(catalog().charts)
    assert data["matrix"]["checked"] == 2 * len(catalog().environments) * charts, "chart × env × helm major"
