"""schema: one parameter spec → values.yaml comments, strict schema, README rows; the umbrella's own schema."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from chartforge.compile import schema
from chartforge.compile.catalog import load_catalog
from chartforge.compile.envvalues import umbrella_defaults
from tests.conftest import CASES, copy_tree


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Any:
    # a copy: loading a catalog keeps its parsed specs in the project's .chartforge/, never in tests/cases/
    return load_catalog(copy_tree(CASES / "build" / "base", tmp_path_factory.mktemp("schema") / "p"))


def test_values_yaml_has_a_comment_per_parameter_and_parses_to_defaults(catalog: Any) -> None:
    alpha = catalog.chart("alpha")
    text = schema.values_yaml(catalog, alpha)
    for leaf in alpha.params.leaves():
        assert f"## @param {leaf.path} {leaf.description}" in text
    data = yaml.safe_load(text)
    assert data["replicaCount"] == 1
    assert data["image"] == {"repository": "nginx", "tag": "1.27.3"}
    assert data["global"]["clusterName"] == "demo"


def test_declared_objects_reject_typos(catalog: Any) -> None:
    alpha = catalog.chart("alpha")
    validator = jsonschema.Draft7Validator(schema.chart_schema(catalog, alpha))
    assert not list(validator.iter_errors({"replicaCount": 2}))
    errors = list(validator.iter_errors({"image": {"tagg": "x"}}))
    assert errors and "tagg" in errors[0].message


def test_subchart_schema_accepts_what_helm_injects(catalog: Any) -> None:
    validator = jsonschema.Draft7Validator(schema.chart_schema(catalog, catalog.chart("alpha")))
    injected = {"enabled": True, "global": {"clusterName": "x", "somethingFromAnotherChart": 1}}
    assert not list(validator.iter_errors(injected))


def test_umbrella_schema_holds_its_own_values_and_each_subchart_switch(catalog: Any) -> None:
    suite = catalog.chart("suite")
    own = schema.chart_schema(catalog, suite)
    assert set(own["properties"]) == {"global", "alpha", "beta"}
    assert set(own["properties"]["alpha"]["properties"]) == {"enabled"}  # helm checks the rest
    validator = jsonschema.Draft7Validator(own)
    values = umbrella_defaults(catalog)
    assert not list(validator.iter_errors(values))
    values["alpha"]["replicaCount"] = "three"
    assert not list(validator.iter_errors(values)), "the sub-chart's own schema checks its section"
    values["alpha"]["enabled"] = "yes"
    assert list(validator.iter_errors(values)), "the condition key is the umbrella's: a boolean"
    values["alpha"]["enabled"] = True
    values["global"]["typo"] = 1
    assert list(validator.iter_errors(values)), "the umbrella's own global is strict"


def test_schema_is_draft07_with_descriptions(catalog: Any) -> None:
    full = schema.chart_schema(catalog, catalog.chart("alpha"))
    assert full["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(full)

    def walk(node: dict[str, Any], path: str) -> None:
        assert node.get("description"), f"{path} has no description"
        for name, child in (node.get("properties") or {}).items():
            walk(child, f"{path}.{name}")

    walk(full, "alpha")


def test_readme_table_lists_every_parameter(catalog: Any) -> None:
    alpha = catalog.chart("alpha")
    table = schema.parameters_markdown(catalog, alpha)
    for leaf in alpha.params.leaves():
        assert f"| `{leaf.path}` | {leaf.description}" in table
    assert "| `global.environment` | Environment name One of: `development`, `production`." in table


def test_bundled_catalog_every_parameter_documented() -> None:
    root = Path(__file__).resolve().parents[1]
    catalog = load_catalog(root)
    for chart in catalog.charts:
        readme = (root / "charts" / chart.name / "README.md").read_text()
        values = (root / "charts" / chart.name / "values.yaml").read_text()
        for leaf in chart.params.leaves():
            assert f"`{leaf.path}`" in readme, (chart.name, leaf.path)
            assert f"## @param {leaf.path} " in values, (chart.name, leaf.path)
