"""Stage 1 — load and check ``sources/``: the catalog, each chart's metadata and parameters.

Layout::

    sources/catalog.yaml                    platform, charts, Kubernetes range, registry, environments
    sources/global.yaml                     parameter spec of ``global`` (shared by every chart)
    sources/charts/<name>/chart.yaml        version, appVersion, description, dependencies, variables
    sources/charts/<name>/parameters.yaml   the parameter spec (see chartforge.params)
    sources/charts/<name>/templates/*.j2    Jinja2 sources of the Helm templates
    sources/charts/<name>/docs.md.j2        extra README sections (optional)
    sources/macros/*.j2                     shared Jinja2 macros
    sources/environments/<env>.yaml         umbrella values per environment
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chartforge.errors import SourceError
from chartforge.params import Param, parse_params, root_group
from chartforge.sourcetree import check_name, contained
from chartforge.yamlio import did_you_mean, line_of, load_yaml, load_yaml_text, plain

SEMVER = re.compile(
    r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)"
    r"(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
CHART_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
K8S_MINOR = re.compile(r"^1\.(\d+)$")

CATALOG_KEYS = {
    "platform",
    "kubernetes",
    "registry",
    "environments",
    "umbrella",
    "charts",
    "maintainers",
    "variables",
}
CHART_KEYS = {
    "version", "appVersion", "description", "keywords", "home", "icon", "sources", "dependencies", "variables",
    "aliases", "annotations", "type",
}  # fmt: skip
DEP_KEYS = {"name", "condition", "alias"}


@dataclass(frozen=True)
class Registry:
    url: str = ""
    plain_http: bool = False
    ca_file: str = ""


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


@dataclass(frozen=True)
class Catalog:
    root: Path
    platform: str
    description: str
    charts: tuple[ChartSpec, ...]  # dependencies first, umbrella last
    umbrella: str
    kubernetes_versions: tuple[str, ...]
    environments: tuple[str, ...]
    registry: Registry
    maintainers: tuple[tuple[str, str], ...] = ()
    global_params: tuple[Param, ...] = ()
    variables: tuple[tuple[str, str], ...] = field(default=())

    @property
    def sources(self) -> Path:
        return self.root / "sources"

    def chart(self, name: str) -> ChartSpec:
        for chart in self.charts:
            if chart.name == name or name in chart.aliases:
                return chart
        raise SourceError(f"unknown chart '{name}'", hint=did_you_mean(name, [c.name for c in self.charts]))

    @property
    def kube_version_constraint(self) -> str:
        lo = self.kubernetes_versions[0]
        hi_minor = int(self.kubernetes_versions[-1].split(".")[1]) + 1
        return f">={lo}.0-0 <1.{hi_minor}.0-0"

    def env_file(self, env: str) -> Path:
        return self.sources / "environments" / f"{env}.yaml"


def _rel(root: Path, path: Path) -> str:
    try:
        return str(path.relative_to(root))
    except ValueError:
        return str(path)


def _check_keys(data: Mapping[str, Any], allowed: set[str], file: str, where: str = "") -> None:
    for key in data:
        if key not in allowed:
            raise SourceError(
                f"unknown key '{key}'", path=file, line=line_of(data, key), key=where or None,
                hint=did_you_mean(str(key), allowed),
            )  # fmt: skip


def _require(data: Mapping[str, Any], key: str, kind: type, file: str, what: str) -> Any:
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


def _kind(value: Any) -> str:
    """A YAML-ish name for the type of ``value`` (line-recording containers included)."""
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _optional(data: Mapping[str, Any], key: str, kind: type, file: str, what: str) -> Any:
    """``data[key]`` when present and of ``kind`` (``None`` when absent); else a SourceError at its line."""
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, kind):
        raise SourceError(
            f"'{key}' must be {what}, got {_kind(value)}", path=file, line=line_of(data, key) or line_of(data)
        )
    return value


def _strings(data: Mapping[str, Any], key: str, file: str) -> tuple[str, ...]:
    """An optional list of scalars (keywords, sources, aliases) as strings."""
    items = _optional(data, key, list, file, "a list") or []
    for i, item in enumerate(items):
        if isinstance(item, Mapping | list):
            raise SourceError(f"'{key}' items must be strings", path=file, line=line_of(items, i), key=key)
    return tuple(str(item) for item in items)


def _string_map(data: Mapping[str, Any], key: str, file: str) -> tuple[tuple[str, str], ...]:
    """An optional mapping of names to scalars (variables, annotations)."""
    found = _optional(data, key, Mapping, file, "a mapping") or {}
    for name, value in found.items():
        if isinstance(value, Mapping | list) or value is None:
            raise SourceError(
                f"'{key}.{name}' must be a string, got {_kind(value)}", path=file,
                line=line_of(found, name), key=key,
            )  # fmt: skip
    return tuple((str(k), str(v)) for k, v in found.items())


def _registry(data: Mapping[str, Any], file: str) -> Registry:
    reg = _optional(data, "registry", Mapping, file, "a mapping with url, plain_http, ca_file") or {}
    _check_keys(reg, {"url", "plain_http", "ca_file"}, file, "registry")
    for key, kind in (("url", str), ("plain_http", bool), ("ca_file", str)):
        if key in reg and not isinstance(reg[key], kind):
            raise SourceError(
                f"'registry.{key}' must be a {kind.__name__}, got {type(reg[key]).__name__}", path=file,
                line=line_of(reg, key),
            )  # fmt: skip
    return Registry(str(reg.get("url", "")), bool(reg.get("plain_http", False)), str(reg.get("ca_file", "")))


def _maintainers(data: Mapping[str, Any], file: str) -> tuple[tuple[str, str], ...]:
    items = _optional(data, "maintainers", list, file, "a list of {name, email}") or []
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise SourceError(
                "a maintainer must be a mapping with a 'name' (and an optional 'email')", path=file,
                line=line_of(items, i), key="maintainers",
            )  # fmt: skip
        _check_keys(item, {"name", "email", "url"}, file, "maintainers")
        out.append((str(item["name"]), str(item.get("email") or "")))
    return tuple(out)


def _kube_versions(data: Any, file: str) -> tuple[str, ...]:
    if not isinstance(data, Mapping) or "min" not in data or "max" not in data:
        raise SourceError(
            "'kubernetes' must be a mapping with 'min' and 'max' minor versions",
            path=file, line=line_of(data), hint='e.g. {min: "1.31", max: "1.37"}',
        )  # fmt: skip
    bounds = []
    for key in ("min", "max"):
        if not isinstance(data[key], str):  # an unquoted 1.30 is the float 1.3
            raise SourceError(
                f'kubernetes.{key} must be a quoted string like "1.31", got {type(data[key]).__name__} {data[key]!r}',
                path=file, line=line_of(data, key), hint='quote it: YAML reads 1.30 as the number 1.3',
            )  # fmt: skip
        match = K8S_MINOR.match(data[key])
        if not match:
            raise SourceError(
                f'kubernetes.{key} must look like "1.31", got {data[key]!r}',
                path=file,
                line=line_of(data, key),
            )
        bounds.append(int(match.group(1)))
    if bounds[0] > bounds[1]:
        raise SourceError("kubernetes.min is above kubernetes.max", path=file, line=line_of(data, "min"))
    return tuple(f"1.{m}" for m in range(bounds[0], bounds[1] + 1))


def load_catalog(root: Path | str = ".") -> Catalog:
    """Load ``<root>/sources`` and check it; every error names file and line."""
    root = Path(root).resolve()
    path = root / "sources" / "catalog.yaml"
    file = _rel(root, path)
    if not path.is_file():
        raise SourceError(
            "no catalog here", path=path, hint="run chartforge in a project root, or pass --root DIR"
        )
    data = load_yaml(contained(path, root / "sources", display=file), display=file)
    if not isinstance(data, Mapping):
        raise SourceError("catalog must be a mapping", path=file, line=1)
    _check_keys(data, CATALOG_KEYS, file)
    platform = _require(data, "platform", Mapping, file, "platform name and description")
    names = _require(data, "charts", list, file, "the list of chart names")
    umbrella = str(_require(data, "umbrella", str, file, "the umbrella chart's name"))
    env_list = _require(data, "environments", list, file, "environment names")
    envs = tuple(
        check_name(e, what="environment", path=file, line=line_of(env_list, i))
        for i, e in enumerate(env_list)
    )
    versions = _kube_versions(data.get("kubernetes"), file)
    registry = _registry(data, file)
    global_file = root / "sources" / "global.yaml"
    global_params = (
        parse_params(_load_source(root, global_file), file=_rel(root, global_file), prefix="global")
        if global_file.exists() else ()
    )  # fmt: skip
    for i, name in enumerate(names):
        if not isinstance(name, str) or not CHART_NAME.match(name):
            raise SourceError(
                f"invalid chart name {name!r}", path=file, line=line_of(names, i),
                hint="lowercase letters, digits and dashes",
            )  # fmt: skip
    if umbrella not in names:
        raise SourceError(
            f"umbrella '{umbrella}' is not in charts", path=file, line=line_of(data, "umbrella")
        )
    specs = {n: _load_chart(root, n, n == umbrella) for n in names}
    for env in envs:
        if not (root / "sources" / "environments" / f"{env}.yaml").is_file():
            raise SourceError(
                f"environment '{env}' has no file sources/environments/{env}.yaml",
                path=file, line=line_of(data, "environments"),
            )  # fmt: skip
    ordered = _toposort(specs, root)
    maint = _maintainers(data, file)
    variables = _string_map(data, "variables", file)
    return Catalog(
        root=root, platform=str(platform.get("name", "")), description=str(platform.get("description", "")),
        charts=ordered, umbrella=umbrella, kubernetes_versions=versions, environments=envs, registry=registry,
        maintainers=maint, global_params=global_params, variables=variables,
    )  # fmt: skip


def _load_chart(root: Path, name: str, is_umbrella: bool) -> ChartSpec:
    src = root / "sources" / "charts" / name
    meta_path = src / "chart.yaml"
    file = _rel(root, meta_path)
    if not meta_path.is_file():
        raise SourceError(f"chart '{name}' has no {file}", path="sources/catalog.yaml")
    meta = _load_source(root, meta_path)
    if not isinstance(meta, Mapping):
        raise SourceError("chart.yaml must be a mapping", path=file, line=1)
    _check_keys(meta, CHART_KEYS, file)
    version = str(_require(meta, "version", str, file, "the chart's semver version"))
    if not SEMVER.match(version):
        raise SourceError(
            f"version {version!r} is not a semantic version", path=file, line=line_of(meta, "version"),
            hint="MAJOR.MINOR.PATCH, e.g. 1.4.0",
        )  # fmt: skip
    deps = []
    for i, dep in enumerate(_optional(meta, "dependencies", list, file, "a list of {name, condition}") or []):
        if not isinstance(dep, Mapping) or "name" not in dep:
            raise SourceError("a dependency needs a 'name'", path=file, line=line_of(meta["dependencies"], i))
        _check_keys(dep, DEP_KEYS, file, "dependencies")
        dname = str(dep["name"])
        deps.append(Dependency(dname, "", str(dep.get("condition", f"{dname}.enabled"))))
    params = _load_params(root, src)
    return ChartSpec(
        name=name, version=version, app_version=str(meta.get("appVersion", version)),
        description=str(_require(meta, "description", str, file, "one-line description")).strip(),
        source_dir=src, params=root_group(name, str(meta.get("description", "")), params),
        dependencies=tuple(deps), keywords=_strings(meta, "keywords", file),
        home=str(_optional(meta, "home", str, file, "a URL") or ""),
        icon=str(_optional(meta, "icon", str, file, "a URL") or ""),
        sources=_strings(meta, "sources", file), variables=_string_map(meta, "variables", file),
        aliases=_strings(meta, "aliases", file), annotations=_string_map(meta, "annotations", file),
        is_umbrella=is_umbrella,
    )  # fmt: skip


def _load_source(root: Path, path: Path) -> Any:
    """A YAML file of ``sources/`` (contained: no symlink out of the tree), errors naming it."""
    display = _rel(root, path)
    return load_yaml(contained(path, root / "sources", display=display), display=display)


def _load_params(root: Path, src: Path) -> tuple[Param, ...]:
    """``parameters.yaml``, or ``parameters.yaml.j2`` rendered first (to reuse shared param macros)."""
    plain_path, jinja_path = src / "parameters.yaml", src / "parameters.yaml.j2"
    if plain_path.exists():
        pfile = _rel(root, plain_path)
        return parse_params(_load_source(root, plain_path), file=pfile)
    if jinja_path.exists():
        from chartforge.render import environment, render_file  # render imports catalog types only

        sources = root / "sources"
        name = jinja_path.relative_to(sources).as_posix()
        text = render_file(environment(sources), sources, name, {"chart_name": src.name})
        pfile = f"{_rel(root, jinja_path)} (rendered)"
        return parse_params(load_yaml_text(text, display=pfile), file=pfile)
    return ()


def _toposort(specs: dict[str, ChartSpec], root: Path) -> tuple[ChartSpec, ...]:
    """Dependencies first; unknown dependencies and cycles are errors naming chart.yaml."""
    for spec in specs.values():
        for dep in spec.dependencies:
            if dep.name not in specs:
                raise SourceError(
                    f"dependency on unknown chart '{dep.name}'", path=_rel(root, spec.source_dir / "chart.yaml"),
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
                f"dependency cycle: {cycle}", path=_rel(root, specs[name].source_dir / "chart.yaml"),
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


def plain_params_defaults(params: Param) -> dict[str, Any]:
    value = params.default_value()
    return dict(plain(value)) if isinstance(value, dict) else {}
