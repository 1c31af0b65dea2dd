"""check --shard I/N and report merge: an exact, balanced split; the merge equals the unsharded run."""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from chartforge.check import ALL_STAGES
from chartforge.compile.build import build
from chartforge.compile.catalog import load_catalog
from chartforge.errors import UsageError
from chartforge.shard import Shard, matrix_cells, split
from tests.conftest import CASES, ROOT, copy_tree, require_tool, run_cli

BASE = CASES / "build" / "base"
HELMS = ("v3.17.2", "v4.1.4")


def bundled_cells() -> list[Any]:
    catalog = load_catalog(ROOT)
    charts = [c.name for c in catalog.charts]
    return matrix_cells(catalog, charts, catalog.environments, catalog.kubernetes_versions, HELMS, ALL_STAGES)


def test_matrix_covers_every_chart_environment_version_and_helm() -> None:
    catalog = load_catalog(ROOT)
    cells = bundled_cells()
    lint = {(c.chart, c.environment, c.helm) for c in cells if c.stage == "lint"}
    assert lint == {(ch.name, e, h) for ch in catalog.charts for e in catalog.environments for h in HELMS}
    validate = {(c.environment, c.kubernetes_version) for c in cells if c.stage == "validate"}
    assert validate == {(e, str(v)) for e in catalog.environments for v in catalog.kubernetes_versions}
    assert Counter(c.stage for c in cells)["policy"] == 1 and Counter(c.stage for c in cells)["build"] == 1


@pytest.mark.parametrize("total", range(1, 8))
def test_every_cell_in_exactly_one_shard(total: int) -> None:
    cells = bundled_cells()
    shards = split(cells, total)
    assert len(shards) == total
    keys = [c.key for shard in shards for c in shard]
    assert sorted(keys) == sorted(c.key for c in cells)
    assert len(set(keys)) == len(keys)
    assert split(list(reversed(cells)), total) == shards  # deterministic, whatever the input order
    loads = [sum(c.cost for c in shard) for shard in shards]
    assert max(loads) - min(loads) <= max(c.cost for c in cells)  # balanced to within one cell


@pytest.mark.parametrize("text", ["0/4", "5/4", "1", "a/b", "2/0"])
def test_bad_shard_spec_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="expected I/N"):
        Shard.parse(text)


