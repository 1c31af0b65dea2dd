"""The lint cells of a check run: cached cells reused, the rest batched into few ``helm lint`` processes.

Every chart × environment × helm binary of the plan is one cell (:class:`chartforge.lint.LintTarget`).
A cell found in the result cache is not linted again (:mod:`chartforge.lintcache`); the others are
grouped into batches (:mod:`chartforge.lintbatch`). When the run covers only some charts
(``--chart``, ``--changed-since``), the umbrella's cell is linted with the unselected sub-charts
as stubs wherever :mod:`chartforge.umbrellastub` proves it reports the same findings; a full
umbrella lint without findings records the facts that proof needs.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from chartforge import helm as helmcmd
from chartforge.compile.assemble import chart_values
from chartforge.compile.catalog import Catalog
from chartforge.diagnostics import Checked, Diagnostic
from chartforge.lint import LintTarget
from chartforge.lintbatch import Batch, group_targets, lint_batch
from chartforge.lintcache import LintCache
from chartforge.progress import Listener, Tracker
from chartforge.resultcache import ResultCache
from chartforge.shard import Plan
from chartforge.tools import Helm
from chartforge.umbrellastub import Stubber

LintFutures = list[Future[list[tuple[int, list[Diagnostic]]]]]


def submit_lint(
    pool: ThreadPoolExecutor, catalog: Catalog, helms: Sequence[Helm], assembled: Path, envs: Sequence[str],
    plan: Plan, listener: Listener | None, workers: int, cache: ResultCache, scratch: Path,
    stubber: Stubber | None = None,
) -> tuple[LintFutures, list[Checked]]:  # fmt: skip
    """Start every lint cell of ``plan``; the futures give (cell index, findings) pairs."""
    targets = []
    for chart in catalog.charts:
        for env in envs:
            if not any((chart.name, env, h.version) in plan.lint for h in helms):
                continue
            values = helmcmd.write_values(assembled / f"values-{chart.name}-{env}.yaml",
                                          chart_values(catalog, chart, env))  # fmt: skip
            targets.append(LintTarget(chart.name, env, assembled / chart.name, values))
    runs = [(h, t) for h in helms for t in targets if (t.chart, t.environment, h.version) in plan.lint]
    tracker = Tracker(listener, "lint", len(runs))

    order = {(h.path, t): i for i, (h, t) in enumerate(runs)}
    cached = LintCache(catalog, cache)
    hits, todo = cached.split(runs)  # an unchanged cell is not linted again
    for i in hits:
        tracker.step(f"{runs[i][1].chart} × {runs[i][1].environment} × helm {runs[i][0].version} (cached)")

    stubber = stubber or Stubber(catalog, assembled, cache, scratch)
    full = assembled / catalog.umbrella
    stubbed: dict[tuple[str, LintTarget], LintTarget] = {}  # stubbed cell → the cell it stands for
    if len(plan.charts) < len(catalog.charts):
        for i, (helm, target) in enumerate(todo):
            if target.chart_dir == full:
                tree = stubber.stubbed(
                    plan.charts, helm, target.environment, catalog.project.values_file(target.environment)
                )
                if tree is not None:
                    todo[i] = (helm, replace(target, chart_dir=tree))
                    stubbed[helm.path, todo[i][1]] = target

    def lint(batch: Batch) -> list[tuple[int, list[Diagnostic]]]:  # several charts per helm process
        found = lint_batch(batch)
        out = []
        for t in batch.targets:
            cell = stubbed.get((batch.helm.path, t), t)
            if cell is t:  # a stubbed lint equals the full one but is not stored as its result
                cached.store(batch.helm, {t: found[t]})
            if t.chart_dir == full and not any(d.severity in ("error", "warning") for d in found[t]):
                stubber.record_clean(batch.helm, t.environment, catalog.project.values_file(t.environment))
            tracker.step(f"{t.chart} × {t.environment} × helm {batch.helm.version}")
            out.append((order[batch.helm.path, cell], found[t]))
        return out

    futures = [pool.submit(lint, b) for b in group_targets(todo, workers)]
    if hits:
        futures.append(pool.submit(lambda: list(hits.items())))
    checked = [Checked("lint", t.chart, t.environment, "", f"charts/{t.chart}", "Chart", f"{t.chart} (helm {h.version})")
               for h, t in runs]  # fmt: skip
    return futures, checked


def collect_lint(futures: Sequence[Future[list[tuple[int, list[Diagnostic]]]]]) -> list[Diagnostic]:
    """Findings in cell order, each named after its chart and helm version."""
    found = [d for _, ds in sorted((r for f in futures for r in f.result()), key=lambda r: r[0]) for d in ds]
    return [replace(d, name=f"{d.chart} (helm {dict(d.extra).get('helm', '')})", kind="Chart") for d in found]
