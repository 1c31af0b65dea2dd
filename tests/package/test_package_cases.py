"""The package stage's bad-input corpus: each folder of cases/negative is one fault.

A case folder holds files that replace (or add to) the sample project, and ``expected.txt``:
lines that must all appear in the one-line error. Every case exits 1 with no traceback and
writes no archive.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import copy_tree, run_cli
from tests.package import SAMPLE

NEGATIVE = sorted(p for p in (Path(__file__).parent / "cases" / "negative").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", NEGATIVE, ids=[p.name for p in NEGATIVE])
def test_negative_case(case: Path, tmp_path: Path) -> None:
    root = copy_tree(SAMPLE, tmp_path / "project")
    for file in case.rglob("*"):
        if file.is_file() and file.name != "expected.txt":
            target = root / file.relative_to(case)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(file.read_bytes())
    result = run_cli("-C", str(root), "package")
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1, f"expected one message, got:\n{result.stderr}"
    for expected in (case / "expected.txt").read_text().splitlines():
        assert expected in result.stderr, f"{expected!r} not in {result.stderr!r}"
    assert not (root / "dist").exists(), "a failed package wrote archives"


def test_no_charts_directory(tmp_path: Path) -> None:
    result = run_cli("-C", str(tmp_path), "package")
    assert result.returncode == 1
    assert "no charts directory" in result.stderr and "chartforge build" in result.stderr
