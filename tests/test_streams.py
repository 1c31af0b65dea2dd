"""Results go to stdout, diagnostics and progress to stderr (issue 14, "What Helm users expect").

Per command, what stdout carries is listed in README "Output streams"; these run the real CLI on
the small fixture project (tests/cases/build/base) and check each stream holds only its share.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CASES, copy_tree, require_tool, run_cli

BASE = CASES / "build" / "base"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_tree(BASE, tmp_path / "project")


def test_build_result_on_stdout_nothing_on_stderr(project: Path) -> None:
    done = run_cli("-C", str(project), "build")
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    assert (
        done.stdout.splitlines()[-1].startswith("built ")
        and "   added  charts/alpha/Chart.yaml\n" in done.stdout
    )
    again = run_cli("-C", str(project), "build", "--check")
    assert (again.returncode, again.stdout, again.stderr) == (0, "up to date\n", "")


def test_build_check_drift_listing_is_the_result(project: Path) -> None:
    assert run_cli("-C", str(project), "build").returncode == 0
    (project / "values" / "production.yaml").write_text("edited: by hand\n")
    done = run_cli("-C", str(project), "build", "--check")
    assert done.returncode == 1 and done.stderr == ""
    assert "values/production.yaml" in done.stdout and "drift: 1 file(s)" in done.stdout


def test_package_result_on_stdout(project: Path, tmp_path: Path) -> None:
    assert run_cli("-C", str(project), "build").returncode == 0
    done = run_cli("-C", str(project), "package", "--out", str(tmp_path / "dist"))
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and "packaged 3 chart(s)" in done.stdout


def test_check_table_on_stdout_progress_on_stderr(project: Path) -> None:
    require_tool("helm")
    assert run_cli("-C", str(project), "build").returncode == 0
    done = run_cli("-C", str(project), "check", "--stage", "lint", "-e", "development")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("chartforge check: 1 environment(s)")
    assert all(line.startswith("check: ") for line in done.stderr.splitlines()), done.stderr
    assert "check: lint:" in done.stderr
