"""sources_files: every file under a folder of sources/, in Path order, links checked, linked folders not entered."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chartforge.compile.sourcetree import sources_files
from chartforge.errors import SourceError


def test_the_listing_is_rglob_order_with_links_checked(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    for rel in ("a/x.j2", "a-b/x.j2", "a.j2", "shared/m.j2", ".hidden", "z/deep/er/f.txt"):
        (sources / rel).parent.mkdir(parents=True, exist_ok=True)
        (sources / rel).write_text(rel)
    (sources / "link.j2").symlink_to(sources / "shared" / "m.j2")
    (sources / "linked-folder").symlink_to(sources / "shared")  # checked, not entered (as Path.rglob)
    expected = sorted(p for p in sources.rglob("*") if not p.is_dir())
    got = sources_files(sources, sources, root=tmp_path)
    assert got == expected
    assert [p.relative_to(sources).as_posix() for p in got][:3] == [".hidden", "a/x.j2", "a-b/x.j2"]


@pytest.mark.parametrize("link", ["file", "folder"])
def test_a_link_out_of_the_tree_is_refused_and_a_fifo_is_not_a_file(tmp_path: Path, link: str) -> None:
    sources, outside = tmp_path / "sources", tmp_path / "outside"
    (sources / "charts").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret").write_text("x")
    (sources / "charts" / "leak").symlink_to(outside / "secret" if link == "file" else outside)
    with pytest.raises(SourceError, match="outside sources/"):
        sources_files(sources, sources, root=tmp_path)
    (sources / "charts" / "leak").unlink()
    os.mkfifo(sources / "charts" / "pipe")
    with pytest.raises(SourceError, match="not a regular file"):
        sources_files(sources / "charts", sources, root=tmp_path)
