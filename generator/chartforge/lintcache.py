"""The lint cells of a check run through the result cache (:mod:`chartforge.resultcache`).

A lint cell (chart × environment × helm) is keyed by: the chart as helm lints it (every file of
its assembled directory, an umbrella's linked sub-charts included), the values file it is linted
with, the helm version, ``--strict``, the chart and environment names the findings carry, and the
sources the chart was compiled from (its own and its sub-charts' folders, the macros,
``global.yaml``, ``catalog.yaml`` and the environment's file, so that findings located in
``sources/`` never outlive a change there). Change one sub-chart and only its cells and the
umbrella's miss.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from chartforge.compile.catalog import Catalog
from chartforge.diagnostics import Diagnostic
from chartforge.lint import LintTarget
from chartforge.resultcache import ResultCache, cell_key, tree_digest
from chartforge.tools import Helm


def _file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else "-"


def _tree(path: Path) -> str:
    return tree_digest(path) if path.is_dir() else "-"


class LintCache:
    """Looks lint cells up before they run and stores them after; keys computed once per chart."""

    def __init__(self, catalog: Catalog, cache: ResultCache) -> None:
        self.catalog, self.cache = catalog, cache
        self._keys: dict[tuple[str, LintTarget], str] = {}
        self._trees: dict[Path, str] = {}

    def _digest(self, path: Path) -> str:
        if path not in self._trees:
            self._trees[path] = _tree(path)
        return self._trees[path]

    def key(self, helm: Helm, target: LintTarget) -> str:
        if (helm.version, target) not in self._keys:
            project = self.catalog.project
            spec = next(c for c in self.catalog.charts if c.name == target.chart)
            sources = [
                self._digest(project.chart_source(n))
                for n in (spec.name, *(d.name for d in spec.dependencies))
            ]
            self._keys[helm.version, target] = cell_key(
                "lint", target.chart, target.environment, helm.version, "--strict",
                self._digest(target.chart_dir), _file(target.values_file), *sources,
                self._digest(project.sources / "macros"), _file(project.global_file), _file(project.catalog_file),
                _file(project.environment_source(target.environment)),
            )  # fmt: skip
        return self._keys[helm.version, target]

    def split(
        self, runs: Sequence[tuple[Helm, LintTarget]]
    ) -> tuple[dict[int, list[Diagnostic]], list[tuple[Helm, LintTarget]]]:
        """(findings of the runs found in the cache by index in ``runs``, the runs still to do)."""
        hits: dict[int, list[Diagnostic]] = {}
        todo = []
        for i, (helm, target) in enumerate(runs):
            found = self.cache.get(self.key(helm, target)) if self.cache.root is not None else None
            if found is None:
                todo.append((helm, target))
            else:
                hits[i] = found
        return hits, todo

    def store(self, helm: Helm, found: dict[LintTarget, list[Diagnostic]]) -> None:
        for target, diagnostics in found.items():
            self.cache.put(self.key(helm, target), diagnostics)
