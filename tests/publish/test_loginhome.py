"""The sweep of helm homes left by killed runs: only those whose owner process is gone."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from chartforge.publish import loginhome


def _home(tmp: Path, pid: int, start: str) -> Path:
    home = tmp / f"{loginhome.PREFIX}{pid}-{start}-abc123"
    home.mkdir()
    (home / "registry.json").write_text('{"auths": {}}')
    return home


def test_a_dead_owner_is_swept_a_live_one_kept(tmp_path: Path) -> None:
    child = subprocess.Popen(["sleep", "30"])
    try:
        alive = _home(tmp_path, child.pid, loginhome.process_start(child.pid))
        assert loginhome.sweep(tmp_path) == [] and alive.is_dir()
    finally:
        child.kill()
        child.wait()
    assert loginhome.sweep(tmp_path) == [alive] and not alive.exists()


def test_a_reused_pid_does_not_keep_a_home(tmp_path: Path) -> None:
    me = os.getpid()
    mine = _home(tmp_path, me, loginhome.process_start(me))
    other = tmp_path / f"{loginhome.PREFIX}{me}-1-xyz"
    other.mkdir()  # same pid, another start time: the pid now runs another process
    assert loginhome.sweep(tmp_path) == [other]
    assert mine.is_dir()


def test_names_it_cannot_read_are_left_alone(tmp_path: Path) -> None:
    legacy = tmp_path / f"{loginhome.PREFIX}k2j4h5"  # an older chartforge's home: owner unknown
    legacy.mkdir()
    assert loginhome.sweep(tmp_path) == [] and legacy.is_dir()


def test_create_names_the_home_after_this_process() -> None:
    home = loginhome.create()
    try:
        assert home.name.startswith(
            f"{loginhome.PREFIX}{os.getpid()}-{loginhome.process_start(os.getpid())}-"
        )
        assert oct(home.stat().st_mode & 0o777) == "0o700"
        assert loginhome.sweep(home.parent) == [] and home.is_dir()
    finally:
        home.rmdir()