def _run(root: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    result = run_cli("-C", str(root), "check", "--engine", "builtin", "-o", "json", *args)
    assert "Traceback" not in result.stderr
    return result.returncode, json.loads(result.stdout), result.stderr


def _findings(data: dict[str, Any]) -> list[str]:
    # helm's render errors name the run's scratch directory; everything else must match exactly
    return sorted(re.sub(r"chartforge-assembled-\w+", "<assembled>", json.dumps(d, sort_keys=True))
                  for d in data["diagnostics"])  # fmt: skip


def _testcases(junit: Path) -> list[tuple[str, str, bool]]:
    root = ET.parse(junit).getroot()
    return sorted(
        (c.get("classname", ""), c.get("name", ""), c.find("failure") is not None)
        for c in root.iter("testcase")
    )


@pytest.mark.helm
def test_merged_shards_equal_the_unsharded_check(tmp_path: Path) -> None:
    require_tool("helm")
    root = copy_tree(BASE, tmp_path / "project")
    build(root)
    cm = root / "charts/alpha/templates/configmap.yaml"  # findings in build, validate (and lint)
    cm.write_text(cm.read_text().replace("\ndata:", "\nbogusField: 1\ndata:"))
    code, whole, _ = _run(root, "--junit", str(tmp_path / "whole.xml"))
    assert code == 1 and whole["diagnostics"]
    reports = []
    for i in (1, 2, 3):
        report = tmp_path / f"shard{i}.json"
        rc, data, stderr = _run(root, "--shard", f"{i}/3", "--junit", str(tmp_path / f"shard{i}.xml"))
        assert rc in (0, 1) and data["shard"] == f"{i}/3", stderr
        report.write_text(json.dumps(data))
        reports.append(str(report))
    merged = run_cli("report", "merge", *reports, "-o", "json", "--junit", str(tmp_path / "merged.xml"))
    assert merged.returncode == 1, merged.stderr  # same exit rule: unwaived errors → 1
    data = json.loads(merged.stdout)
    assert _findings(data) == _findings(whole)
    assert data["summary"] == whole["summary"]
    assert data["matrix"]["checked"] == whole["matrix"]["checked"]
    assert _testcases(tmp_path / "merged.xml") == _testcases(tmp_path / "whole.xml")

    # refused: a missing shard, a shard twice, a shard of another matrix
    missing = run_cli("report", "merge", *reports[:2])
    assert missing.returncode == 2 and "missing shard(s) 3/3" in missing.stderr
    twice = run_cli("report", "merge", reports[0], reports[0], reports[1])
    assert twice.returncode == 2 and "given twice" in twice.stderr
    _, other, _ = _run(root, "--shard", "3/3", "--env", "development")
    (tmp_path / "other.json").write_text(json.dumps(other))
    mixed = run_cli("report", "merge", *reports[:2], str(tmp_path / "other.json"))
    assert mixed.returncode == 2 and "another matrix" in mixed.stderr
    plain = run_cli("report", "merge", str(tmp_path / "shard1.xml"))
    assert plain.returncode == 1 and "cannot read shard report" in plain.stderr


@pytest.mark.helm
def test_bundled_catalog_shards_merge_to_the_same_findings(tmp_path: Path) -> None:
    """The real catalog with real helm 3, helm 4 and kubeconform: 4 shards merged == one run (slow)."""
    require_tool("helm")
    require_tool("kubeconform")
    result = run_cli("-C", str(ROOT), "check", "-o", "json")
    assert "Traceback" not in result.stderr
    whole = json.loads(result.stdout)
    reports = []
    for i in range(1, 5):
        shard = run_cli("-C", str(ROOT), "check", "-o", "json", "--shard", f"{i}/4")
        report = tmp_path / f"shard{i}.json"
        report.write_text(shard.stdout)
        reports.append(str(report))
    merged = run_cli("report", "merge", *reports, "-o", "json")
    assert merged.returncode == result.returncode, merged.stderr
    data = json.loads(merged.stdout)
    assert _findings(data) == _findings(whole)
    assert data["matrix"]["checked"] == whole["matrix"]["checked"]


def test_example_workflow_runs_four_shards_and_merges_them() -> None:
    import yaml

    workflow = yaml.safe_load((ROOT / "ci/github-check.yml").read_text())
    jobs = workflow["jobs"]
    shards = jobs["check"]["strategy"]["matrix"]["shard"]
    assert shards == [1, 2, 3, 4]
    run = "\n".join(step.get("run", "") for step in jobs["check"]["steps"])
    assert '--shard "${{ matrix.shard }}/4"' in run and "--changed-since" in run
    assert jobs["merge"]["needs"] == "check"
    merge = "\n".join(step.get("run", "") for step in jobs["merge"]["steps"])
    assert "chartforge report merge " + " ".join(f"shard-{i}.json" for i in shards) in merge


@pytest.mark.helm
def test_a_failed_rendering_is_reported_once_across_shards(tmp_path: Path) -> None:
    require_tool("helm")
    root = copy_tree(BASE, tmp_path / "project")
    build(root)
    cm = root / "charts/alpha/templates/configmap.yaml"  # the newest version, which policy renders too
    cm.write_text('{{- if eq .Capabilities.KubeVersion.Minor "33" }}{{ fail "not on 1.33" }}{{- end }}\n'
                  + cm.read_text())  # fmt: skip
    _, whole, _ = _run(root)
    failed = [d for d in whole["diagnostics"] if d["code"] == "CF-RENDER-FAILED"]
    assert {(d["environment"], d["kubernetes_version"]) for d in failed} == {("development", "1.33"),
                                                                            ("production", "1.33")}  # fmt: skip
    reports, owners = [], {}
    for i in (1, 2, 3):
        _, data, _ = _run(root, "--shard", f"{i}/3")
        owners.update({(c["stage"], c["environment"], c["kubernetes_version"]): i for c in data["cells"]})
        (tmp_path / f"s{i}.json").write_text(json.dumps(data))
        reports.append(str(tmp_path / f"s{i}.json"))
    # the policy cell renders 1.33 in a shard that does not validate some environment's 1.33
    assert any(
        owners[("validate", e, "1.33")] != owners[("policy", "", "")] for e in ("development", "production")
    )
    merged = json.loads(run_cli("report", "merge", *reports, "-o", "json").stdout)
    assert _findings(merged) == _findings(whole)
