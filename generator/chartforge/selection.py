"""Which charts a command works on: ``--chart NAME`` and ``--changed-since GIT_REF``.

A chart is selected when its sources changed between ``REF`` and the working tree (committed,
staged, unstaged and untracked files alike), and so is every chart that depends on it, directly
or through another chart (the umbrella). What counts as a change to a chart:

- ``sources/charts/<c>/…`` or the generated ``charts/<c>/…``: chart ``c``;
- ``sources/environments/<env>.yaml`` (or the generated ``values/<env>.yaml``): every chart the
  changed part of the file configures: a changed top-level section ``<c>:`` selects ``c``; a
  changed ``global:`` section, any other key, a file that is new, deleted or not a mapping
  selects every chart the file configures, i.e. all of them;
- ``sources/macros/``, ``sources/global.yaml``, ``sources/catalog.yaml``, ``sources/crds/`` and
  ``sources/waivers.yaml``: every chart (they reach every chart's output or check).

Files outside these paths (docs, tests, CI) select nothing. The result keeps the catalog's
order (dependencies first, umbrella last).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chartforge import proc
from chartforge.compile.catalog import Catalog
from chartforge.errors import ToolError, UsageError
from chartforge.yamlio import did_you_mean

_EVERY_CHART = ("sources/macros/", "sources/global.yaml", "sources/catalog.yaml", "sources/crds/",
                "sources/waivers.yaml")  # fmt: skip


@dataclass(frozen=True)
class Selection:
    charts: tuple[str, ...]  # catalog order
    changed_files: tuple[str, ...] = ()  # relative to the project root (``--changed-since`` only)
    everything: bool = False  # every chart of the catalog is selected

    def __contains__(self, chart: object) -> bool:
        return chart in self.charts


def dependents_closure(catalog: Catalog, names: Iterable[str]) -> set[str]:
    """``names`` plus every chart depending on one of them, transitively."""
    selected = set(names)
    changed = True
    while changed:
        changed = False
        for chart in catalog.charts:
            if chart.name not in selected and any(d.name in selected for d in chart.dependencies):
                selected.add(chart.name)
                changed = True
    return selected


def _git(root: Path, *args: str) -> str:
    try:
        return proc.run(["git", *args], cwd=root, what="git").stdout
    except ToolError as exc:
        raise UsageError(
            f"--changed-since: git {' '.join(args)} failed: {exc.stderr.strip() or exc.message}",
            hint="pass a commit, branch or tag that exists in this repository (e.g. origin/main)",
        ) from exc


def changed_files(root: Path, ref: str) -> list[str]:
    """Files under ``root`` that differ between ``ref`` and the working tree, plus untracked ones."""
    _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    diff = _git(root, "diff", "--name-only", "--no-renames", "--relative", ref, "--", ".")
    untracked = _git(root, "ls-files", "--others", "--exclude-standard", "--", ".")
    return sorted({p for p in (diff + "\n" + untracked).splitlines() if p.strip()})


def _sections(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None


def _environment_charts(catalog: Catalog, root: Path, ref: str, path: str) -> set[str]:
    """The charts whose section of one environment file differs between ``ref`` and the working tree."""
    everything = {c.name for c in catalog.charts}
    try:
        old_text: str | None = proc.run(["git", "show", f"{ref}:./{path}"], cwd=root, what="git").stdout
    except ToolError:
        old_text = None  # new in the working tree
    file = root / path
    old, new = _sections(old_text), _sections(file.read_text(encoding="utf-8") if file.is_file() else None)
    if old is None or new is None:
        return everything
    by_key = {c.name: c.name for c in catalog.charts} | {a: c.name for c in catalog.charts for a in c.aliases}
    charts: set[str] = set()
    for key in set(old) | set(new):
        if old.get(key) == new.get(key):
            continue
        if str(key) not in by_key:  # global: or anything not a chart's section reaches every chart
            return everything
        charts.add(by_key[str(key)])
    return charts


def charts_of_change(catalog: Catalog, root: Path, ref: str, path: str) -> set[str]:
    """The charts one changed file touches directly (before adding their dependents)."""
    everything = {c.name for c in catalog.charts}
    if path.startswith(_EVERY_CHART):
        return everything
    parts = path.split("/")
    if parts[:2] == ["sources", "charts"] and len(parts) > 3:
        return {parts[2]} & everything
    if parts[0] == "charts" and len(parts) > 2:
        return {parts[1]} & everything
    env_file = (parts[:2] == ["sources", "environments"] and len(parts) == 3) or (
        parts[0] == "values" and len(parts) == 2
    )
    if env_file and parts[-1].removesuffix(".yaml") in catalog.environments and parts[-1].endswith(".yaml"):
        return _environment_charts(catalog, root, ref, path)
    return set()


def check_chart_names(catalog: Catalog, names: Sequence[str]) -> list[str]:
    """Canonical names for ``--chart`` values (aliases allowed); unknown → usage error with a suggestion."""
    known = {c.name: c.name for c in catalog.charts} | {a: c.name for c in catalog.charts for a in c.aliases}
    out = []
    for name in names:
        if name not in known:
            raise UsageError(
                f"--chart: unknown chart '{name}'", hint=did_you_mean(name, [c.name for c in catalog.charts])
            )
        out.append(known[name])
    return out


def select(
    catalog: Catalog, *, charts: Sequence[str] = (), changed_since: str | None = None
) -> Selection | None:
    """The selection for ``--chart``/``--changed-since``; ``None`` when neither is given (everything).

    Both together: the union. ``--chart`` selects the named charts and their dependents too, so
    that ``--chart postgresql-ha`` also checks the umbrella that embeds it.
    """
    if not charts and changed_since is None:
        return None
    direct = set(check_chart_names(catalog, charts))
    files: list[str] = []
    if changed_since is not None:
        files = changed_files(catalog.root, changed_since)
        for path in files:
            direct |= charts_of_change(catalog, catalog.root, changed_since, path)
    selected = dependents_closure(catalog, direct)
    ordered = tuple(c.name for c in catalog.charts if c.name in selected)
    return Selection(ordered, tuple(files), everything=len(ordered) == len(catalog.charts))
