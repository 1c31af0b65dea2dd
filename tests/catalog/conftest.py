"""Fixtures for tests of the bundled catalog: its charts rendered by the real helm per environment."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
import yaml

from chartforge import tools
from chartforge.catalog import Catalog, load_catalog
from chartforge.helm import assemble, chart_values, template, write_values

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("development", "staging", "production")


@functools.cache
def catalog() -> Catalog:
    return load_catalog(ROOT)


@functools.cache
def rendered_text(chart: str, env: str) -> str:
    """``helm template`` of one chart of the committed charts/ with its values for ``env``."""
    cat = catalog()
    spec = cat.chart(chart)
    helm = tools.find_helm()
    with assemble(cat) as tmp:
        values = write_values(tmp / "values.yaml", chart_values(cat, spec, env))
        return template(helm, tmp / spec.name, release=spec.name, values_files=[values], namespace=spec.name)


def rendered(chart: str, env: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(rendered_text(chart, env)) if d]


def find(objects: list[dict[str, Any]], kind: str, name_part: str = "") -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind and name_part in o["metadata"]["name"]]


@pytest.fixture(params=ENVIRONMENTS)
def env(request: pytest.FixtureRequest) -> str:
    return str(request.param)
