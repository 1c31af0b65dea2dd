"""Same charts → same bytes, whatever the checkout's mtimes, the clock, the umask or the time zone."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from chartforge.package import SUMS_FILE, package_charts
from tests.conftest import copy_tree, run_cli
from tests.package import SAMPLE

GOLDEN = Path(__file__).parent / "golden" / SUMS_FILE


def _scramble_mtimes(root: Path, base: int) -> None:
    for index, path in enumerate(sorted(root.rglob("*"))):
        os.utime(path, (base + 7919 * index, base + 104729 * index))


def test_two_clones_give_identical_archives(tmp_path: Path) -> None:
    one = copy_tree(SAMPLE, tmp_path / "one")
    two = copy_tree(SAMPLE, tmp_path / "a much longer/second clone")
    _scramble_mtimes(one, 1_000_000_000)
    _scramble_mtimes(two, 1_700_000_000)
    for path in (two / "charts").rglob("*"):  # a umask of 077 on the second clone
        path.chmod(0o700 if path.is_dir() else 0o600)
    first = run_cli("-C", str(one), "package", env={"TZ": "Pacific/Kiritimati", "SOURCE_DATE_EPOCH": "1"})
    second = run_cli("-C", str(two), "package", env={"TZ": "America/Adak", "LC_ALL": "C"})
    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    sums_one = (one / "dist" / SUMS_FILE).read_bytes()
    assert sums_one == (two / "dist" / SUMS_FILE).read_bytes()
    for line in sums_one.decode().splitlines():
        digest, name = line.split()
        assert hashlib.sha256((two / "dist" / name).read_bytes()).hexdigest() == digest
        assert (one / "dist" / name).stat().st_mtime == 0  # helm push stamps it into the manifest


def test_umask_of_the_packaging_process_does_not_matter(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        strict = package_charts(SAMPLE / "charts", tmp_path / "strict")
    finally:
        os.umask(old)
    loose = package_charts(SAMPLE / "charts", tmp_path / "loose")
    assert [c.sha256 for c in strict.charts] == [c.sha256 for c in loose.charts]


def test_sample_digests_are_the_golden_ones(tmp_path: Path, update_golden: bool) -> None:
    """Pins the exact bytes: a change here means every published chart would be refused."""
    result = package_charts(SAMPLE / "charts", tmp_path / "dist")
    produced = result.sums_file.read_text()
    if update_golden:
        GOLDEN.parent.mkdir(exist_ok=True)
        GOLDEN.write_text(produced)
    assert produced == GOLDEN.read_text()
