"""Stage 3 — from one parameter spec: ``values.yaml``, ``values.schema.json``, README table.

Sub-chart schemas accept what Helm injects into a sub-chart (``global``, the dependency's
``enabled`` condition key) so they keep working when used under an umbrella; declared objects
get ``additionalProperties: false`` so a typo in a values file fails instead of passing
silently. The umbrella's schema holds only its own values and each sub-chart key with its
condition key: helm checks a sub-chart's section against the sub-chart's own schema
(:mod:`chartforge.compile.umbrellaschema` has the whole, nested, for the build and editors).
"""

from __future__ import annotations

import json
import textwrap
from typing import Any

from chartforge.compile import generated
from chartforge.compile.catalog import Catalog, ChartSpec
from chartforge.compile.declared import add_alias_properties, load_declared
from chartforge.compile.params import Param
from chartforge.yamlio import dump, scalar

DRAFT07 = "http://json-schema.org/draft-07/schema#"


def param_schema(param: Param, *, strict: bool = True) -> dict[str, Any]:
    """JSON schema of one parameter (recursively for groups)."""
    if param.is_group:
        schema: dict[str, Any] = {"type": "object", "description": param.description}
        schema["properties"] = {c.name: param_schema(c, strict=strict) for c in param.children}
        required = [c.name for c in param.children if c.required]
        if required:
            schema["required"] = required
        schema["additionalProperties"] = not strict
        return schema
    schema = {"type": param.types[0] if len(param.types) == 1 else list(param.types)}
    schema["description"] = param.description
    schema.update(dict(param.constraints))
    schema["default"] = param.default
    return schema


def global_schema(catalog: Catalog, *, strict: bool) -> dict[str, Any]:
    group = Param("global", "global", "Global values shared by every chart of the platform",
                  children=catalog.global_params)  # fmt: skip
    return param_schema(group, strict=strict)


def chart_schema(catalog: Catalog, chart: ChartSpec) -> dict[str, Any]:
    """The chart's ``values.schema.json``."""
    schema = param_schema(chart.params)
    declared = load_declared(chart.source_dir, catalog.root)  # deprecated names stay accepted (compat)
    add_alias_properties(schema, declared.deprecations, f"sources/charts/{chart.name}/chart.yaml")
    props: dict[str, Any] = dict(schema["properties"])
    if chart.is_umbrella:
        props["global"] = global_schema(catalog, strict=True)
        for dep in chart.dependencies:  # helm checks the rest against the sub-chart's own schema
            props[dep.name] = subchart_entry(dep.name)
    else:
        # Helm copies the umbrella's `global` into every sub-chart, possibly with keys this
        # chart does not know: declare ours, accept others.
        props["global"] = global_schema(catalog, strict=False)
        props["enabled"] = {
            "type": "boolean",
            "description": "Condition key set by a parent chart to switch this sub-chart on or off",
            "default": True,
        }
    schema["properties"] = props
    schema["description"] = chart.description
    return {
        "$schema": DRAFT07,
        "$comment": generated.note(f"sources/charts/{chart.name}"),
        "title": f"{chart.name} values",
        **schema,
    }


def subchart_entry(name: str) -> dict[str, Any]:
    """A sub-chart key in the umbrella's own schema: an object whose condition key is a boolean; the
    rest is the sub-chart's schema's to check (helm does, chart by chart)."""
    return {
        "type": "object",
        "description": f"Values of the {name} sub-chart (see its README)",
        "properties": {
            "enabled": {
                "type": "boolean",
                "description": "Condition key set by a parent chart to switch this sub-chart on or off",
                "default": True,
            }
        },
        "additionalProperties": True,
    }


