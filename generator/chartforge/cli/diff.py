"""``chartforge diff`` — rendered-manifest changes versus the versions in the registry."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from chartforge.cli._app import OutputFormat, app, complete_env, emit_json, err, state
from chartforge.cli.publish import (
    CaFileOpt,
    HelmOpt,
    PlainHttpOpt,
    RegistryOpt,
    RetriesOpt,
    StdinOpt,
    resolve_credentials,
    resolve_target,
)
from chartforge.cli.select import ChangedSinceOpt, ChartOpt, names, selected
from chartforge.errors import EXIT_FINDINGS
from chartforge.pipeline import diff_published
from chartforge.publish.helmreg import select_helm
from chartforge.publish.retry import RetryPolicy
from chartforge.stale import require_fresh


@app.command("diff")
def diff_cmd(
    env: list[str] = typer.Option(
        [], "--env", "-e", autocompletion=complete_env, help="Environment(s) from values/ (default: all)."
    ),
    registry: str | None = RegistryOpt,
    plain_http: bool | None = PlainHttpOpt,
    ca_file: Path | None = CaFileOpt,
    password_stdin: bool = StdinOpt,
    helm: str | None = HelmOpt,
    retries: int = RetriesOpt,
    exit_code: bool = typer.Option(False, "--exit-code", help="Exit 1 when anything differs."),
    output: OutputFormat = typer.Option(OutputFormat.text, "--output", "-o", help="text or json."),
    chart: list[str] = ChartOpt,
    changed_since: str | None = ChangedSinceOpt,
) -> None:
    """Per chart and environment: unified diff of `helm template`, local vs latest published."""
    only = names(selected(chart, changed_since))
    require_fresh(state.root, "diff")
    target = resolve_target(registry, plain_http, ca_file)
    credentials = resolve_credentials(password_stdin)
    result = diff_published(
        state.root, target, select_helm(target, helm), environments=env, credentials=credentials,
        retry=RetryPolicy(attempts=retries), charts=only,
    )  # fmt: skip
    if output is OutputFormat.json:
        emit_json(result.to_dict())
    else:
        for item in result.diffs:
            where = f"{item.chart}" + (f" ({item.environment})" if item.environment else "")
            if item.remote_version is None:
                err(f"{where}: not published yet; everything is new")
            elif not item.changed:
                err(f"{where}: no change against {item.remote_version}")
            sys.stdout.write(item.diff)
    if exit_code and result.changed:
        raise typer.Exit(EXIT_FINDINGS)
