"""One Jinja environment per sources tree and process: templates compiled once, never served stale."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chartforge.compile.build import build
from chartforge.compile.jinja import environment, render_file
from chartforge.compile.params import parse_params
from chartforge.errors import SourceError, TemplateError
from tests.conftest import CASES, copy_tree


def _rewrite_keeping_mtime(path: Path, text: str) -> None:
    """New content, same size and same mtime: what an edit within the same second looks like."""
    before = path.stat()
    assert len(text.encode()) == before.st_size
    path.write_text(text)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_mtime_ns == before.st_mtime_ns


def test_one_environment_per_tree_and_templates_compiled_once(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "t.j2").write_text("x: [[ v ]]\n")
    env = environment(tmp_path / "a")
    assert environment(tmp_path / "a") is env and environment(tmp_path / "a" / ".") is env
    assert environment(tmp_path / "b") is not env
    assert env.get_template("t.j2") is env.get_template("t.j2")  # cached, not parsed again


def test_an_edit_in_the_same_second_is_seen(tmp_path: Path) -> None:
    (tmp_path / "macros").mkdir()
    macro = tmp_path / "macros" / "m.j2"
    macro.write_text("[% macro m() %]old[% endmacro %]\n")
    (tmp_path / "t.j2").write_text('[% import "macros/m.j2" as x %]v: [[ x.m() ]]\n')
    env = environment(tmp_path)
    assert render_file(env, tmp_path, "t.j2", {}) == "v: old\n"
    _rewrite_keeping_mtime(macro, "[% macro m() %]new[% endmacro %]\n")
    assert render_file(environment(tmp_path), tmp_path, "t.j2", {}) == "v: new\n"


def test_a_template_replaced_by_a_symlink_out_of_sources_is_refused(tmp_path: Path) -> None:
    sources = tmp_path / "sources"
    sources.mkdir()
    (sources / "t.j2").write_text("x: 1\n")
    assert render_file(environment(sources), sources, "t.j2", {}) == "x: 1\n"
    (tmp_path / "outside.j2").write_text("x: 1\n")  # same bytes: only the loader's check can refuse it
    (sources / "t.j2").unlink()
    (sources / "t.j2").symlink_to(tmp_path / "outside.j2")
    with pytest.raises(TemplateError, match="escapes sources/"):
        render_file(environment(sources), sources, "t.j2", {})


def test_a_second_build_in_the_same_process_sees_a_macro_edited_in_the_same_second(tmp_path: Path) -> None:
    root = copy_tree(CASES / "build" / "base", tmp_path / "p")
    build(root)
    macros = root / "sources" / "macros" / "k8s.j2"
    text = macros.read_text()
    assert "app.kubernetes.io/instance" in text
    _rewrite_keeping_mtime(macros, text.replace("app.kubernetes.io/instance", "app.kubernetes.io/instancE"))
    build(root)
    assert "app.kubernetes.io/instancE" in (root / "charts/alpha/templates/configmap.yaml").read_text()


def test_an_invalid_constraint_is_refused_every_time_a_valid_one_is_accepted_again() -> None:
    good = {"size": {"type": "string", "default": "1Gi", "description": "d", "maxLength": 10}}
    bad = {"size": {"type": "string", "default": "1Gi", "description": "d", "maxLength": "10"}}
    for _ in range(2):
        assert parse_params(good, file="p.yaml")[0].name == "size"
        with pytest.raises(SourceError, match="invalid 'maxLength'"):
            parse_params(bad, file="p.yaml")
