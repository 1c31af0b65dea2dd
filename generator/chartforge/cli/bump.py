"""``chartforge bump CHART [major|minor|patch|auto]``: raise versions in sources/, dependents too, rebuild."""

from __future__ import annotations

import typer

from chartforge.build import build
from chartforge.catalog import load_catalog
from chartforge.cli._app import OutputFormat, app, emit_json, err, state
from chartforge.compat.bump import apply_bump, plan_bump

LEVEL_HELP = "major, minor, patch, or auto (the level `semver` computes against --against)."


@app.command("bump")
def bump_cmd(
    chart: str = typer.Argument(..., help="Chart name (as in sources/catalog.yaml)."),
    level: str = typer.Argument("auto", help=LEVEL_HELP),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the new versions; change nothing."),
    output: OutputFormat = typer.Option(OutputFormat.text, "--output", "-o", help="text or json."),
) -> None:
    """Bump CHART's version in sources/charts/CHART/chart.yaml, every chart that embeds it, and rebuild."""
    catalog = load_catalog(state.root)
    plan = plan_bump(catalog, chart, level)  # type: ignore[arg-type]
    if not dry_run:
        apply_bump(catalog, plan)
        build(state.root)
    if output is OutputFormat.json:
        emit_json({"bumped": [b.to_dict() for b in plan], "dry_run": dry_run})
        return
    for item in plan:
        err(f"{item.chart}: {item.old} → {item.new} ({item.level}, {item.reason}) in {item.path}")
