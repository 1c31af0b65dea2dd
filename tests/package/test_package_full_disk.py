"""``package`` into a ``dist/`` whose filesystem fills up midway: dist/ stays the last good one.

A real full disk: a 192 KiB tmpfs mounted for the test (root, as in CI), holding an earlier
``dist/`` of the sample project; the new packaging of a larger project does not fit.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.package import SAMPLE


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=192k", "tmpfs", str(mount)], capture_output=True, text=True, check=False)  # fmt: skip
    if done.returncode != 0:
        message = f"cannot mount a tmpfs (needs root): {done.stderr.strip()}"
        if os.environ.get("CHARTFORGE_REQUIRE_TOOLS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    yield mount
    subprocess.run(["umount", str(mount)], check=False)


def _sums_hold(dist: Path) -> None:
    for line in (dist / "SHA256SUMS").read_text().splitlines():
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((dist / name).read_bytes()).hexdigest() == digest, name


def test_disk_full_midway_leaves_the_previous_dist(small_disk: Path, tmp_path: Path) -> None:
    dist = small_disk / "dist"
    first = run_cli("-C", str(SAMPLE), "package", "--out", str(dist))
    assert first.returncode == 0, first.stderr
    before = {p.name: p.read_bytes() for p in dist.iterdir()}
    _sums_hold(dist)
    project = tmp_path / "project"
    shutil.copytree(SAMPLE, project)
    # Incompressible bytes in every chart: the new archives cannot fit beside the old ones.
    for chart in ("cache", "db"):
        (project / "charts" / chart / "files").mkdir()
        (project / "charts" / chart / "files" / "blob.bin").write_bytes(os.urandom(60_000))
    done = run_cli("-C", str(project), "package", "--out", str(dist))
    assert done.returncode == 1, done.stderr
    assert "Traceback" not in done.stderr and done.stderr.startswith("error: ")
    assert "No space left on device" in done.stderr and "is unchanged" in done.stderr
    assert {p.name: p.read_bytes() for p in dist.iterdir()} == before, "dist/ changed"
    _sums_hold(dist)
