"""Per-environment umbrella values: validate ``sources/environments/<env>.yaml``, emit ``values/``.

Each environment file is checked against the umbrella's values as a whole (its schema with every
sub-chart's nested, :func:`chartforge.compile.umbrellaschema.nested_schema`; after merging the
charts' defaults, as Helm does) at build time, disabled sub-charts included; errors point at the
line of the offending key and suggest the closest valid key for typos.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from chartforge.compile import generated, schema
from chartforge.compile.catalog import Catalog, ChartSpec
from chartforge.compile.schemaerrors import values_problems
from chartforge.compile.sourcetree import contained
from chartforge.compile.umbrellaschema import EDITOR_SCHEMA, nested_schema
from chartforge.errors import ValuesError, raise_all
from chartforge.yamlio import load_yaml_text, plain, read_text


def merge(base: Any, override: Any) -> Any:
    """Helm's coalescing for maps: override wins, maps merge recursively, null deletes."""
    if isinstance(base, Mapping) and isinstance(override, Mapping):
        out = dict(base)
        for key, value in override.items():
            if value is None:
                out.pop(key, None)
            else:
                out[key] = merge(base.get(key), value)
        return out
    return copy.deepcopy(override)


def subchart_values(values: Mapping[str, Any], chart: str, *, umbrella: bool = False) -> dict[str, Any]:
    """The values chart ``chart`` receives from the umbrella's ``values``.

    The umbrella gets them all; a sub-chart gets its own section plus ``global``, without
    ``enabled`` (the umbrella's switch for the sub-chart, not one of its values).
    """
    if umbrella:
        return dict(values)
    section = values.get(chart)
    own = (
        {k: copy.deepcopy(v) for k, v in section.items() if k != "enabled"}
        if isinstance(section, Mapping)
        else {}
    )
    return dict(merge(own, {"global": values.get("global") or {}}))


def umbrella_defaults(catalog: Catalog) -> dict[str, Any]:
    by_name = {c.name: c for c in catalog.charts}
    umbrella = by_name[catalog.umbrella]
    glob = {p.name: p.default_value() for p in catalog.global_params}
    values: dict[str, Any] = {"global": glob, **chart_defaults(umbrella)}
    for dep in umbrella.dependencies:
        values[dep.name] = {**chart_defaults(by_name[dep.name]), "enabled": True, "global": glob}
    return values


def chart_defaults(chart: ChartSpec) -> dict[str, Any]:
    return {p.name: p.default_value() for p in chart.params.children}


def validate_values(catalog: Catalog, chart: ChartSpec, data: Any, *, display: str) -> dict[str, Any]:
    """Merge ``data`` over the chart's defaults and validate; raise every problem at once, by line."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ValuesError("values must be a mapping", path=display, line=1)
    defaults = umbrella_defaults(catalog) if chart.is_umbrella else chart_defaults(chart)
    merged = merge(defaults, plain(data))
    if not chart.is_umbrella:
        merged.setdefault("global", {p.name: p.default_value() for p in catalog.global_params})
    whole = nested_schema(catalog, chart) if chart.is_umbrella else schema.chart_schema(catalog, chart)
    raise_all(values_problems(whole, merged, data, display=display))
    return dict(merged)


def environment_values(catalog: Catalog, env: str) -> str:
    """Validated text of ``values/<env>.yaml`` (the source file, with a generated header)."""
    path = catalog.env_file(env)
    display = f"sources/environments/{env}.yaml"
    contained(path, catalog.sources, display=display, error=ValuesError)
    text = read_text(path, display=display, error=ValuesError)
    data = load_yaml_text(text, display=display, error=ValuesError)
    umbrella = catalog.chart(catalog.umbrella)
    validate_values(catalog, umbrella, data, display=display)
    header = (
        generated.schema_modeline(EDITOR_SCHEMA)
        + generated.header(display, display)
        + f"# Values for the {umbrella.name} umbrella chart in the {env} environment:\n"
        f"#   helm install {umbrella.name} {catalog.registry.url or 'oci://REGISTRY/NS'}/{umbrella.name} \\\n"
        f"#     --version {umbrella.version} -f values/{env}.yaml\n"
    )
    return header + text
