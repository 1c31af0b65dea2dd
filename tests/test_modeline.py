"""Every generated values file names its schema for editors (``# yaml-language-server: $schema=…``).

The path is relative to the file and must resolve to the chart's ``values.schema.json`` (for
``values/<env>.yaml``: the umbrella's), which must accept the file: an editor then validates and
completes exactly as ``helm install -f`` will.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml

from tests.conftest import ROOT

PREFIX = "# yaml-language-server: $schema="
VALUES = sorted([*ROOT.glob("charts/*/values.yaml"), *ROOT.glob("values/*.yaml")])


def test_every_generated_values_file_is_covered() -> None:
    assert len(VALUES) >= 9 and (ROOT / "values" / "production.yaml") in VALUES


@pytest.mark.parametrize("path", VALUES, ids=[str(p.relative_to(ROOT)) for p in VALUES])
def test_values_file_starts_with_a_schema_line_that_resolves_and_accepts_it(path: Path) -> None:
    first = path.read_text().split("\n", 1)[0]
    assert first.startswith(PREFIX), first
    schema_path = (path.parent / first.removeprefix(PREFIX)).resolve()
    expected = path.parent if path.parent.parent.name == "charts" else ROOT / "charts" / _umbrella()
    assert schema_path == (expected / "values.schema.json").resolve()
    schema = json.loads(schema_path.read_text())
    jsonschema.Draft7Validator(schema).validate(yaml.safe_load(path.read_text()) or {})


def _umbrella() -> str:
    return str(yaml.safe_load((ROOT / "sources" / "catalog.yaml").read_text())["umbrella"])
