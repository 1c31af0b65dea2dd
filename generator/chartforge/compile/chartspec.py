"""Each chart's ``sources/charts/<name>/chart.yaml`` and parameters, checked, in dependency order."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chartforge.compile.jinja import environment, render_file
from chartforge.compile.params import Param, parse_params, root_group
from chartforge.compile.sourcetree import contained
from chartforge.compile.speccache import SpecCache
from chartforge.errors import SourceError
from chartforge.project import Project
from chartforge.yamlio import did_you_mean, line_of, load_yaml, load_yaml_text, read_text

SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
CHART_KEYS = {
    "version", "appVersion", "description", "keywords", "home", "icon", "sources", "dependencies", "variables",
    "aliases", "annotations", "type", "breaks", "deprecations",
}  # fmt: skip
DEP_KEYS = {"name", "condition", "alias"}


@dataclass(frozen=True)
class Dependency:
    name: str
    version: str
    condition: str


@dataclass(frozen=True)
class ChartSpec:
    name: str
    version: str
    app_version: str
    description: str
    source_dir: Path
    params: Param
    dependencies: tuple[Dependency, ...] = ()
    keywords: tuple[str, ...] = ()
    home: str = ""
    icon: str = ""
    sources: tuple[str, ...] = ()
    variables: tuple[tuple[str, str], ...] = ()
    aliases: tuple[str, ...] = ()
    annotations: tuple[tuple[str, str], ...] = ()
    is_umbrella: bool = False
    chart_type: str = "application"  # or "library": named templates only, never installed alone


CHART_TYPES = ("application", "library")


def rel(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def check_keys(data: Mapping[str, Any], allowed: set[str], file: str, where: str = "") -> None:
    for key in data:
        if key not in allowed:
            raise SourceError(
                f"unknown key '{key}'", path=file, line=line_of(data, key), key=where or None,
                hint=did_you_mean(str(key), allowed),
            )  # fmt: skip


def require(data: Mapping[str, Any], key: str, kind: type, file: str, what: str) -> Any:
    if key not in data:
        raise SourceError(f"missing required key '{key}' ({what})", path=file, line=line_of(data))
    value = data[key]
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise SourceError(
            f"'{key}' must be a {kind.__name__}, got {type(value).__name__}",
            path=file,
            line=line_of(data, key),
        )
    return value


def kind_of(value: Any) -> str:
    """A YAML-ish name for the type of ``value`` (line-recording containers included)."""
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def optional(data: Mapping[str, Any], key: str, kind: type, file: str, what: str) -> Any:
    """``data[key]`` when present and of ``kind`` (``None`` when absent); else a SourceError at its line."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, kind):
        raise SourceError(
            f"'{key}' must be {what}, got {kind_of(value)}",
            path=file,
            line=line_of(data, key) or line_of(data),
        )
    return value


def strings(data: Mapping[str, Any], key: str, file: str) -> tuple[str, ...]:
    """An optional list of scalars (keywords, sources, aliases) as strings."""
    items = optional(data, key, list, file, "a list") or []
    for i, item in enumerate(items):
        if isinstance(item, Mapping | list):
            raise SourceError(f"'{key}' items must be strings", path=file, line=line_of(items, i), key=key)
    return tuple(str(item) for item in items)


def string_map(data: Mapping[str, Any], key: str, file: str) -> tuple[tuple[str, str], ...]:
    """An optional mapping of names to scalars (variables, annotations)."""
    found = optional(data, key, Mapping, file, "a mapping") or {}
    for name, value in found.items():
        if isinstance(value, Mapping | list) or value is None:
            raise SourceError(
                f"'{key}.{name}' must be a string, got {kind_of(value)}", path=file,
                line=line_of(found, name), key=key,
            )  # fmt: skip
    return tuple((str(k), str(v)) for k, v in found.items())


def load_source(root: Path, path: Path) -> Any:
    """A YAML file of ``sources/`` (contained: no symlink out of the tree), errors naming it."""
    display = rel(root, path)
    return load_yaml(contained(path, Project(root).sources, display=display), display=display)


