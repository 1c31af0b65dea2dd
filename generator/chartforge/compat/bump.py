"""``chartforge bump``: raise a chart's version in ``sources/`` (comments and layout kept), and its dependents'.

``sources/charts/<chart>/chart.yaml`` is edited with ruamel.yaml's round-trip loader, so only
the ``version`` value changes: comments, key order, flow lists and quoting stay as written.
Every chart that embeds it (the umbrella) is bumped by the same level, because a sub-chart's
values are part of the umbrella's values (a breaking sub-chart is a breaking umbrella); then
the catalog is rebuilt.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from chartforge.compat.semver import LEVELS, Level
from chartforge.compile.catalog import Catalog
from chartforge.compile.declared import parse_version
from chartforge.errors import SourceError, UsageError

BumpLevel = Literal["major", "minor", "patch"]


def bumped(version: str, level: BumpLevel) -> str:
    major, minor, patch = parse_version(version)
    if level == "major":
        return f"{major + 1}.0.0"
    if level == "minor":
        return f"{major}.{minor + 1}.0"
    if "-" in version.split("+", 1)[0]:
        return f"{major}.{minor}.{patch}"  # 1.2.3-rc.1 → 1.2.3
    return f"{major}.{minor}.{patch + 1}"


def level_between(old: str, new: str) -> Level:
    """The level of the bump from ``old`` to ``new`` ("none" when not higher)."""
    a, b = parse_version(old), parse_version(new)
    if b <= a:
        return "none"
    if b[0] > a[0]:
        return "major"
    if b[0] == 0 and b[1] > a[1]:
        return "major"  # 0.x: a minor bump may break (semver item 4)
    return "minor" if b[1] > a[1] else "patch"


def satisfies(old: str, new: str, required: Level) -> bool:
    return LEVELS.index(level_between(old, new)) >= LEVELS.index(required)


@dataclass(frozen=True)
class Bumped:
    chart: str
    old: str
    new: str
    level: BumpLevel
    path: str
    reason: str  # "requested", "what the changes since <ref> need" (auto) or "depends on <chart>"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def round_trip_yaml() -> YAML:
    """ruamel's round-trip YAML as ``sources/`` is written: comments, order, quotes and flow style kept."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 10_000
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


_yaml = round_trip_yaml


def set_version(path: Path, version: str, display: str) -> None:
    """Rewrite the ``version`` of one chart.yaml in place, nothing else."""
    yaml = _yaml()
    try:
        data = yaml.load(path.read_text(encoding="utf-8"))
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SourceError(f"invalid YAML: {getattr(exc, 'problem', exc)}", path=display,
                          line=mark.line + 1 if mark else None) from None  # fmt: skip
    if not isinstance(data, dict) or "version" not in data:
        raise SourceError("chart.yaml has no 'version'", path=display, line=1)
    data["version"] = version
    with path.open("w", encoding="utf-8") as handle:
        yaml.dump(data, handle)


def dependents(catalog: Catalog, name: str) -> list[str]:
    """Charts that embed ``name``, directly or through another chart, dependencies first."""
    found: list[str] = []
    for chart in catalog.charts:  # topological order: dependencies first
        if any(d.name == name or d.name in found for d in chart.dependencies):
            found.append(chart.name)
    return found


def plan_bump(
    catalog: Catalog,
    name: str,
    level: BumpLevel,
    released: Mapping[str, str] | None = None,
    why: str = "requested",
) -> list[Bumped]:
    """The chart and every chart embedding it, bumped by ``level``.

    With ``released`` (chart → last released version, from ``--against``) versions are computed from
    the released ones and a chart already bumped enough since its release is left alone, so bumping
    several sub-charts bumps the umbrella once; without it each chart goes up from its current version.
    """
    if level not in ("major", "minor", "patch"):
        raise UsageError(f"unknown level '{level}'", hint="major, minor, patch or auto")
    plan = []
    for index, chart_name in enumerate(
        [catalog.chart(name).name, *dependents(catalog, catalog.chart(name).name)]
    ):
        spec = catalog.chart(chart_name)
        reason = why if index == 0 else f"depends on {catalog.chart(name).name}"
        base = (released or {}).get(chart_name)
        if base is None:
            new = bumped(spec.version, level)
        elif satisfies(base, spec.version, level):
            continue  # already bumped enough since its release
        else:
            new = bumped(base, level)
        plan.append(
            Bumped(chart_name, spec.version, new, level, f"sources/charts/{chart_name}/chart.yaml", reason)
        )
    return plan


def apply_bump(catalog: Catalog, plan: list[Bumped]) -> None:
    for item in plan:
        set_version(catalog.root / item.path, item.new, item.path)
