"""Find the charts to package, their dependencies, and the files ``helm package`` would take.

Charts are the directories of ``charts/`` holding a ``Chart.yaml``. A dependency declared
``repository: file://../<dir>`` must point at another chart of the same directory, at
exactly the pinned version: packaging is offline and exact, never a version range.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chartforge.errors import UserError
from chartforge.package.helmignore import load_rules
from chartforge.yamlio import line_of, load_yaml_text, plain

UTF8_BOM = b"\xef\xbb\xbf"


@dataclass(frozen=True)
class DependencyRef:
    name: str
    version: str
    repository: str
    line: int | None  # of the entry in Chart.yaml
    declared: dict[str, Any] = field(compare=False)  # the Chart.yaml entry, for the lock digest
    key_lines: dict[str, int | None] = field(default_factory=dict, compare=False)

    def line_of(self, key: str) -> int | None:
        return self.key_lines.get(key) or self.line


@dataclass(frozen=True)
class LocalChart:
    name: str
    version: str
    directory: Path
    display: str  # e.g. "charts/redis-cluster"
    dependencies: tuple[DependencyRef, ...]
    metadata: dict[str, Any] = field(compare=False)

    @property
    def archive_name(self) -> str:
        return f"{self.name}-{self.version}.tgz"

    @property
    def chart_yaml(self) -> str:
        return f"{self.display}/Chart.yaml"


def load_chart(directory: Path, display: str) -> LocalChart:
    text = (directory / "Chart.yaml").read_bytes().removeprefix(UTF8_BOM).decode("utf-8")
    doc = load_yaml_text(text, display=f"{display}/Chart.yaml", error=UserError)
    where = f"{display}/Chart.yaml"
    if not isinstance(doc, dict):
        raise UserError("Chart.yaml must be a mapping", path=where)
    for key in ("name", "version"):
        if not isinstance(doc.get(key), str) or not doc[key]:
            raise UserError(
                f"'{key}' must be a non-empty string", path=where, line=line_of(doc, key), key=key
            )
    deps = []
    for index, entry in enumerate(doc.get("dependencies") or []):
        line = line_of(doc["dependencies"], index)
        if not isinstance(entry, dict) or not entry.get("name"):
            raise UserError("each dependency needs a 'name'", path=where, line=line, key="dependencies")
        deps.append(
            DependencyRef(
                str(entry["name"]),
                str(entry.get("version", "")),
                str(entry.get("repository", "")),
                line,
                plain(entry),
                {key: line_of(entry, key) for key in ("version", "repository")},
            )
        )
    return LocalChart(str(doc["name"]), str(doc["version"]), directory, display, tuple(deps), plain(doc))


def _resolve(chart: LocalChart, dep: DependencyRef, by_dir: dict[Path, LocalChart]) -> LocalChart:
    if not dep.repository.startswith("file://"):
        raise UserError(
            f"dependency '{dep.name}' has repository {dep.repository!r}",
            path=chart.chart_yaml,
            line=dep.line_of("repository"),
            hint="chartforge packages offline: use 'file://../<chart>' pointing at a chart beside this one",
        )
    target = (chart.directory / dep.repository.removeprefix("file://")).resolve()
    found = by_dir.get(target)
    if found is None:
        raise UserError(
            f"dependency '{dep.name}': {dep.repository} is not a chart directory beside {chart.display}",
            path=chart.chart_yaml,
            line=dep.line_of("repository"),
        )
    if found.name != dep.name or found.version != dep.version:
        raise UserError(
            f"dependency '{dep.name}' pins version {dep.version!r} but {found.chart_yaml} is "
            f"'{found.name}' version {found.version!r}",
            path=chart.chart_yaml,
            line=dep.line_of("version"),
            hint="pin the exact version of the sub-chart (ranges are not packaged)",
        )
    return found


def discover(charts_dir: Path, *, display_root: Path | None = None) -> tuple[LocalChart, ...]:
    """Every chart under ``charts_dir``, dependencies before the charts that need them."""
    if not charts_dir.is_dir():
        raise UserError("no charts directory", path=charts_dir, hint="run 'chartforge build' first")
    base = display_root or charts_dir.parent
    charts = [
        load_chart(d, _display(d, base)) for d in sorted(charts_dir.iterdir()) if (d / "Chart.yaml").is_file()
    ]
    if not charts:
        raise UserError("no chart (a directory with Chart.yaml) found", path=charts_dir)
    by_dir = {c.directory.resolve(): c for c in charts}
    needs = {c.name: tuple(_resolve(c, d, by_dir).name for d in c.dependencies) for c in charts}
    ordered: list[LocalChart] = []
    state: dict[str, str] = {}
    by_name = {c.name: c for c in charts}

    def visit(chart: LocalChart, trail: tuple[str, ...]) -> None:
        if state.get(chart.name) == "done":
            return
        if state.get(chart.name) == "visiting":
            cycle = " -> ".join((*trail, chart.name))
            raise UserError(f"dependency cycle: {cycle}", path=chart.chart_yaml)
        state[chart.name] = "visiting"
        for dep in needs[chart.name]:
            visit(by_name[dep], (*trail, chart.name))
        state[chart.name] = "done"
        ordered.append(chart)

    for chart in charts:
        visit(chart, ())
    return tuple(ordered)


def _display(path: Path, base: Path) -> str:
    try:
        return path.resolve().relative_to(base.resolve()).as_posix()
    except ValueError:
        return str(path)


def chart_files(chart: LocalChart) -> dict[str, bytes]:
    """``{path relative to the chart: bytes}`` as helm's directory loader would read them.

    A chart with ``file://`` dependencies gets its ``charts/`` and ``Chart.lock`` regenerated
    by the packager, so stale copies in the source directory are left out.
    """
    rules = load_rules(chart.directory, display=chart.display)
    regenerated = bool(chart.dependencies)
    files: dict[str, bytes] = {}
    for current, dirs, names in os.walk(chart.directory, followlinks=True):
        rel_dir = Path(current).relative_to(chart.directory).as_posix()
        prefix = "" if rel_dir == "." else rel_dir + "/"
        dirs[:] = sorted(d for d in dirs if not rules.ignored(prefix + d, is_dir=True))
        if regenerated and prefix == "":
            dirs[:] = [d for d in dirs if d != "charts"]
        for name in sorted(names):
            rel = prefix + name
            if rules.ignored(rel, is_dir=False) or (regenerated and rel == "Chart.lock"):
                continue
            path = Path(current) / name
            if not path.is_file():
                raise UserError("not a regular file; helm cannot package it", path=f"{chart.display}/{rel}")
            files[rel] = path.read_bytes().removeprefix(UTF8_BOM)
    return files
