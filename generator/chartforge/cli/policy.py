"""``chartforge policy`` — policy checks (Pod Security "restricted", resources, probes, PDB,
NetworkPolicy, images, secrets) and checkov on rendered manifests, with waivers."""

from __future__ import annotations

from pathlib import Path

import typer

from chartforge.check import run_check
from chartforge.cli._app import OutputFormat, app, emit_json, err, state
from chartforge.cli.check import finish
from chartforge.diagnostics import Checked
from chartforge.errors import EXIT_FINDINGS, UserError
from chartforge.policy.stage import PolicyResult, check_manifest_files
from chartforge.policy.waivers import load_waivers
from chartforge.project import Project
from chartforge.report import render_table, to_json, write_junit


def _checked(result: PolicyResult, chart: str, environment: str, version: str) -> list[Checked]:
    """Every object checked is a JUnit test case, passing when it has no finding."""
    return [
        Checked("policy", chart, environment, version, m.source or m.file, m.kind, m.name)
        for m in result.manifests
    ]


@app.command("policy")
def policy_cmd(
    paths: list[Path] = typer.Argument(None, help="More manifest files or directories.", show_default=False),
    manifests: list[Path] = typer.Option(
        [], "--manifests", "-m", help="Rendered manifests: files or directories of YAML (repeatable)."
    ),
    waivers: Path | None = typer.Option(
        None, "--waivers", help="Waivers file (default: sources/waivers.yaml under --root, if present)."
    ),
    checkov: bool = typer.Option(True, "--checkov/--no-checkov", help="Also run checkov's k8s checks."),
    chart: str = typer.Option("", "--chart", help="Chart name to report (and to match waivers)."),
    environment: str = typer.Option("", "--environment", "-e", help="Environment (reports, waivers)."),
    kubernetes_version: str = typer.Option("", "--kubernetes-version", help="Rules of this version (1.34)."),
    namespace: str = typer.Option("", "--namespace", help="Release namespace of objects that set none."),
    values: Path | None = typer.Option(None, "--values", help="Values file to scan for secret material."),
    output: OutputFormat = typer.Option(OutputFormat.text, "--output", "-o", help="text or json."),
    junit: Path | None = typer.Option(None, "--junit", help="Also write a JUnit XML report here."),
) -> None:
    """Check rendered manifests (or, without --manifests, the built catalog) against the policy.

    Exit 1 on any finding no waiver covers.
    """
    inputs = [*manifests, *(paths or [])]
    if not inputs:  # the built catalog: every chart × environment, as `chartforge check` does it
        envs = [environment] if environment else None
        finish(run_check(state.root, stages=("policy",), environments=envs, checkov=checkov), output, junit,
               "chartforge policy")  # fmt: skip
        return
    waivers_file = waivers or Project(state.root).waivers_file
    loaded = load_waivers(waivers_file, missing_ok=waivers is None)
    result = check_manifest_files(
        inputs,
        waivers=loaded,
        checkov=checkov,
        chart=chart,
        environment=environment,
        kubernetes_version=kubernetes_version,
        namespace=namespace,
        values_file=values,
    )
    if not result.manifests:
        raise UserError(
            "no Kubernetes objects to check", path=", ".join(map(str, inputs)),
            hint="pass rendered manifests (.yaml/.yml/.json files or folders holding them)",
        )  # fmt: skip
    diagnostics = list(result.diagnostics)
    if junit is not None:
        checked = _checked(result, chart, environment, kubernetes_version)
        write_junit(junit, diagnostics, checked, name="chartforge policy")
    if output is OutputFormat.json:
        emit_json({**to_json(diagnostics), "objects": len(result.manifests), "checkov": checkov})
    else:
        render_table(diagnostics)
        err(f"{len(result.manifests)} objects checked" + ("" if checkov else " (checkov skipped)"))
    if result.failed:
        raise typer.Exit(EXIT_FINDINGS)
