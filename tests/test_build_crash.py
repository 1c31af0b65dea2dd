"""Crash injection into ``chartforge build``: charts/ and values/ are both old or both new.

The real ``chartforge build`` runs under ``strace``, which kills it with SIGKILL (or makes the
syscall fail) at the N-th ``rename``, ``mkdir`` or ``unlink`` it makes, for every N until the
build no longer reaches that many: every write step of the swap is hit. After a kill, the next
run (``build --check``: any command) must find charts/ and values/ both the previous
generation or both the new one, and no leftovers; a plain ``build`` then finishes.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chartforge.compile.build import existing_files
from tests.conftest import CASES, copy_tree, require_tool, run_cli

BASE = CASES / "build" / "base"
# Every rename (the swap's own steps and the journal's writes); mkdir/unlink (staging and clean-up,
# ~30 each, alike past the first few) every call up to 4, then every fifth.
STEPS = {
    "rename": range(1, 100),
    "mkdir": [*range(1, 5), *range(5, 100, 5)],
    "unlink": [*range(1, 5), *range(5, 100, 5)],
}
SYSCALLS = {
    "rename": "rename,renameat,renameat2",
    "mkdir": "mkdir,mkdirat",
    "unlink": "unlink,unlinkat,rmdir",
}


def _change_sources(root: Path) -> None:
    """A change that touches both trees: a chart default and an environment file."""
    params = root / "sources/charts/alpha/parameters.yaml"
    params.write_text(params.read_text().replace("default: 1\n", "default: 2\n", 1))
    env = root / "sources/environments/development.yaml"
    env.write_text(env.read_text().replace("replicaCount: 1", "replicaCount: 3"))


@pytest.fixture(scope="module")
def generations(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, bytes], dict[str, bytes]]:
    """A built project (old generation), and the old and new trees."""
    old = copy_tree(BASE, tmp_path_factory.mktemp("old") / "p")
    assert run_cli("-C", str(old), "build").returncode == 0
    new = copy_tree(old, tmp_path_factory.mktemp("new") / "p")
    _change_sources(new)
    assert run_cli("-C", str(new), "build").returncode == 0
    old_tree, new_tree = existing_files(old), existing_files(new)
    assert old_tree != new_tree
    assert {p for p in old_tree if p.startswith("values/") and old_tree[p] != new_tree.get(p)}
    assert {p for p in old_tree if p.startswith("charts/") and old_tree[p] != new_tree.get(p)}
    return old, old_tree, new_tree


def _leftovers(root: Path) -> list[str]:
    return sorted(
        p.name for p in root.iterdir() if p.name.startswith((".chartforge-build-", ".charts.", ".values."))
    )


def _under_strace(root: Path, syscalls: str, when: int, action: str) -> subprocess.CompletedProcess[str]:
    strace = require_tool("strace")
    args = [strace, "-f", "-qq", "-o", "/dev/null", "-e", f"trace={syscalls}"]
    args += ["-e", f"inject={syscalls}:{action}:when={when}"]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    return subprocess.run(
        [*args, sys.executable, "-m", "chartforge", "-C", str(root), "build"],
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("syscall", sorted(SYSCALLS))
def test_kill_at_every_step_leaves_one_generation(
    syscall: str, generations: tuple[Path, dict[str, bytes], dict[str, bytes]], tmp_path: Path
) -> None:
    built, old_tree, new_tree = generations
    killed = 0
    for when in STEPS[syscall]:
        root = tmp_path / f"{syscall}-{when}"
        shutil.copytree(built, root)
        _change_sources(root)
        done = _under_strace(root, SYSCALLS[syscall], when, "signal=SIGKILL")
        if done.returncode == 0:  # the build made fewer such calls: every step was hit
            break
        assert done.returncode in (-9, 137), done.stderr
        killed += 1
        # The next command recovers first; whatever it finds is one whole generation.
        check = run_cli("-C", str(root), "build", "--check")
        assert "Traceback" not in check.stderr
        assert _leftovers(root) == [], f"kill at {syscall} #{when}: leftovers after the next run"
        state = existing_files(root)
        assert state in (old_tree, new_tree), f"kill at {syscall} #{when}: a mix of generations"
        assert check.returncode == (0 if state == new_tree else 1), check.stderr
        final = run_cli("-C", str(root), "build")
        assert final.returncode == 0, final.stderr
        assert existing_files(root) == new_tree and _leftovers(root) == []
        shutil.rmtree(root)
    else:
        pytest.fail("the build never finished under injection")
    assert killed > 0


def test_failed_rename_during_the_swap_rolls_back_at_once(
    generations: tuple[Path, dict[str, bytes], dict[str, bytes]], tmp_path: Path
) -> None:
    """A swap step that fails (EIO, EACCES…) rather than a kill: rolled back in the same run."""
    built, old_tree, new_tree = generations
    failed = 0
    for when in range(1, 50):
        root = tmp_path / f"eio-{when}"
        shutil.copytree(built, root)
        _change_sources(root)
        # Compile the changed sources once first: a failed rename of a compiled-template cache entry
        # (.chartforge/jinja/) is ignored by design, and this test is about the swap's renames.
        assert run_cli("-C", str(root), "build", "--check").returncode == 1
        done = _under_strace(root, SYSCALLS["rename"], when, "error=EIO")
        if done.returncode == 0:
            break
        failed += 1
        assert done.returncode == 1, done.stderr
        assert "Traceback" not in done.stderr and done.stderr.startswith("error: ")
        assert existing_files(root) in (old_tree, new_tree)
        assert _leftovers(root) == []
        shutil.rmtree(root)
    assert failed > 0


def test_leftovers_of_older_versions_are_cleaned(
    generations: tuple[Path, dict[str, bytes], dict[str, bytes]], tmp_path: Path
) -> None:
    """``.charts.old`` (charts/ missing: restored), ``.values.old`` and a half-written staging folder."""
    built, old_tree, _ = generations
    root = tmp_path / "p"
    shutil.copytree(built, root)
    os.replace(root / "charts", root / ".charts.old")
    shutil.copytree(root / "values", root / ".values.old")
    (root / ".chartforge-build-abc123" / "new" / "charts").mkdir(parents=True)
    done = run_cli("-C", str(root), "build", "--check")
    assert done.returncode == 0, done.stderr
    assert _leftovers(root) == []
    assert existing_files(root) == old_tree
