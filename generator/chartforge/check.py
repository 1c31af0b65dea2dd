"""``chartforge check``: lint, validate and policy over every chart × environment × Kubernetes version.

The matrix runs in one pass and collects every finding before deciding the exit code:

1. **drift** — ``charts/`` and ``values/`` must be what ``sources/`` produces;
2. **lint** — ``helm lint --strict`` per chart × environment × helm binary (3 and 4);
3. **render** — ``helm template`` of the umbrella per environment × Kubernetes version
   (the objects exactly as ``helm install -f values/<env>.yaml`` would create them);
   identical renderings across versions are parsed once;
4. **validate** — every object against each version's strict schema and the CRD schemas;
5. **policy** — the built-in checks (and optionally checkov) per chart and environment.

helm calls run in parallel across cores; nothing here prints.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal, get_args

from chartforge import codes
from chartforge import helm as helmcmd
from chartforge.compile.assemble import assemble, chart_values
from chartforge.compile.build import build
from chartforge.compile.catalog import Catalog, load_catalog
from chartforge.compile.envvalues import merge, umbrella_defaults
from chartforge.diagnostics import Checked, Diagnostic, has_errors
from chartforge.errors import ToolError, ToolNotFound, UsageError, UserError
from chartforge.kube import KubeVersion, spelled
from chartforge.lint import LintTarget, lint_chart
from chartforge.policy import CheckovBatch, load_waivers, run_checkov, run_policy, stale_waivers
from chartforge.progress import Listener, Tracker
from chartforge.shard import Cell, Plan, Shard, plan_run
from chartforge.tools import Helm, find_helm, find_helms
from chartforge.validate import manifests as vmanifests
from chartforge.validate.api import Job, validate_jobs
from chartforge.validate.engine import EngineName, make_engine
from chartforge.validate.schemas import normalize_version
from chartforge.yamlio import load_yaml, plain

Stage = Literal["lint", "validate", "policy"]
ALL_STAGES: tuple[Stage, ...] = get_args(Stage)
_SOURCE_CHART = re.compile(r"^[^/]+/charts/([^/]+)/")


@dataclass(frozen=True)
class Rendering:
    environment: str
    versions: tuple[str, ...]  # the Kubernetes versions that produced exactly this text
    text: str
    resources: tuple[vmanifests.Resource, ...]  # parsed once, shared by validate and policy


@dataclass(frozen=True)
class CheckResult:
    diagnostics: tuple[Diagnostic, ...]
    checked: tuple[Checked, ...]
    environments: tuple[str, ...]
    kubernetes_versions: tuple[str, ...]
    helm_versions: tuple[str, ...]
    engine: str
    resources: int
    charts: tuple[str, ...] = ()  # the charts checked (``--chart``/``--changed-since``: a subset)
    shard: str = ""  # "I/N" when only one shard of the matrix ran
    matrix: str = ""  # the matrix id (shard.matrix_id over every cell, whichever shard ran)
    cells: tuple[Cell, ...] = ()  # the cells this run checked

    @property
    def failed(self) -> bool:
        return has_errors(self.diagnostics)


def chart_of(catalog: Catalog, source: str) -> str:
    """``spotify-ai-agent/charts/postgresql-ha/templates/x.yaml`` → ``postgresql-ha``."""
    match = _SOURCE_CHART.match(source)
    return match.group(1) if match else catalog.umbrella


def _drift(catalog: Catalog, charts: Sequence[str], tracker: Tracker) -> list[Diagnostic]:
    result = build(catalog.root, check=True, catalog=catalog)
    tracker.step("charts/ and values/ against sources/")
    mine = (*(f"charts/{c}/" for c in charts), "values/")
    return [
        Diagnostic("error", codes.BUILD_DRIFT, f"{c.kind} by `chartforge build`: generated files differ from sources/",
                   stage="build", path=c.path)
        for c in result.changes
        if len(charts) == len(catalog.charts) or c.path.startswith(mine)
    ]  # fmt: skip


RenderOutcome = tuple[str, str, "str | Diagnostic"]


def _submit_renders(
    pool: ThreadPoolExecutor, catalog: Catalog, helm: Helm, assembled: Path, pairs: Sequence[tuple[str, str]],
    tracker: Tracker,
) -> list[Future[RenderOutcome]]:  # fmt: skip
    umbrella = assembled / catalog.umbrella
    values = {env: catalog.project.values_file(env) for env, _ in pairs}

    def render(env: str, version: str) -> tuple[str, str, str | Diagnostic]:
        try:
            tracker.step(f"{env} × Kubernetes {version}")
            text = helmcmd.template(helm, umbrella, release=catalog.umbrella, values_files=[values[env]],
                                    kube_version=KubeVersion.parse(version).full, namespace=catalog.umbrella)  # fmt: skip
            return env, version, text
        except ToolNotFound:  # a missing helm stops the run; a failed template is a finding
            raise
        except ToolError as exc:
            return env, version, Diagnostic(
                "error", codes.RENDER_FAILED, exc.stderr.strip() or exc.message, stage="render",
                chart=catalog.umbrella, environment=env, kubernetes_version=version,
                path=f"values/{env}.yaml",
            )  # fmt: skip

    return [pool.submit(render, e, v) for e, v in pairs]


def _collect_renders(
    futures: Sequence[Future[RenderOutcome]], umbrella: str
) -> tuple[list[Rendering], list[Diagnostic]]:
    results = [f.result() for f in futures]
    failures = [r for _, _, r in results if isinstance(r, Diagnostic)]
    grouped: dict[tuple[str, str], list[str]] = {}
    for env, version, out in results:
        if isinstance(out, str):
            grouped.setdefault((env, out), []).append(version)
    renderings = [
        Rendering(
            env,
            tuple(vs),
            text,
            tuple(vmanifests.parse_manifest_text(text, f"<helm template {umbrella} {env}>")),
        )
        for (env, text), vs in grouped.items()
    ]
    return renderings, failures


def _submit_lint(
    pool: ThreadPoolExecutor, catalog: Catalog, helms: Sequence[Helm], assembled: Path, envs: Sequence[str],
    plan: Plan, listener: Listener | None,
) -> tuple[list[Future[list[Diagnostic]]], list[Checked]]:  # fmt: skip
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

    def lint(h: Helm, t: LintTarget) -> list[Diagnostic]:
        found = lint_chart(h, t)
        tracker.step(f"{t.chart} × {t.environment} × helm {h.version}")
        return found

    futures = [pool.submit(lint, h, t) for h, t in runs]
    checked = [Checked("lint", t.chart, t.environment, "", f"charts/{t.chart}", "Chart", f"{t.chart} (helm {h.version})")
               for h, t in runs]  # fmt: skip
    return futures, checked


def _collect_lint(futures: Sequence[Future[list[Diagnostic]]]) -> list[Diagnostic]:
    found = [d for f in futures for d in f.result()]
    return [replace(d, name=f"{d.chart} (helm {dict(d.extra).get('helm', '')})", kind="Chart") for d in found]


def _validate(
    catalog: Catalog, renderings: Sequence[Rendering], engine: EngineName, plan: Plan
) -> tuple[list[Diagnostic], list[Checked], int]:
    """Every rendering against its versions: one engine run per Kubernetes version for the whole matrix."""
    jobs = [Job([res for res in r.resources if chart_of(catalog, res.source) in plan.charts], vs, environment=r.environment)
            for r in renderings if (vs := [v for v in r.versions if (r.environment, v) in plan.validate])]  # fmt: skip
    reports = validate_jobs(jobs, engine=engine, crd_dir=catalog.sources / "crds")
    diagnostics = [
        replace(d, chart=chart_of(catalog, d.path)) for rep in reports for d in rep.to_diagnostics()
    ]
    checked = [replace(c, chart=chart_of(catalog, c.path)) for rep in reports for c in rep.checked()]
    return diagnostics, checked, max((len(j.resources) for j in jobs), default=0)


def _policy(
    catalog: Catalog, renderings: Sequence[Rendering], envs: Sequence[str], checkov: bool, charts: Sequence[str]
) -> tuple[list[Diagnostic], list[Checked]]:  # fmt: skip
    waivers = load_waivers(catalog.sources / "waivers.yaml", display="sources/waivers.yaml", missing_ok=True)
    diagnostics: list[Diagnostic] = []
    checked: list[Checked] = []
    batches = []
    for env in envs:
        # policy does not depend on the Kubernetes version much; check the newest rendering
        rendering = max(
            (r for r in renderings if r.environment == env),
            key=lambda r: KubeVersion.parse(r.versions[-1]),
            default=None,
        )
        if rendering is None:
            continue
        usable = [r for r in rendering.resources if r.ok]  # parsed once, when rendered
        by_chart: dict[str, list[vmanifests.Resource]] = {}
        for res in usable:
            by_chart.setdefault(chart_of(catalog, res.source), []).append(res)
        # the values file as written (keeps line numbers); each chart is scanned on its own section
        env_values = load_yaml(catalog.project.values_file(env)) or {}
        release_values = merge(umbrella_defaults(catalog), plain(env_values))  # as helm sees them
        for chart in (c for c in catalog.charts if c.name in charts):
            objects = by_chart.get(chart.name, [])
            key = "global" if chart.is_umbrella else chart.name
            section = {key: env_values[key]} if isinstance(env_values.get(key), dict) else {}
            diagnostics += run_policy(
                objects, chart=chart.name, environment=env, kubernetes_version=rendering.versions[-1],
                values=section, waivers=waivers, namespace=catalog.umbrella, values_path=f"values/{env}.yaml",
                context=usable,  # another chart's NetworkPolicy or PDB covers these pods too
                release_values=release_values,
            )  # fmt: skip
            checked += [Checked("policy", chart.name, env, rendering.versions[-1], r.source, r.kind, r.name)
                        for r in objects]  # fmt: skip
            if checkov and objects:
                batches.append(
                    CheckovBatch(objects, chart.name, env, rendering.versions[-1], catalog.umbrella)
                )
    if batches:
        diagnostics += run_checkov(batches, waivers=waivers)
    diagnostics += stale_waivers(waivers, diagnostics, checkov=checkov,
                                 charts=list(charts), environments=list(envs))  # fmt: skip
    return diagnostics, checked


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
) -> CheckResult:
    """The matrix (``charts``: a subset, ``shard``: one shard's cells) over the built catalog; raises on tool failures only."""
    catalog = load_catalog(root)
    envs = tuple(environments or catalog.environments)
    for version in kubernetes_versions or ():
        try:
            normalize_version(version)
        except UserError as exc:  # same exit code as `validate -k`: a bad option is a usage error
            raise UsageError(exc.message, key="--kubernetes-version", hint=exc.hint) from None
    versions = tuple(spelled(v) for v in kubernetes_versions or catalog.kubernetes_versions)
    for env in envs:
        if env not in catalog.environments:
            raise UsageError(f"unknown environment '{env}'", hint="one of " + ", ".join(catalog.environments))
    jobs = jobs or os.cpu_count() or 2
    helms = [find_helm(helm, root=catalog.root)] if helm else (find_helms(root=catalog.root)
                                                                 or [find_helm(root=catalog.root)])  # fmt: skip
    names = tuple(c.name for c in catalog.charts if charts is None or c.name in charts)
    plan, cells, matrix = plan_run(catalog, names, envs, versions, [h.version for h in helms], stages, shard)
    diagnostics = _drift(catalog, names, Tracker(progress, "build", 1)) if plan.drift else []
    checked: list[Checked] = []
    resources = 0
    engine_used = ""
    with assemble(catalog) as assembled, ThreadPoolExecutor(max_workers=jobs) as pool:
        # renders first: validation starts on them while the lint calls still run in the pool
        tracker = Tracker(progress, "render", len(plan.renders)) if plan.renders else None
        render_futures = (
            _submit_renders(pool, catalog, helms[-1], assembled, plan.renders, tracker) if tracker else []
        )
        lint_futures, lint_checked = _submit_lint(pool, catalog, helms, assembled, envs, plan, progress)
        if render_futures:
            renderings, failures = _collect_renders(render_futures, catalog.umbrella)
            # a failed rendering is the validate cell's finding (a shard rendering it for policy only keeps quiet)
            diagnostics += [f for f in failures if "validate" not in stages or (f.environment, f.kubernetes_version) in plan.validate]  # fmt: skip
            if plan.validate:
                tracker = Tracker(progress, "validate", 1)
                found, cases, resources = _validate(catalog, renderings, engine, plan)
                diagnostics, checked, engine_used = (
                    diagnostics + found,
                    checked + cases,
                    make_engine(engine).name,
                )
                tracker.step(f"{len(plan.validate)} environment × Kubernetes version cell(s)")
            if plan.policy:
                tracker = Tracker(progress, "policy", 1)
                found, cases = _policy(catalog, renderings, envs, checkov, names)
                diagnostics, checked = diagnostics + found, checked + cases
                tracker.step(f"{len(names)} chart(s) × {len(envs)} environment(s)")
        diagnostics += _collect_lint(lint_futures)
        checked += lint_checked
    return CheckResult(tuple(diagnostics), tuple(checked), envs, versions, tuple(h.version for h in helms),
                       engine_used, resources, names, str(shard or ""), matrix, cells)  # fmt: skip
