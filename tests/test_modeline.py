"""Every generated values file names its schema for editors (``# yaml-language-server: $schema=…``).

The path is relative to the file and must resolve to the chart's ``values.schema.json`` (for
``values/<env>.yaml``: the editor schema ``values/values.schema.json``, the umbrella's own schema
with a ``$ref`` to each sub-chart's ``values.schema.json``, resolved relative to it as the YAML
language server does), which must accept the file: an editor then validates and completes every
key that ``helm install -f`` checks.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
import yaml
from referencing import Registry, Resource

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
    expected = path.parent if path.parent.parent.name == "charts" else ROOT / "values"
    assert schema_path == (expected / "values.schema.json").resolve()
    file_validator(schema_path).validate(yaml.safe_load(path.read_text()) or {})


def file_validator(schema_path: Path) -> jsonschema.Draft7Validator:
    """A validator of the schema at ``schema_path`` whose relative ``$ref``s are files beside it."""

    def retrieve(uri: str) -> Resource:
        assert uri.startswith("file://"), uri
        return Resource.from_contents(json.loads(Path(uri.removeprefix("file://")).read_text()))

    schema = {**json.loads(schema_path.read_text()), "$id": schema_path.resolve().as_uri()}
    return jsonschema.Draft7Validator(schema, registry=Registry(retrieve=retrieve))  # type: ignore[call-arg]
