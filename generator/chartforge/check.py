"""``chartforge check``: lint, validate and policy over every chart × environment × Kubernetes version.

The matrix runs in one pass and collects every finding before deciding the exit code:

1. **drift** — ``charts/`` and ``values/`` must be what ``sources/`` produces;
2. **lint** — ``helm lint --strict`` per chart × environment × helm binary (3 and 4), charts with
   values of the same content sharing one helm process (:mod:`chartforge.lintbatch`);
3. **render** — ``helm template`` of the umbrella per environment × Kubernetes version
   (the objects exactly as ``helm install -f values/<env>.yaml`` would create them);
   identical renderings across versions are parsed once;
4. **validate** — every object against each version's strict schema and the CRD schemas;
5. **policy** — the built-in checks (and optionally checkov) per chart and environment.

helm calls run in parallel across cores; nothing here prints.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal, get_args

from chartforge import stagecache
from chartforge.atsource import at_sources
from chartforge.checklint import collect_lint, submit_lint
from chartforge.compile.assemble import assemble
from chartforge.compile.catalog import Catalog, load_catalog
from chartforge.compile.envvalues import merge, umbrella_defaults
from chartforge.diagnostics import Checked, Diagnostic, findings_to_dict, has_errors
from chartforge.drift import drift
from chartforge.errors import UsageError, UserError
from chartforge.kube import KubeVersion
from chartforge.manifests import Manifest
from chartforge.policy import load_waivers
from chartforge.policy.stage import PolicyResult, PolicyUnit, check_policy
from chartforge.progress import Listener, Tracker
from chartforge.renderings import Rendering, collect_renders, submit_renders
from chartforge.renderstub import RenderStubs
from chartforge.resultcache import ResultCache, default_root
from chartforge.shard import Cell, Shard, plan_run
from chartforge.tools import find_helm, find_helms
from chartforge.umbrellastub import Stubber
from chartforge.validate.api import Job, validate_jobs
from chartforge.validate.engine import Engine, EngineName, make_engine
from chartforge.validate.schemas import normalize_version
from chartforge.yamlio import did_you_mean, load_yaml, plain

Stage = Literal["lint", "validate", "policy"]
ALL_STAGES: tuple[Stage, ...] = get_args(Stage)
_SOURCE_CHART = re.compile(r"^[^/]+/charts/([^/]+)/")


@dataclass(frozen=True)
class CheckResult:
    diagnostics: tuple[Diagnostic, ...]
    checked: tuple[Checked, ...]
    environments: tuple[str, ...]
    kubernetes_versions: tuple[KubeVersion, ...]
    helm_versions: tuple[str, ...]
    engine: str
    resources: int  # objects per rendering (per environment)
    records: tuple[dict[str, Any], ...] = ()  # one per validated object: its outcome on every version
    checkov: bool = False
    charts: tuple[str, ...] = ()  # the charts checked (``--chart``/``--changed-since``: a subset)
    shard: str = ""  # "I/N" when only one shard of the matrix ran
    matrix: str = ""  # the matrix id (shard.matrix_id over every cell, whichever shard ran)
    cells: tuple[Cell, ...] = ()  # the cells this run checked

    @property
    def failed(self) -> bool:
        return has_errors(self.diagnostics)

    def to_dict(self) -> dict[str, Any]:
        """The one JSON shape of check, lint, validate and policy, over the catalog or files alike."""
        return {
            **findings_to_dict(self.diagnostics),
            "failed": self.failed,
            "matrix": {
                "environments": list(self.environments),
                "kubernetes_versions": [str(v) for v in self.kubernetes_versions],
                "helm_versions": list(self.helm_versions),
                "engine": self.engine,
                "checkov": self.checkov,
                "resources_per_environment": self.resources,
                "checked": len(self.checked),
                "charts": list(self.charts),
            },
            "resources": list(self.records),
        }


def chart_of(catalog: Catalog, source: str) -> str:
    """``spotify-ai-agent/charts/postgresql-ha/templates/x.yaml`` → ``postgresql-ha``."""
    match = _SOURCE_CHART.match(source)
    return match.group(1) if match else catalog.umbrella


def validate_renderings(
    renderings: Sequence[Rendering], runner: Engine, crd_dir: Path | None, chart_for: Callable[[str], str]
) -> tuple[list[Diagnostic], list[Checked], list[dict[str, Any]]]:
    """Every rendering against its versions: one engine run per Kubernetes version for all of them.

    ``chart_for`` names the chart of a template path (or manifest file)."""
    jobs = [Job(r.resources, [str(v) for v in r.versions], environment=r.environment) for r in renderings]
    reports = validate_jobs(jobs, engine=runner, crd_dir=crd_dir)
    diagnostics = [replace(d, chart=chart_for(d.path)) for rep in reports for d in rep.to_diagnostics()]
    checked = [replace(c, chart=chart_for(c.path)) for rep in reports for c in rep.checked()]
    records = [
        {"chart": chart_for(rec["source"] or rec["file"]), "environment": rep.environment, **rec}
        for rep in reports
        for rec in rep.to_records()
    ]
    return diagnostics, checked, records


def _policy(
    catalog: Catalog,
    renderings: Sequence[Rendering],
    envs: Sequence[str],
    checkov: bool,
    charts: Sequence[str],
) -> PolicyResult:
    waivers = load_waivers(catalog.sources / "waivers.yaml", display="sources/waivers.yaml", missing_ok=True)
    units = []
    for env in envs:
        # policy does not depend on the Kubernetes version much; check the newest rendering
        rendering = max(
            (r for r in renderings if r.environment == env),
            key=lambda r: r.versions[-1],
            default=None,
        )
        if rendering is None:
            continue
        usable = tuple(r for r in rendering.resources if r.ok)  # parsed once, when rendered
        by_chart: dict[str, list[Manifest]] = {}
        for res in usable:
            by_chart.setdefault(chart_of(catalog, res.source), []).append(res)
        # the values file as written (keeps line numbers); each chart is scanned on its own section
        env_values = load_yaml(catalog.project.values_file(env)) or {}
        release_values = merge(umbrella_defaults(catalog), plain(env_values))  # as helm sees them
        for chart in (c for c in catalog.charts if c.name in charts):
            key = "global" if chart.is_umbrella else chart.name
            section = {key: env_values[key]} if isinstance(env_values.get(key), dict) else {}
            units.append(
                PolicyUnit(
                    tuple(by_chart.get(chart.name, [])), chart.name, env, str(rendering.versions[-1]),
                    catalog.umbrella, section, f"values/{env}.yaml",
                    context=usable,  # another chart's NetworkPolicy or PDB covers these pods too
                    release_values=release_values,
                )
            )  # fmt: skip
    return check_policy(units, waivers=waivers, checkov=checkov, charts=list(charts), environments=envs)


@contextlib.contextmanager
def _stop_on_failure(drifted: Future[list[Diagnostic]] | None, pool: ThreadPoolExecutor) -> Iterator[None]:
    """A drift check that fails (sources that do not compile) cancels the helm calls not started yet and is the error."""

    def stop(done: Future[list[Diagnostic]]) -> None:
        if done.exception() is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    if drifted is not None:
        drifted.add_done_callback(stop)
    try:
        yield
    except (CancelledError, RuntimeError):  # cancelled, or submitted after the shutdown
        failure = drifted.exception() if drifted is not None and drifted.done() else None
        if failure is not None:
            raise failure from None
        raise


def run_check(
    root: Path | str = ".",
    *,
    stages: Sequence[Stage] = ALL_STAGES,
    environments: Sequence[str] | None = None,
    kubernetes_versions: Sequence[str] | None = None,
    helm: str | None = None,
    engine: EngineName = "auto",
    checkov: bool = False,
    jobs: int | None = None,
    charts: Sequence[str] | None = None,
    shard: Shard | None = None,
    progress: Listener | None = None,
    cache: bool = True,
    catalog: Catalog | None = None,
) -> CheckResult:
    """The matrix (``charts``: a subset, ``shard``: one shard's cells) over the built catalog; raises on tool failures only."""
    catalog = catalog or load_catalog(root)  # ``catalog``: already loaded from ``root`` by the caller
    envs = tuple(environments or catalog.environments)
    for version in kubernetes_versions or ():
        try:
            normalize_version(version)
        except UserError as exc:  # same exit code as `validate -k`: a bad option is a usage error
            raise UsageError(exc.message, key="--kubernetes-version", hint=exc.hint) from None
    versions = tuple(KubeVersion.parse(v) for v in kubernetes_versions or ()) or catalog.kubernetes_versions
    for env in envs:
        if env not in catalog.environments:
            raise UsageError(f"unknown environment '{env}'", hint=did_you_mean(env, catalog.environments))
    jobs = jobs or os.cpu_count() or 2
    helms = [find_helm(helm, root=catalog.root)] if helm else (find_helms(root=catalog.root)
                                                                 or [find_helm(root=catalog.root)])  # fmt: skip
    names = tuple(c.name for c in catalog.charts if charts is None or c.name in charts)
    names_all = tuple(c.name for c in catalog.charts)
    plan, cells, matrix = plan_run(catalog, names, envs, versions, [h.version for h in helms], stages, shard)
    diagnostics: list[Diagnostic] = []
    checked: list[Checked] = []
    resources = 0
    records: list[dict[str, Any]] = []
    engine_used = ""
    side = ThreadPoolExecutor(max_workers=1)  # the drift check compiles in Python while helm runs
    drifted = side.submit(drift, catalog, names, Tracker(progress, "build", 1)) if plan.drift else None
    side.shutdown(wait=False)
    with (
        assemble(
            catalog, linked=() if plan.charts == names_all else set(names_all) - set(plan.charts)
        ) as assembled,
        tempfile.TemporaryDirectory(prefix="chartforge-stubs-") as scratch,
        ThreadPoolExecutor(max_workers=jobs) as pool,
        _stop_on_failure(drifted, pool),
    ):
        store = ResultCache(default_root() if cache else None)  # unchanged cells are not run again
        key = stagecache.stages_key(store, catalog, assembled, helms[-1], engine, envs, plan, checkov, stages)
        hit = stagecache.load(store, key, plan, progress)
        # renders first: validation starts on them while the lint calls still run in the pool
        tracker = Tracker(progress, "render", len(plan.renders)) if plan.renders and not hit else None
        stubber = Stubber(
            catalog, assembled, store, Path(scratch)
        )  # facts and trees shared by lint and render
        stubs = RenderStubs(stubber, helms[-1]) if store.root is not None else None
        render_futures = (
            submit_renders(pool, catalog, helms[-1], assembled, plan.renders, tracker, stubs, plan.charts)
            if tracker
            else []
        )
        lint_futures, lint_checked = submit_lint(
            pool, catalog, helms, assembled, envs, plan, progress, jobs, store, Path(scratch), stubber
        )
        if hit:
            diagnostics, checked, records, resources, engine_used = [*diagnostics, *hit.diagnostics], hit.checked, hit.records, hit.resources, hit.engine  # fmt: skip
        if render_futures:
            first = len(diagnostics)
            renderings, failures = collect_renders(render_futures, catalog.umbrella)
            # a failed rendering is the validate cell's finding (a shard rendering it for policy only keeps quiet)
            diagnostics += [f for f in failures if "validate" not in stages or (f.environment, KubeVersion.parse(f.kubernetes_version)) in plan.validate]  # fmt: skip
            if plan.validate:
                tracker = Tracker(progress, "validate", 1)
                runner = make_engine(engine)
                wanted = [
                    replace(r, resources=tuple(m for m in r.resources if chart_of(catalog, m.source) in plan.charts),
                            versions=vs)
                    for r in renderings
                    if (vs := tuple(v for v in r.versions if (r.environment, v) in plan.validate))
                ]  # fmt: skip
                found, cases, records = validate_renderings(
                    wanted, runner, catalog.project.crds, lambda path: chart_of(catalog, path)
                )
                diagnostics += found
                checked += cases
                resources = max((len(r.resources) for r in wanted), default=0)
                engine_used = runner.name
                tracker.step(f"{len(plan.validate)} environment × Kubernetes version cell(s)")
            if plan.policy:
                tracker = Tracker(progress, "policy", 1)
                policy = _policy(catalog, renderings, envs, checkov, names)
                diagnostics += policy.diagnostics
                checked += policy.checked
                tracker.step(f"{len(names)} chart(s) × {len(envs)} environment(s)")
            stagecache.store(store, key, stagecache.StageResults(diagnostics[first:], checked, records, resources, engine_used))  # fmt: skip
        diagnostics += collect_lint(lint_futures)
        checked += lint_checked
    diagnostics = [*(drifted.result() if drifted else []), *diagnostics]
    return CheckResult(
        tuple(at_sources(diagnostics, catalog.root)), tuple(checked), envs, versions, tuple(h.version for h in helms), engine_used, resources,
        records=tuple(records), checkov=checkov and bool(plan.policy), charts=names, shard=str(shard or ""),
        matrix=matrix, cells=cells,
    )  # fmt: skip
