"""The drift cell of ``check``: ``charts/`` and ``values/`` must be what ``sources/`` produces.

A run over every chart compares the whole build (:func:`chartforge.compile.build.build` with
``check``, which skips compiling when its stamp says nothing changed). A run over some charts
(``--chart``, ``--changed-since``) compiles only those charts and the values files and compares
them with ``charts/<chart>/`` and ``values/``: the findings a full check gives for those paths,
at the cost of the selected charts only. Its line maps are merged into the build's sidecar, so
the run's findings point at ``sources/`` even on a fresh checkout.
"""

from __future__ import annotations

from collections.abc import Sequence

from chartforge import codes
from chartforge.compile.build import Change, build, compile_tree, diff_trees, existing_files
from chartforge.compile.catalog import Catalog
from chartforge.compile.chartcache import ChartCache
from chartforge.compile.linemap import chart_line_maps, read_line_map, write_line_map
from chartforge.compile.swap import build_lock, recover
from chartforge.diagnostics import Diagnostic
from chartforge.progress import Tracker


def _subset_changes(catalog: Catalog, charts: Sequence[str]) -> list[Change]:
    root = catalog.root
    with build_lock(root):
        recover(root)
        cache = ChartCache(catalog)  # each selected chart's compile reused while its inputs are unchanged
        tree = compile_tree(catalog, charts, cache=cache)
        prefixes = [*(f"charts/{c}/" for c in charts), "values/"]
        changes = diff_trees(tree, existing_files(root, prefixes))
        if not changes:
            write_line_map(root, {**read_line_map(root), **chart_line_maps(catalog, tree, cache)})
        cache.save()
    return list(changes)


def drift(catalog: Catalog, charts: Sequence[str], tracker: Tracker) -> list[Diagnostic]:
    """One finding per generated file that differs from what ``sources/`` produces (selected charts' and values/)."""
    if len(charts) == len(catalog.charts):
        changes = list(build(catalog.root, check=True, catalog=catalog).changes)
    else:
        changes = _subset_changes(catalog, charts)
    tracker.step("charts/ and values/ against sources/")
    return [
        Diagnostic("error", codes.BUILD_DRIFT, f"{c.kind} by `chartforge build`: generated files differ from sources/",
                   stage="build", path=c.path)
        for c in changes
    ]  # fmt: skip
