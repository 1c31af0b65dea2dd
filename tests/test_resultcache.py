"""The result cache: a cached lint cell is not run again and the output is that of an uncached run."""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import time
from pathlib import Path

import pytest

from chartforge.compile.build import build
from chartforge.diagnostics import Diagnostic
from chartforge.resultcache import ResultCache, cell_key, file_digest
from chartforge.tools import find_helms
from tests.conftest import CASES, copy_tree, require_tool, run_cli

FOUND = [
    Diagnostic(
        "error",
        "HELM-LINT-ERROR",
        "boom",
        stage="lint",
        chart="a",
        environment="dev",
        path="charts/a",
        extra=(("helm", "v4.1.4"),),
    ),
    Diagnostic("info", "HELM-LINT-INFO", "icon is recommended", stage="lint", chart="a", line=3),
]


def test_round_trip_and_misses(tmp_path: Path) -> None:
    cache = ResultCache(tmp_path / "c")
    key = cell_key("lint", "a", "dev")
    assert cache.get(key) is None
    cache.put(key, FOUND)
    assert cache.get(key) == FOUND
    assert [d.extra for d in cache.get(key) or []] == [d.extra for d in FOUND]
    assert cache.get(cell_key("lint", "a", "prod")) is None, "another part, another key"
    assert list((tmp_path / "c").rglob("*.tmp")) == [], "no temporary file left behind"
    off = ResultCache(None)
    off.put(key, FOUND)
    assert off.get(key) is None


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # truncated
        lambda text: text.replace("boom", "bOom"),  # still JSON, the checksum no longer matches
        lambda text: "[]",  # another shape
        lambda text: text.replace('"severity": "error"', '"severity": "error", "x": 1'),
    ],
)
def test_a_damaged_entry_is_a_miss_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, damage
) -> None:  # type: ignore[no-untyped-def]
    cache = ResultCache(tmp_path)
    key = cell_key("lint", "a")
    cache.put(key, FOUND)
    entry = next(tmp_path.rglob(f"{key}.json"))
    entry.write_text(damage(entry.read_text()))
    with caplog.at_level(logging.WARNING, logger="chartforge.cache"):
        assert cache.get(key) is None
    assert "ignoring unreadable cache entry" in caplog.text and str(entry) in caplog.text


BIG = [Diagnostic("error", "X", "m" * 2000, line=i) for i in range(300)]


def _write_forever(root: Path, key: str) -> None:
    cache = ResultCache(root)
    while True:
        cache.put(key, BIG)
        cache.put(key, FOUND)


def test_readers_never_see_a_half_written_entry(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    cache = ResultCache(tmp_path)
    key = cell_key("lint", "big")
    cache.put(key, FOUND)
    seen: set[int] = set()
    context = multiprocessing.get_context("fork")
    writers = [context.Process(target=_write_forever, args=(tmp_path, key), daemon=True) for _ in range(2)]
    for w in writers:
        w.start()
    try:
        with caplog.at_level(logging.WARNING, logger="chartforge.cache"):
            for _ in range(1500):
                got = cache.get(key)
                assert got is not None and got in (BIG, FOUND), "the whole old entry or the whole new one"
                seen.add(len(got))
    finally:
        for w in writers:
            w.kill()
            w.join()
    assert seen == {300, 2} and caplog.text == ""


@pytest.mark.helm
def test_second_check_reuses_every_cell_and_a_change_reruns_only_its_cells(tmp_path: Path) -> None:
    require_tool("helm")
    root = copy_tree(CASES / "build" / "base", tmp_path / "project")
    # a finding in beta, so cached findings are not just empty lists
    chart = root / "sources/charts/beta/chart.yaml"
    chart.write_text(
        "".join(line for line in chart.read_text().splitlines(True) if not line.startswith("icon:"))
    )
    build(root)
    helm = find_helms()[-1]
    log = tmp_path / "calls.log"
    wrapper = tmp_path / "helm"
    wrapper.write_text(f'#!/bin/sh\n[ "$1" = version ] || echo "$@" >> {log}\nexec {helm.path} "$@"\n')
    wrapper.chmod(0o755)
    env = {"CHARTFORGE_CACHE": str(tmp_path / "cache")}
    args = ("-C", str(root), "check", "--helm", str(wrapper), "--engine", "builtin", "-o", "json")

    def run(*extra: str) -> tuple[dict[str, object], list[str], str]:
        log.write_text("")
        result = run_cli(*args, *extra, env=env)
        assert result.returncode in (0, 1), result.stderr
        return json.loads(result.stdout), log.read_text().splitlines(), result.stderr

    first, calls, _ = run()
    assert {c.split()[0] for c in calls} == {"lint", "template"}
    assert any(d["chart"] == "beta" and d["stage"] == "lint" for d in first["diagnostics"])  # type: ignore[attr-defined, index]
    second, calls, _ = run()
    assert calls == [], "every lint cell, the renderings, validation and policy came from the cache"
    assert second == first

    template = root / "sources/charts/alpha/templates/configmap.yaml.j2"
    template.write_text(template.read_text() + "\n# changed\n")
    build(root)
    third, calls, _ = run()
    assert sum(c.startswith("template ") for c in calls) == 2, (
        "the umbrella renders every chart: rendered again"
    )
    linted = {
        Path(word).name
        for line in calls
        if line.startswith("lint ")
        for word in line.split()
        if word.startswith("/") and "/values" not in word
    }
    assert linted == {"alpha", "suite"}, "the changed sub-chart and the umbrella, nothing else"
    assert third == run("--no-cache")[0]

    for entry in (tmp_path / "cache" / "results").rglob("*.json"):
        entry.write_text(entry.read_text()[:10])
    fourth, calls, stderr = run()
    assert "ignoring unreadable cache entry" in stderr and calls
    assert fourth == third


def test_a_remembered_file_digest_follows_every_rewrite_even_with_its_mtime_set_back(tmp_path: Path) -> None:
    path = tmp_path / "values.yaml"
    path.write_text("a: 1\n")
    time.sleep(2.1)  # older than the racy window: its digest is remembered
    first = file_digest(path)
    assert first == hashlib.sha256(b"a: 1\n").digest()
    assert file_digest(path) == first
    before = path.stat()
    path.write_text("a: 2\n")  # same size, same inode
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # mtime as before: the ctime still tells
    assert file_digest(path) == hashlib.sha256(b"a: 2\n").digest()
    link = tmp_path / "link.yaml"
    link.symlink_to(path)
    assert file_digest(link) == file_digest(path), "the same file through a link"
