"""The compiler's bad-input corpus: each folder of tests/cases/build/negative is one fault.

A case folder holds files that replace (or add to) the valid base tree in tests/cases/build/base,
and ``expected.txt``: lines that must all appear in the one-line error. Every case must exit 1,
print no traceback, and leave the previously built charts/ and values/ byte-for-byte untouched.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chartforge.compile.build import existing_files
from tests.conftest import CASES, apply_case, assert_one_error, copy_tree, run_cli

BASE = CASES / "build" / "base"
NEGATIVE = sorted(p for p in (CASES / "build" / "negative").iterdir() if p.is_dir())


@pytest.fixture
def built_base(tmp_path: Path) -> Path:
    root = copy_tree(BASE, tmp_path / "project")
    result = run_cli("-C", str(root), "build")
    assert result.returncode == 0, result.stderr
    return root


@pytest.mark.parametrize("case", NEGATIVE, ids=[p.name for p in NEGATIVE])
def test_negative_case(case: Path, built_base: Path) -> None:
    before = existing_files(built_base)
    apply_case(case, built_base)
    assert_one_error(run_cli("-C", str(built_base), "build"), case)
    assert existing_files(built_base) == before, "a failed build touched charts/ or values/"
    assert not list(built_base.glob(".chartforge-build-*")), "a failed build left its staging directory"


def test_debug_shows_traceback(built_base: Path) -> None:
    (built_base / "sources/charts/beta/chart.yaml").write_text("version: nope\ndescription: x\n")
    result = run_cli("--debug", "-C", str(built_base), "build")
    assert result.returncode != 0
    assert "Traceback" in result.stderr


def test_base_case_is_valid(built_base: Path) -> None:
    result = run_cli("-C", str(built_base), "build", "--check")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "up to date\n"