def load_chart(root: Path, name: str, is_umbrella: bool, cache: SpecCache | None = None) -> ChartSpec:
    src = Project(root).chart_source(name)
    meta_path = src / "chart.yaml"
    file = rel(root, meta_path)
    if not meta_path.is_file():
        raise SourceError(f"chart '{name}' has no {file}", path="sources/catalog.yaml")
    meta = load_source(root, meta_path)
    if not isinstance(meta, Mapping):
        raise SourceError("chart.yaml must be a mapping", path=file, line=1)
    check_keys(meta, CHART_KEYS, file)
    version = str(require(meta, "version", str, file, "the chart's semver version"))
    if not SEMVER.match(version):
        raise SourceError(
            f"version {version!r} is not a semantic version", path=file, line=line_of(meta, "version"),
            hint="MAJOR.MINOR.PATCH, e.g. 1.4.0",
        )  # fmt: skip
    deps = []
    for i, dep in enumerate(optional(meta, "dependencies", list, file, "a list of {name, condition}") or []):
        if not isinstance(dep, Mapping) or "name" not in dep:
            raise SourceError("a dependency needs a 'name'", path=file, line=line_of(meta["dependencies"], i))
        check_keys(dep, DEP_KEYS, file, "dependencies")
        dname = str(dep["name"])
        deps.append(Dependency(dname, "", str(dep.get("condition", f"{dname}.enabled"))))
    params = _load_params(root, src, cache)
    chart_type = str(optional(meta, "type", str, file, "application or library") or "application")
    if chart_type not in CHART_TYPES:
        raise SourceError(f"unknown chart type {chart_type!r}", path=file, line=line_of(meta, "type"),
                          hint=did_you_mean(chart_type, CHART_TYPES))  # fmt: skip
    return ChartSpec(
        name=name, version=version, app_version=str(meta.get("appVersion", version)),
        description=str(require(meta, "description", str, file, "one-line description")).strip(),
        source_dir=src, params=root_group(name, str(meta.get("description", "")), params),
        dependencies=tuple(deps), keywords=strings(meta, "keywords", file),
        home=str(optional(meta, "home", str, file, "a URL") or ""),
        icon=str(optional(meta, "icon", str, file, "a URL") or ""),
        sources=strings(meta, "sources", file), variables=string_map(meta, "variables", file),
        aliases=strings(meta, "aliases", file), annotations=string_map(meta, "annotations", file),
        is_umbrella=is_umbrella, chart_type=chart_type,
    )  # fmt: skip


def load_params(root: Path, path: Path, cache: SpecCache | None, *, prefix: str = "") -> tuple[Param, ...]:
    """A parameter spec of ``sources/`` (contained), parsed or taken from ``cache`` by its text."""
    display = rel(root, path)
    text = read_text(contained(path, Project(root).sources, display=display), display=display)
    return _parsed(text, display, prefix, cache)


def _parsed(text: str, file: str, prefix: str, cache: SpecCache | None) -> tuple[Param, ...]:
    def parse() -> tuple[Param, ...]:
        return parse_params(load_yaml_text(text, display=file), file=file, prefix=prefix)

    return cache.params(text, file, prefix, parse) if cache is not None else parse()


def _load_params(root: Path, src: Path, cache: SpecCache | None) -> tuple[Param, ...]:
    """``parameters.yaml``, or ``parameters.yaml.j2`` rendered first (to reuse shared param macros)."""
    plain_path, jinja_path = src / "parameters.yaml", src / "parameters.yaml.j2"
    if plain_path.exists():
        return load_params(root, plain_path, cache)
    if jinja_path.exists():
        sources = Project(root).sources
        name = jinja_path.relative_to(sources).as_posix()
        text = render_file(environment(sources), sources, name, {"chart_name": src.name})
        return _parsed(text, f"{rel(root, jinja_path)} (rendered)", "", cache)
    return ()


def toposort(specs: dict[str, ChartSpec], root: Path) -> tuple[ChartSpec, ...]:
    """Dependencies first; unknown dependencies and cycles are errors naming chart.yaml."""
    for spec in specs.values():
        for dep in spec.dependencies:
            if dep.name not in specs:
                raise SourceError(
                    f"dependency on unknown chart '{dep.name}'", path=rel(root, spec.source_dir / "chart.yaml"),
                    key="dependencies", hint=did_you_mean(dep.name, specs),
                )  # fmt: skip
    done: dict[str, ChartSpec] = {}
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            cycle = " -> ".join([*visiting[visiting.index(name) :], name])
            raise SourceError(
                f"dependency cycle: {cycle}", path=rel(root, specs[name].source_dir / "chart.yaml"),
                key="dependencies",
            )  # fmt: skip
        visiting.append(name)
        spec = specs[name]
        for dep in spec.dependencies:
            visit(dep.name)
        visiting.pop()
        pinned = tuple(Dependency(d.name, specs[d.name].version, d.condition) for d in spec.dependencies)
        done[name] = ChartSpec(**{**spec.__dict__, "dependencies": pinned})

    for name in specs:
        visit(name)
    return tuple(done.values())
