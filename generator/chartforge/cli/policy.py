"""``chartforge policy`` — policy checks (Pod Security "restricted", resources, probes, PDB,
NetworkPolicy, images, secrets) and checkov on rendered manifests, with waivers."""

from __future__ import annotations

from pathlib import Path

import typer

from chartforge.check import run_check
from chartforge.checkfiles import policy_files
from chartforge.cli._app import OutputFormat, app, state
from chartforge.cli.check import finish
from chartforge.kube import KubeVersion
from chartforge.policy.waivers import load_waivers
from chartforge.project import Project


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
    result = policy_files(inputs, waivers=loaded, checkov=checkov, chart=chart, environment=environment,
                          kubernetes_version=KubeVersion.parse(kubernetes_version) if kubernetes_version else None, namespace=namespace, values_file=values)  # fmt: skip
    finish(result, output, junit, "chartforge policy")
