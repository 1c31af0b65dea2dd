"""The package stage's bad-input corpus: each folder of cases/negative is one fault.

A case folder (tests/cases/package/negative) holds files that replace (or add to) the sample project, and ``expected.txt``:
lines that must all appear in the one-line error. Every case exits 1 with no traceback and
writes no archive.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CASES, apply_case, assert_one_error, copy_tree, run_cli
from tests.package import SAMPLE

NEGATIVE = sorted(p for p in (CASES / "package" / "negative").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", NEGATIVE, ids=[p.name for p in NEGATIVE])
def test_negative_case(case: Path, tmp_path: Path) -> None:
    root = copy_tree(SAMPLE, tmp_path / "project")
    apply_case(case, root)
    assert_one_error(run_cli("-C", str(root), "package"), case)
    assert not (root / "dist").exists(), "a failed package wrote archives"


def test_no_charts_directory(tmp_path: Path) -> None:
    result = run_cli("-C", str(tmp_path), "package")
    assert result.returncode == 1
    assert "no charts directory" in result.stderr and "chartforge build" in result.stderr
