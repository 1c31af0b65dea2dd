"""``chartforge check`` and ``chartforge lint`` — the matrix gate over the built catalog."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import cast

import typer

from chartforge import report
from chartforge.check import ALL_STAGES, CheckResult, Stage, run_check
from chartforge.cli._app import OutputFormat, app, complete_env, emit_json, one_of, state
from chartforge.cli.progress import ProgressPrinter
from chartforge.cli.publish import CaFileOpt, PlainHttpOpt, StdinOpt, resolve_credentials
from chartforge.cli.select import ChangedSinceOpt, ChartOpt, names, selected
from chartforge.compat.run import with_compat
from chartforge.compile.catalog import load_catalog
from chartforge.errors import EXIT_FINDINGS, UsageError
from chartforge.shard import Shard
from chartforge.shardmerge import merge_reports, shard_dict
from chartforge.validate.engine import ENGINE_NAMES, EngineName

CHECK_STAGES = (*ALL_STAGES, "compat")  # compat: release safety, with --against
_ENV = typer.Option(
    [],
    "--env",
    "-e",
    autocompletion=complete_env,
    help="Environment(s) to check (default: all in the catalog).",
)
_KV = typer.Option(
    [], "--kubernetes-version", "-k", help="Kubernetes minor(s), e.g. 1.34 (default: catalog range)."
)
_HELM = typer.Option(
    None, "--helm", help="helm binary (default: every helm major found: helm3, helm4, helm)."
)
_OUT = typer.Option(OutputFormat.text, "--output", "-o", help="text (table) or json.")
_JUNIT = typer.Option(None, "--junit", help="Also write a JUnit XML report to this file.")
_JOBS = typer.Option(None, "--jobs", "-j", help="Parallel helm calls (default: CPU count).")
_NO_CACHE = typer.Option(
    False,
    "--no-cache",
    help="Run every cell again instead of reusing unchanged results (README: result cache).",
)


def finish(result: CheckResult, output: OutputFormat, junit: Path | None, title: str) -> None:
    """Present a check, lint, validate or policy result (text or JSON, and JUnit), exit 0 or 1 (findings)."""
    if junit is not None:
        report.write_junit(junit, result.diagnostics, result.checked, name=title)
    if output is OutputFormat.json:
        data = result.to_dict()
        if result.shard:
            data |= shard_dict(result)
        emit_json(data)
    else:
        title = f"{title} (shard {result.shard})" if result.shard else title
        report.render_result(result, title=title, stream=sys.stdout)
    if result.failed:
        raise typer.Exit(EXIT_FINDINGS)


@app.command("check")
def check_cmd(
    env: list[str] = _ENV,
    kubernetes_version: list[str] = _KV,
    helm: str = _HELM,
    engine: str = typer.Option(
        "auto", "--engine", parser=one_of(ENGINE_NAMES), help=" | ".join(ENGINE_NAMES)
    ),
    stage: list[str] = typer.Option(
        [], "--stage", parser=one_of(CHECK_STAGES), help="Only these stages: " + ", ".join(CHECK_STAGES)
    ),
    checkov: bool = typer.Option(
        False, "--checkov/--no-checkov", help="Also run checkov's Kubernetes checks."
    ),
    against: str | None = typer.Option(
        None,
        "--against",
        help="Compare every chart with its last release: oci://REGISTRY/NS or git:REF "
        "(release safety: version bumps, semver, upgrade-check).",
    ),
    plain_http: bool | None = PlainHttpOpt,
    ca_file: Path | None = CaFileOpt,
    password_stdin: bool = StdinOpt,
    output: OutputFormat = _OUT,
    junit: Path = _JUNIT,
    jobs: int = _JOBS,
    chart: list[str] = ChartOpt,
    changed_since: str | None = ChangedSinceOpt,
    shard: str | None = typer.Option(
        None,
        "--shard",
        metavar="I/N",
        help="Run shard I of N (CI matrix); merge with 'chartforge report merge'.",
    ),
    no_cache: bool = _NO_CACHE,
) -> None:
    """Lint, validate and policy-check every chart × environment × Kubernetes version in one pass.

    With --against, also compare each chart with its last published (oci://) or committed (git:REF)
    version (stage compat). Exit 0 clean, 1 findings, 3 when helm, kubeconform or the registry fails.
    """
    wanted = tuple(stage) or (*ALL_STAGES, *(("compat",) if against else ()))  # one_of checked the names
    if "compat" in wanted and not against:
        raise UsageError("stage compat needs --against oci://REGISTRY/NS or git:REF", key="--stage")
    stages = cast(tuple[Stage, ...], tuple(s for s in wanted if s != "compat"))
    part = Shard.parse(shard) if shard is not None else None
    catalog = load_catalog(state.root) if chart or changed_since is not None else None  # loaded once
    only = names(selected(chart, changed_since, catalog))
    progress = ProgressPrinter()
    try:
        result = run_check(state.root, stages=stages, environments=env, kubernetes_versions=kubernetes_version,
                           helm=helm, engine=cast(EngineName, engine), checkov=checkov, jobs=jobs, charts=only,
                           shard=part, progress=progress, cache=not no_cache, catalog=catalog)  # fmt: skip
    finally:
        progress.close()
    if against and (part is None or part.index == 1):  # compat runs once: in shard 1 of a sharded check
        result = with_compat(result, state.root, against, environments=env, helm=helm, plain_http=plain_http,
                             ca_file=ca_file, credentials=resolve_credentials(password_stdin))  # fmt: skip
    finish(result, output, junit, "chartforge check")


@app.command("lint")
def lint_cmd(
    env: list[str] = _ENV,
    helm: str = _HELM,
    output: OutputFormat = _OUT,
    junit: Path = _JUNIT,
    jobs: int = _JOBS,
    no_cache: bool = _NO_CACHE,
) -> None:
    """helm lint --strict for every chart × environment values file, with helm 3 and helm 4."""
    stages: tuple[Stage, ...] = ("lint",)
    result = run_check(state.root, stages=stages, environments=env, helm=helm, jobs=jobs, cache=not no_cache)
    finish(result, output, junit, "chartforge lint")


report_app = typer.Typer(help="Work with check reports.", no_args_is_help=True)
app.add_typer(report_app, name="report")


@report_app.command("merge")
def merge_cmd(
    reports: list[Path] = typer.Argument(
        ..., help="The JSON report of every shard (check --shard I/N -o json)."
    ),
    output: OutputFormat = _OUT,
    junit: Path = _JUNIT,
) -> None:
    """Combine the shards of one check into one result: exit 0 clean, 1 findings, 2 incomplete or mixed shards."""
    finish(merge_reports(reports), output, junit, "chartforge check")


__all__ = ["EngineName", "finish"]
