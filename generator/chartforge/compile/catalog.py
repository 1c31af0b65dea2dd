"""Stage 1 — load and check ``sources/``: the catalog, each chart's metadata and parameters.

Layout::

    sources/catalog.yaml                    platform, charts, Kubernetes range, registry, environments
    sources/global.yaml                     parameter spec of ``global`` (shared by every chart)
    sources/charts/<name>/chart.yaml        version, appVersion, description, dependencies, variables
    sources/charts/<name>/parameters.yaml   the parameter spec (see chartforge.compile.params)
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

from chartforge.compile.chartspec import (
    ChartSpec,
    Dependency,
    check_keys,
    kind_of,
    load_chart,
    load_params,
    load_source,
    optional,
    rel,
    require,
    string_map,
    toposort,
)
from chartforge.compile.params import Param
from chartforge.compile.sourcetree import check_name
from chartforge.compile.speccache import SpecCache
from chartforge.errors import SourceError
from chartforge.kube import KubeVersion
from chartforge.project import Project
from chartforge.yamlio import did_you_mean, line_of, plain

__all__ = ["Catalog", "ChartSpec", "Dependency", "Registry", "load_catalog"]

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
    "variable_defaults",
}


@dataclass(frozen=True)
class Registry:
    url: str = ""
    plain_http: bool = False
    ca_file: str = ""


@dataclass(frozen=True)
class Catalog:
    root: Path
    platform: str
    description: str
    charts: tuple[ChartSpec, ...]  # dependencies first, umbrella last
    umbrella: str
    kubernetes_versions: tuple[KubeVersion, ...]
    environments: tuple[str, ...]
    registry: Registry
    maintainers: tuple[tuple[str, str], ...] = ()
    global_params: tuple[Param, ...] = ()
    variables: tuple[tuple[str, str], ...] = field(default=())
    variable_defaults: tuple[tuple[str, Any], ...] = field(default=())  # seed variable → default

    @property
    def project(self) -> Project:
        return Project(self.root)

    @property
    def sources(self) -> Path:
        return self.project.sources

    def chart(self, name: str) -> ChartSpec:
        for chart in self.charts:
            if chart.name == name or name in chart.aliases:
                return chart
        raise SourceError(f"unknown chart '{name}'", hint=did_you_mean(name, [c.name for c in self.charts]))

    @property
    def kube_version_constraint(self) -> str:
        lo, hi = self.kubernetes_versions[0], self.kubernetes_versions[-1]
        return f">={lo.full}-0 <{hi.major}.{hi.minor + 1}.0-0"

    def env_file(self, env: str) -> Path:
        return self.project.environment_source(env)


def _registry(data: Mapping[str, Any], file: str) -> Registry:
    reg = optional(data, "registry", Mapping, file, "a mapping with url, plain_http, ca_file") or {}
    check_keys(reg, {"url", "plain_http", "ca_file"}, file, "registry")
    for key, kind in (("url", str), ("plain_http", bool), ("ca_file", str)):
        if key in reg and not isinstance(reg[key], kind):
            raise SourceError(
                f"'registry.{key}' must be a {kind.__name__}, got {kind_of(reg[key])}", path=file,
                line=line_of(reg, key),
            )  # fmt: skip
    return Registry(str(reg.get("url", "")), bool(reg.get("plain_http", False)), str(reg.get("ca_file", "")))


def _maintainers(data: Mapping[str, Any], file: str) -> tuple[tuple[str, str], ...]:
    items = optional(data, "maintainers", list, file, "a list of {name, email}") or []
    out = []
    for i, item in enumerate(items):
        if not isinstance(item, Mapping) or not isinstance(item.get("name"), str):
            raise SourceError(
                "a maintainer must be a mapping with a 'name' (and an optional 'email')", path=file,
                line=line_of(items, i), key="maintainers",
            )  # fmt: skip
        check_keys(item, {"name", "email", "url"}, file, "maintainers")
        out.append((str(item["name"]), str(item.get("email") or "")))
    return tuple(out)


def _kube_versions(data: Any, file: str) -> tuple[KubeVersion, ...]:
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
    return tuple(KubeVersion(1, m) for m in range(bounds[0], bounds[1] + 1))


def load_catalog(root: Path | str = ".") -> Catalog:
    """Load ``<root>/sources`` and check it; every error names file and line."""
    root = Path(root).resolve()
    project = Project(root)
    path = project.catalog_file
    file = rel(root, path)
    if not path.is_file():
        raise SourceError(
            "no catalog here", path=path, hint="run chartforge in a project root, or pass --root DIR"
        )
    data = load_source(root, path)
    if not isinstance(data, Mapping):
        raise SourceError("catalog must be a mapping", path=file, line=1)
    check_keys(data, CATALOG_KEYS, file)
    platform = require(data, "platform", Mapping, file, "platform name and description")
    names = require(data, "charts", list, file, "the list of chart names")
    umbrella = str(require(data, "umbrella", str, file, "the umbrella chart's name"))
    env_list = require(data, "environments", list, file, "environment names")
    envs = tuple(
        check_name(e, what="environment", path=file, line=line_of(env_list, i))
        for i, e in enumerate(env_list)
    )
    versions = _kube_versions(data.get("kubernetes"), file)
    registry = _registry(data, file)
    cache = SpecCache(root)
    global_file = project.global_file
    global_params = load_params(root, global_file, cache, prefix="global") if global_file.exists() else ()
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
    specs = {n: load_chart(root, n, n == umbrella, cache) for n in names}
    cache.save()
    for env in envs:
        if not project.environment_source(env).is_file():
            raise SourceError(
                f"environment '{env}' has no file sources/environments/{env}.yaml",
                path=file, line=line_of(data, "environments"),
            )  # fmt: skip
    ordered = toposort(specs, root)
    maint = _maintainers(data, file)
    variables = string_map(data, "variables", file)
    defaults = data.get("variable_defaults") or {}
    if not isinstance(defaults, dict):
        raise SourceError(
            "variable_defaults must be a mapping", path=file, line=line_of(data, "variable_defaults")
        )
    return Catalog(
        root=root, platform=str(platform.get("name", "")), description=str(platform.get("description", "")),
        charts=ordered, umbrella=umbrella, kubernetes_versions=versions, environments=envs, registry=registry,
        maintainers=maint, global_params=global_params, variables=variables,
        variable_defaults=tuple((str(k), plain(v)) for k, v in defaults.items()),
    )  # fmt: skip
