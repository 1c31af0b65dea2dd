"""``chartforge bump``: only the version line changes (ruamel round trip), dependents follow, rebuild."""

from __future__ import annotations

import difflib
import json
import shutil
from pathlib import Path

import pytest
import yaml

from chartforge.compat.bump import bumped, level_between, satisfies
from tests.conftest import ROOT, run_cli


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(ROOT / "sources", root / "sources")
    assert run_cli("-C", str(root), "build").returncode == 0
    return root


def _changed_lines(before: str, after: str) -> list[str]:
    return [line for line in difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
            if line[:1] in "+-" and not line.startswith(("+++", "---"))]  # fmt: skip


def test_versions() -> None:
    assert [bumped("1.4.2", lvl) for lvl in ("major", "minor", "patch")] == ["2.0.0", "1.5.0", "1.4.3"]  # type: ignore[arg-type]
    assert bumped("2.0.0-rc.1", "patch") == "2.0.0"
    assert level_between("1.4.2", "2.0.0") == "major" and level_between("1.4.2", "1.4.2") == "none"
    assert level_between("0.3.0", "0.4.0") == "major" and level_between("1.3.0", "1.3.1") == "patch"
    assert satisfies("1.0.0", "1.1.0", "minor") and not satisfies("1.0.0", "1.0.1", "minor")


def test_bump_keeps_comments_and_layout_bumps_the_umbrella_and_rebuilds(project: Path) -> None:
    src = project / "sources" / "charts" / "redis-cluster" / "chart.yaml"
    commented = "# Redis Cluster: keep this comment\n" + src.read_text().replace(
        "keywords:", "keywords:  # for Artifact Hub search", 1
    )
    commented = commented.replace("description:", "# the one-line description\ndescription:", 1)
    src.write_text(commented)
    umbrella = project / "sources" / "charts" / "spotify-ai-agent" / "chart.yaml"
    umbrella_before, other_before = (
        umbrella.read_text(),
        (project / "sources/charts/postgresql-ha/chart.yaml").read_text(),
    )
    done = run_cli("-C", str(project), "bump", "redis-cluster", "major", "-o", "json")
    assert done.returncode == 0, done.stderr
    plan = json.loads(done.stdout)["bumped"]
    assert [(b["chart"], b["old"], b["new"], b["reason"]) for b in plan] == [
        ("redis-cluster", "1.0.0", "2.0.0", "requested"),
        ("spotify-ai-agent", "1.0.0", "2.0.0", "depends on redis-cluster"),
    ]
    assert _changed_lines(commented, src.read_text()) == ["-version: 1.0.0", "+version: 2.0.0"]
    assert _changed_lines(umbrella_before, umbrella.read_text()) == ["-version: 1.0.0", "+version: 2.0.0"]
    assert (project / "sources/charts/postgresql-ha/chart.yaml").read_text() == other_before
    built = yaml.safe_load((project / "charts" / "spotify-ai-agent" / "Chart.yaml").read_text())
    assert built["version"] == "2.0.0"
    assert {d["name"]: d["version"] for d in built["dependencies"]}["redis-cluster"] == "2.0.0"
    assert run_cli("-C", str(project), "build", "--check").returncode == 0


def test_every_bundled_chart_yaml_round_trips_to_a_one_line_diff(project: Path) -> None:
    for src in sorted((project / "sources" / "charts").glob("*/chart.yaml")):
        before = src.read_text()
        done = run_cli("-C", str(project), "bump", src.parent.name, "patch", "--dry-run")
        assert done.returncode == 0 and src.read_text() == before  # dry run writes nothing
        from chartforge.compat.bump import set_version

        set_version(src, "9.9.9", str(src))
        assert _changed_lines(before, src.read_text()) == ["-version: 1.0.0", "+version: 9.9.9"], src


def test_bad_input(project: Path) -> None:
    done = run_cli("-C", str(project), "bump", "postgres", "major")
    assert (
        done.returncode == 1 and "unknown chart 'postgres'" in done.stderr and "postgresql-ha" in done.stderr
    )
    done = run_cli("-C", str(project), "bump", "postgresql-ha", "huge")
    assert done.returncode == 2 and "unknown level 'huge'" in done.stderr
