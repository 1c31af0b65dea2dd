"""The umbrella's values, three ways: what helm reads, what the build checks, what editors complete.

helm validates an umbrella's values chart by chart: the umbrella's values against the umbrella's
``values.schema.json``, then each dependency's section against that sub-chart's own
``values.schema.json`` (``ValidateAgainstSchema`` in helm 3's ``pkg/chartutil/jsonschema.go`` and
helm 4's ``pkg/chart/common/util/jsonschema.go`` recurses into ``Dependencies()``), after dropping
the dependencies whose condition is false (``ProcessDependencies``). So the umbrella's own schema
(:func:`chartforge.compile.schema.chart_schema`) describes only what is its own: ``global``, its
parameters, and each sub-chart key as an object whose condition key ``enabled`` is a boolean. It
no longer repeats every sub-chart schema (4.4 MB at 200 sub-charts, which helm 4 compiled and
checked in every umbrella lint and render).

- :func:`nest`/:func:`nested_schema`: the umbrella's schema with each sub-chart's schema under its
  key, the values as a whole. The build checks environment files against it (every problem at its
  line, disabled sub-charts included), ``compat`` compares releases with it (a breaking sub-chart
  change is a breaking umbrella change), and it is the umbrella's schema as it was before.
- :func:`editor_schema`: ``values/values.schema.json``, named by every ``values/<env>.yaml`` for
  editors (the YAML language server): the umbrella's own schema with a ``$ref`` per sub-chart key to
  ``../charts/<sub>/values.schema.json``, so completion covers every sub-chart key without a copy.
  It is part of no chart: helm never reads it.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from chartforge.compile import generated
from chartforge.compile.catalog import Catalog, ChartSpec
from chartforge.compile.schema import DRAFT07, chart_schema, schema_json

EDITOR_SCHEMA = "values.schema.json"  # in values/, beside the environment files that name it
ROOT_ONLY = ("$schema", "$comment", "title")  # a chart schema's file-level keys, dropped when nested


def nest(umbrella: Mapping[str, Any], subs: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """``umbrella`` with ``subs[name]`` (a sub-chart's ``values.schema.json``) under each ``name``.

    The umbrella's description of the key is kept; the sub-chart file's ``$schema``, ``$comment``
    and ``title`` are dropped (they describe a file, not a value).
    """
    out = copy.deepcopy(dict(umbrella))
    props = dict(out.get("properties") or {})
    for name, sub in subs.items():
        entry = {k: copy.deepcopy(v) for k, v in sub.items() if k not in ROOT_ONLY}
        own = props.get(name)
        if isinstance(own, Mapping) and "description" in own:
            entry["description"] = own["description"]
        props[name] = entry
    out["properties"] = props
    return out


def nested_schema(catalog: Catalog, umbrella: ChartSpec) -> dict[str, Any]:
    """The umbrella's values as a whole: its own schema with every sub-chart's nested."""
    by_name = {c.name: c for c in catalog.charts}
    subs = {d.name: chart_schema(catalog, by_name[d.name]) for d in umbrella.dependencies}
    return nest(chart_schema(catalog, umbrella), subs)


def editor_schema(catalog: Catalog, umbrella: ChartSpec) -> dict[str, Any]:
    """``values/values.schema.json``: the umbrella's own schema, each sub-chart key a ``$ref`` to its
    chart's ``values.schema.json`` (relative to this file, as the YAML language server resolves it)."""
    own = chart_schema(catalog, umbrella)
    props = dict(own["properties"])
    for dep in umbrella.dependencies:
        props[dep.name] = {"$ref": f"../charts/{dep.name}/values.schema.json"}
    body = {k: v for k, v in own.items() if k not in ROOT_ONLY}
    body["properties"] = props
    return {
        "$schema": DRAFT07,
        "$comment": generated.note(f"sources/charts/{umbrella.name}")
        + " For editors of values/<env>.yaml; part of no chart (helm checks each chart's own schema).",
        "title": f"{umbrella.name} values (every sub-chart)",
        **body,
    }


def editor_schema_json(catalog: Catalog) -> str:
    return schema_json(editor_schema(catalog, catalog.chart(catalog.umbrella)))
