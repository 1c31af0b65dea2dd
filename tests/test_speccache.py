"""Parsed parameter specs kept between runs (compile/speccache.py): used when the text is the same, never stale."""

from __future__ import annotations

import marshal
from pathlib import Path

import pytest

from chartforge.compile import speccache
from chartforge.compile.catalog import load_catalog
from chartforge.errors import SourceError
from tests.conftest import CASES, copy_tree

BASE = CASES / "build" / "base"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return copy_tree(BASE, tmp_path / "project")


def _entries(root: Path) -> dict[bytes, bytes]:
    data = marshal.loads((root / speccache.FILE).read_bytes())
    assert isinstance(data, dict)
    return data


def test_a_second_load_reads_the_cache_and_gives_the_same_catalog(project: Path) -> None:
    first = load_catalog(project)
    entries = _entries(project)
    assert len(entries) == 3  # global.yaml, alpha's and beta's specs (the umbrella has none)
    # Prove the second load reads the cache: an entry whose parameters say otherwise is believed.
    for key, blob in entries.items():
        frozen = marshal.loads(blob)
        entries[key] = marshal.dumps(tuple((f[0], f[1], "FROM CACHE", *f[3:]) for f in frozen))
    (project / speccache.FILE).write_bytes(marshal.dumps(entries))
    second = load_catalog(project)
    assert {p.description for c in second.charts for p in c.params.children} == {"FROM CACHE"}
    (project / speccache.FILE).unlink()
    assert load_catalog(project) == first


def test_an_edited_spec_is_parsed_again_and_an_invalid_one_fails_every_time(project: Path) -> None:
    load_catalog(project)
    spec = project / "sources/charts/beta/parameters.yaml"
    spec.write_text(spec.read_text().replace("default: 2", "default: 5"))
    beta = load_catalog(project).chart("beta")
    found = beta.params.find("replicaCount")
    assert found is not None and found.default == 5
    spec.write_text(spec.read_text().replace("default: 5", 'default: "five"'))
    for _ in range(2):
        with pytest.raises(SourceError, match="not of type integer"):
            load_catalog(project)


def test_a_damaged_or_foreign_cache_is_ignored_and_replaced(project: Path) -> None:
    first = load_catalog(project)
    for damage in (b"", b"\x00not marshal", marshal.dumps([1, 2]), marshal.dumps({b"k": b"\xff\xff"})):
        (project / speccache.FILE).write_bytes(damage)
        assert load_catalog(project) == first
    assert len(_entries(project)) == 4  # the three specs again, beside the unreadable entry (kept up to KEEP)


def test_a_cache_that_cannot_be_written_is_not_used(project: Path) -> None:
    (project / ".chartforge").write_text("a file where the folder should be")
    assert load_catalog(project).chart("alpha").params.children
