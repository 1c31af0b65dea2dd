"""The bundled catalog survives its own releases: a version bump of every chart is upgrade-safe.

Nothing the catalog renders into an immutable field (selectors, claim templates, non-hook Job
templates, …) may carry the chart version, or every `helm upgrade` to the next release would be
refused. Compared for every environment against the catalog as committed (real git, real helm).
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, copy_tree, require_tool, run_cli

pytestmark = [pytest.mark.helm, pytest.mark.slow]


def test_a_patch_release_of_every_chart_is_upgrade_safe(tmp_path: Path) -> None:
    require_tool("git")
    project = tmp_path / "project"
    for top in ("sources", "charts", "values"):
        copy_tree(ROOT / top, project / top)
    for args in (["init", "-q", "-b", "main"], ["add", "."],
                 ["-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "released"]):  # fmt: skip
        subprocess.run(["git", "-C", str(project), *args], check=True, capture_output=True)
    for chart in ("postgresql-ha", "redis-cluster", "mongodb-sharded", "security-baseline", "observability"):
        done = run_cli("-C", str(project), "bump", chart, "patch", "--against", "git:main")
        assert done.returncode == 0, done.stderr
    done = run_cli("-C", str(project), "check", "--stage", "compat", "--against", "git:main", "-o", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["diagnostics"] == []
    versions = {
        p.parent.name: p.read_text().splitlines()[0]
        for p in (project / "sources/charts").glob("*/chart.yaml")
    }
    assert set(versions.values()) == {"version: 1.0.1"}  # the umbrella bumped once, not five times