def schema_json(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"


# --- values.yaml -----------------------------------------------------------------------------


WIDTH = 120  # generated YAML stays within yamllint's line length (.yamllint)
FOLD = WIDTH - 24  # PyYAML folds after the word that passes its width: leave room for one long word


def _comment(pad: str, text: str) -> list[str]:
    """``## text`` wrapped at WIDTH columns; continuation lines are ``##   more``."""
    lines = textwrap.wrap(text, width=WIDTH - len(pad) - 5, break_long_words=False, break_on_hyphens=False)
    return [f"{pad}## {line}" if i == 0 else f"{pad}##   {line}" for i, line in enumerate(lines or [""])]


def _emit(param: Param, indent: int, out: list[str]) -> None:
    pad = "  " * indent
    if param.is_group:
        out.extend(_comment(pad, param.description))
        if not param.children:
            out.append(f"{pad}{param.name}: {{}}")
            return
        out.append(f"{pad}{param.name}:")
        for child in param.children:
            _emit(child, indent + 1, out)
        return
    out.extend(_comment(pad, f"@param {param.path} {param.description}"))
    value = param.default
    if isinstance(value, dict | list) and value:
        out.append(f"{pad}{param.name}:")
        inner = "  " * (indent + 1)
        body = dump(value, width=FOLD - len(inner), indent_sequences=True)
        out.extend(f"{inner}{line}" for line in body.rstrip("\n").split("\n"))
    elif len(line := f"{pad}{param.name}: {scalar(value)}") > WIDTH and isinstance(value, str):
        body = dump({param.name: value}, width=FOLD - len(pad))  # a long string: folded by YAML's rules
        out.extend(f"{pad}{text}" for text in body.rstrip("\n").split("\n"))
    else:
        out.append(line)


def values_yaml(catalog: Catalog, chart: ChartSpec) -> str:
    out = [
        generated.schema_modeline("values.schema.json").rstrip("\n"),
        generated.header("values.yaml", f"sources/charts/{chart.name}/parameters.yaml").rstrip("\n"),
        f"# Default values for {chart.name} {chart.version}. Every key is described in README.md and",
        "# checked by values.schema.json"
        + (
            " (a sub-chart's section: by that sub-chart's own values.schema.json)."
            if chart.is_umbrella
            else "."
        ),
        "",
        "## @section Global parameters",
    ]
    glob = Param("global", "global", "Global values shared by every chart of the platform",
                 children=catalog.global_params)  # fmt: skip
    _emit(glob, 0, out)
    if chart.is_umbrella:
        for param in chart.params.children:
            out.append("")
            _emit(param, 0, out)
        for dep in chart.dependencies:
            out += [
                "",
                f"## @section {dep.name} (sub-chart {dep.name} {dep.version}; all its values in its README)",
            ]
            out.append(f"{dep.name}:")
            out.append(f"  ## @param {dep.condition} Deploy the {dep.name} sub-chart")
            out.append("  enabled: true")
    else:
        for param in chart.params.children:
            out.append("")
            if param.section:
                out.append(f"## @section {param.section}")
            _emit(param, 0, out)
    return "\n".join(out) + "\n"


# --- README parameter table -----------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _default_cell(param: Param) -> str:
    return "`" + _cell(json.dumps(param.default, ensure_ascii=False)) + "`"


def parameter_rows(params: tuple[Param, ...]) -> list[str]:
    rows = []
    for top in params:
        for leaf in top.leaves():
            constraint = dict(leaf.constraints)
            extra = ""
            if "enum" in constraint:
                extra = (
                    " One of: " + ", ".join(f"`{scalar(v)}`" for v in constraint["enum"]) + "."
                )  # YAML: true
            rows.append(
                f"| `{leaf.path}` | {_cell(leaf.description)}{extra} | {'/'.join(leaf.types)} | {_default_cell(leaf)} |"
            )
    return rows


def parameters_markdown(catalog: Catalog, chart: ChartSpec) -> str:
    header = ["| Name | Description | Type | Default |", "|------|-------------|------|---------|"]
    parts = ["### Global parameters", "", *header, *parameter_rows(catalog.global_params), ""]
    if chart.is_umbrella:
        rows = [f"| `{d.condition}` | Deploy the [{d.name}](#{d.name}) sub-chart | boolean | `true` |"
                for d in chart.dependencies]  # fmt: skip
        parts += ["### Sub-charts", "", *header, *rows, ""]
    sections: dict[str, list[Param]] = {}
    for param in chart.params.children:
        sections.setdefault(param.section or "Parameters", []).append(param)
    for title, params in sections.items():
        title = title if title != "Parameters" or len(sections) > 1 else f"{chart.name} parameters"
        parts += [f"### {title}", "", *header, *parameter_rows(tuple(params)), ""]
    return "\n".join(parts)
