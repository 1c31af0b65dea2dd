"""Suite-wide options and helpers.

``--update-golden`` rewrites golden files instead of comparing against them; nothing else does.
``CHARTFORGE_REQUIRE_TOOLS=1`` (set by .ci/run) turns "helm/kubeconform/registry missing" from a
skip into a failure, so CI can never pass by skipping the real-tool tests.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CASES = Path(__file__).resolve().parent / "cases"
TOOLS_BIN = ROOT / ".tools" / "bin"

# Tests use the project's tools first (helm3/helm4/kubeconform installed by ci/install.sh).
if TOOLS_BIN.is_dir() and str(TOOLS_BIN) not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = f"{TOOLS_BIN}{os.pathsep}{os.environ.get('PATH', '')}"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False, help="rewrite golden files")


def _cache_folders_in_cases() -> set[Path]:
    return set(CASES.rglob(".chartforge"))


_CASE_CACHES_BEFORE: set[Path] = set()


def pytest_sessionstart(session: pytest.Session) -> None:
    _CASE_CACHES_BEFORE.update(_cache_folders_in_cases())


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when a test wrote chartforge's caches into a case folder (loading a catalog keeps
    parsed specs and compiled templates in its ``.chartforge/``): the next test copying that folder
    would copy them too. Tests load case folders from a copy (``copy_tree``)."""
    if hasattr(session.config, "workerinput"):
        return  # xdist workers: the controller looks once every worker is done
    written = sorted(_cache_folders_in_cases() - _CASE_CACHES_BEFORE)
    if written:
        listing = ", ".join(str(p.relative_to(ROOT)) for p in written)
        print(f"\nerror: tests wrote chartforge caches into case folders: {listing}", file=sys.stderr)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def require_tool(name: str) -> str:
    """Path of ``name``; skip when absent — or fail when CHARTFORGE_REQUIRE_TOOLS=1."""
    found = shutil.which(name)
    if found:
        return found
    message = f"{name} is not installed (run ci/install.sh)"
    if os.environ.get("CHARTFORGE_REQUIRE_TOOLS") == "1":
        pytest.fail(message)
    pytest.skip(message)


def run_cli(*args: str, cwd: Path | None = None, env: Mapping[str, str] | None = None,
            input_text: str | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    """``python -m chartforge ARGS`` in a real subprocess (exit codes and streams as users see them)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "chartforge", *args],
        cwd=cwd, env=full_env, input=input_text, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def copy_tree(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, dirs_exist_ok=True)
    return dst


def apply_case(case: Path, root: Path) -> None:
    """Overlay a bad-input case folder's files (all but ``expected.txt``) onto a project copy."""
    for file in case.rglob("*"):
        if file.is_file() and file.name != "expected.txt":
            target = root / file.relative_to(case)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(file.read_bytes())


def assert_one_error(result: subprocess.CompletedProcess[str], case: Path) -> None:
    """Exit 1, one ``error:`` line, no traceback, every line of the case's ``expected.txt`` in it."""
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ")
    assert result.stderr.count("\n") == 1, f"expected one message, got:\n{result.stderr}"
    for expected in (case / "expected.txt").read_text().splitlines():
        assert expected in result.stderr, f"{expected!r} not in {result.stderr!r}"
