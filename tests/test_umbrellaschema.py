"""umbrellaschema: the umbrella's values as a whole (build, compat) and for editors (``$ref`` per sub-chart).

The chart's own schema no longer nests the sub-charts' (helm checks each section against the
sub-chart's schema: tests/catalog/test_umbrella_values_schema.py). What the build checks an
environment file against, and what an editor reports, must stay the whole: every sub-chart key.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from chartforge.compile import schema
from chartforge.compile.catalog import load_catalog
from chartforge.compile.envvalues import merge, umbrella_defaults
from chartforge.compile.umbrellaschema import ROOT_ONLY, editor_schema, nest, nested_schema
from tests.conftest import CASES, ROOT, copy_tree
from tests.test_modeline import file_validator


def test_nested_schema_is_the_umbrellas_with_every_subchart_schema_under_its_key(tmp_path: Path) -> None:
    # a copy: loading a catalog keeps its parsed specs in the project's .chartforge/
    catalog = load_catalog(copy_tree(CASES / "build" / "base", tmp_path / "p"))
    suite, alpha = catalog.chart("suite"), catalog.chart("alpha")
    whole = nested_schema(catalog, suite)
    own_alpha = {k: v for k, v in schema.chart_schema(catalog, alpha).items() if k not in ROOT_ONLY}
    assert whole["properties"]["alpha"] == {
        **own_alpha,
        "description": "Values of the alpha sub-chart (see its README)",
    }
    assert whole["properties"]["global"] == schema.chart_schema(catalog, suite)["properties"]["global"]
    values = umbrella_defaults(catalog)
    values["alpha"]["replicaCount"] = "three"
    errors = list(jsonschema.Draft7Validator(whole).iter_errors(values))
    assert [list(e.absolute_path) for e in errors] == [["alpha", "replicaCount"]]


def test_nest_keeps_the_umbrellas_description_and_drops_file_keys() -> None:
    umbrella = {"properties": {"a": {"type": "object", "description": "mine"}}}
    sub = {"$schema": "x", "$comment": "y", "title": "z", "type": "object", "description": "theirs"}
    assert nest(umbrella, {"a": sub})["properties"]["a"] == {"type": "object", "description": "mine"}
    assert umbrella["properties"]["a"] == {"type": "object", "description": "mine"}  # not modified


def test_editor_schema_refs_each_subchart_schema_file() -> None:
    catalog = load_catalog(ROOT)
    umbrella = catalog.chart(catalog.umbrella)
    editor = json.loads((ROOT / "values" / "values.schema.json").read_text())
    assert editor == json.loads(schema.schema_json(editor_schema(catalog, umbrella)))
    for dep in umbrella.dependencies:
        ref = editor["properties"][dep.name]["$ref"]
        assert ref == f"../charts/{dep.name}/values.schema.json" and (ROOT / "values" / ref).is_file()


def _mistakes() -> list[dict[str, Any]]:
    return [
        {},
        {"postgresql-ha": {"pgbouncer": {"port": "x", "typo": 1}}},
        {"redis-cluster": {"enabled": "yes", "cluster": {"nodes": -1}}},
        {"mongodb-sharded": {"enabled": False, "configsvr": {"replicaCount": "many"}}},
        {"observability": {"nope": {}}, "global": {"environment": "prod"}},
        {"security-baseline": "not a mapping", "noSuchChart": {}},
    ]


@pytest.mark.parametrize("env", ["development", "staging", "production"])
@pytest.mark.parametrize("mistake", _mistakes(), ids=lambda m: ",".join(m) or "none")
def test_editor_schema_reports_exactly_what_the_build_reports(env: str, mistake: dict[str, Any]) -> None:
    # the editor resolves ../charts/<sub>/values.schema.json; the build nests the same schemas in memory
    catalog = load_catalog(ROOT)
    data = merge(yaml.safe_load((ROOT / "values" / f"{env}.yaml").read_text()), copy.deepcopy(mistake))
    values = merge(umbrella_defaults(catalog), data)

    def found(validator: jsonschema.Draft7Validator) -> set[tuple[str, str]]:
        return {(".".join(map(str, e.absolute_path)), e.message) for e in validator.iter_errors(values)}

    build = found(jsonschema.Draft7Validator(nested_schema(catalog, catalog.chart(catalog.umbrella))))
    editor = found(file_validator(ROOT / "values" / "values.schema.json"))
    assert editor == build
    assert bool(build) == bool(mistake)
