"""Bounded YAML in every loader: sources (yamlio), manifests (validate/policy), --set values."""

from __future__ import annotations

import time

import pytest

from chartforge.errors import SourceError
from chartforge.manifests import parse_manifest_text
from chartforge.yamlio import load_yaml_text

LAUGHS = "a0: &a [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"a{i + 1}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n"
    for i, (p, c) in enumerate(zip("abcdefgh", "bcdefghi", strict=True))
)


def test_billion_laughs_in_a_source_file_is_refused_fast_with_its_line() -> None:
    started = time.monotonic()
    with pytest.raises(SourceError) as info:
        load_yaml_text(LAUGHS, display="sources/x.yaml")
    assert time.monotonic() - started < 2
    assert info.value.line == 6  # the alias that crossed 1,000,000 nodes
    assert "expands to more than 1,000,000 nodes" in info.value.message


def test_billion_laughs_in_a_manifest_is_an_invalid_document_not_a_hang() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n" + "".join(
        "  " + line + "\n" for line in LAUGHS.splitlines()
    )
    started = time.monotonic()
    (res,) = parse_manifest_text(text, "bomb.yaml")
    assert time.monotonic() - started < 2
    assert res.error is not None and "expands to more than 1,000,000 nodes" in res.error
    assert res.error_line == 10


@pytest.mark.parametrize("depth", [250, 5000])
def test_deep_nesting_is_refused_in_sources_and_manifests(depth: int) -> None:
    deep = "[" * depth + "]" * depth
    with pytest.raises(SourceError) as info:
        load_yaml_text(f"a: {deep}\n", display="sources/x.yaml")
    assert "nested more than 200 levels deep" in info.value.message
    if depth > 1000:  # manifests without aliases: as deep as Python's stack allows, then an error
        (res,) = parse_manifest_text(
            f"apiVersion: v1\nkind: X\nmetadata: {{name: x}}\ndata: {deep}\n", "d.yaml"
        )
        assert res.error is not None and "nested" in res.error


def test_ordinary_aliases_still_work() -> None:
    data = load_yaml_text("base: &b {x: 1}\nother: *b\nmerged: {<<: *b, y: 2}\n", display="x.yaml")
    assert data["other"] == {"x": 1} and data["merged"] == {"x": 1, "y": 2}
