"""The compiled-template cache under .chartforge/jinja/: reused between runs, never stale, damage ignored."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import jinja2

from chartforge.compile import bytecode
from chartforge.compile.jinja import new_environment, render_file
from tests.conftest import CASES, copy_tree, run_cli


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for d in ("charts", "values")
            for p in sorted((root / d).rglob("*")) if p.is_file()}  # fmt: skip


def _full_build(root: Path) -> dict[str, bytes]:
    (root / ".chartforge" / "build-stamp.json").unlink(missing_ok=True)  # compile, not the no-op path,
    shutil.rmtree(root / ".chartforge" / "charts", ignore_errors=True)  # nor each chart's kept compile
    result = run_cli("-C", str(root), "build")
    assert result.returncode == 0, result.stderr
    return _tree(root)


def test_a_second_process_reuses_entries_and_writes_the_same_output(tmp_path: Path) -> None:
    root = copy_tree(CASES / "build" / "base", tmp_path / "p")
    first = _full_build(root)
    cache = root / bytecode.DIRECTORY
    entries = {p.name: p.stat().st_mtime_ns for p in cache.glob("*.bc")}
    assert entries, "no compiled template was kept"
    assert (root / ".chartforge" / ".gitignore").read_text() == "*\n"
    assert _full_build(root) == first
    assert {p.name: p.stat().st_mtime_ns for p in cache.glob("*.bc")} == entries  # read, not rewritten


def test_damaged_entries_are_ignored_and_replaced(tmp_path: Path) -> None:
    root = copy_tree(CASES / "build" / "base", tmp_path / "p")
    first = _full_build(root)
    cache = root / bytecode.DIRECTORY
    for i, entry in enumerate(sorted(cache.glob("*.bc"))):
        data = entry.read_bytes()
        entry.write_bytes(data[: len(data) // 2] if i % 2 else data[:40] + b"\xff" * 64 + data[104:])
    assert _full_build(root) == first
    env = new_environment(root / "sources")
    assert isinstance(env.bytecode_cache, bytecode.DiskCache)
    for entry in cache.glob("*.bc"):  # every entry whole again
        data = entry.read_bytes()
        assert len(data) > 32 and bytecode.hashlib.sha256(data[32:]).digest() == data[:32]


def test_a_template_edited_in_the_same_second_is_compiled_again(tmp_path: Path) -> None:
    root = copy_tree(CASES / "build" / "base", tmp_path / "p")
    _full_build(root)
    template = root / "sources/charts/alpha/templates/configmap.yaml.j2"
    before = template.stat()
    text = template.read_text()
    assert "ConfigMap" in text
    template.write_text(text.replace("ConfigMap", "ConfigMaq"))
    os.utime(template, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert b"kind: ConfigMaq" in _full_build(root)["charts/alpha/templates/configmap.yaml"]


def test_a_folder_outside_a_project_keeps_nothing_on_disk(tmp_path: Path) -> None:
    (tmp_path / "t.j2").write_text("x: [[ 1 + 1 ]]\n")
    env = new_environment(tmp_path)
    assert env.bytecode_cache is None
    assert render_file(env, tmp_path, "t.j2", {}) == "x: 2\n"
    assert not (tmp_path.parent / ".chartforge").exists() and not (tmp_path / ".chartforge").exists()


def test_an_unwritable_cache_is_not_an_error(tmp_path: Path) -> None:
    root = copy_tree(CASES / "build" / "base", tmp_path / "p")
    (root / ".chartforge").mkdir()
    (root / bytecode.DIRECTORY).write_text("a file where the cache folder should be\n")
    env = jinja2.Environment(
        loader=jinja2.DictLoader({"t": "[[ 2 ]]"}), variable_start_string="[[", variable_end_string="]]",
        bytecode_cache=bytecode.DiskCache(root / bytecode.DIRECTORY, "plain"),
    )  # fmt: skip
    assert env.get_template("t").render() == "2"
    assert not list((root / ".chartforge").glob("**/*.tmp"))
