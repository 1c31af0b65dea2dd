"""``chartforge new NAME --kind stateless|stateful|library``: a chart skeleton in sources/, registered everywhere."""

from __future__ import annotations

import typer

from chartforge.cli._app import OutputFormat, app, emit_json, one_of, state
from chartforge.scaffold import KINDS, new_chart


@app.command("new")
def new_cmd(
    name: str = typer.Argument(..., help="Name of the new chart (lowercase letters, digits, '-')."),
    kind: str = typer.Option(
        "stateless",
        "--kind",
        parser=one_of(KINDS),
        help="stateless (Deployment, Service, Ingress, HPA, PDB, NetworkPolicy, ServiceMonitor) or "
        "stateful (StatefulSet with a volume per pod, headless + client Services, PDB, NetworkPolicy, ServiceMonitor) "
        "or library (named templates only, type: library).",
    ),
    output: OutputFormat = typer.Option(OutputFormat.text, "--output", "-o", help="text or json."),
) -> None:
    """Write sources/charts/NAME/ from a skeleton and add NAME to the catalog, the umbrella and every environment."""
    result = new_chart(state.root, name, kind)
    if output is OutputFormat.json:
        emit_json(result.to_dict())
        return
    lines = [f"installed {path} (bundled with chartforge; the skeleton uses it)" for path in result.installed]
    lines += [f"created {path}" for path in result.created]
    lines += [f"registered in {path}" for path in result.registered]
    lines += ["", f"next: chartforge build && chartforge check --chart {result.name}"]
    typer.echo("\n".join(lines))
