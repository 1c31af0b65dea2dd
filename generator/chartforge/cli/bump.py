"""``chartforge bump CHART [major|minor|patch|auto]``: raise versions in sources/, dependents too, rebuild."""

from __future__ import annotations

from pathlib import Path

import typer

from chartforge.cli._app import OutputFormat, app, complete_chart, emit_json, emit_line, state
from chartforge.cli.publish import CaFileOpt, PlainHttpOpt, StdinOpt, resolve_credentials
from chartforge.compat.bump import apply_bump, plan_bump
from chartforge.compat.run import run_compat
from chartforge.compile.build import build
from chartforge.compile.catalog import load_catalog
from chartforge.errors import UsageError, UserError

LEVEL_HELP = "major, minor, patch, or auto (the level the changes since the last release need)."


@app.command("bump")
def bump_cmd(
    chart: str = typer.Argument(
        ..., autocompletion=complete_chart, help="Chart name (as in sources/catalog.yaml)."
    ),
    level: str = typer.Argument("auto", help=LEVEL_HELP),
    against: str | None = typer.Option(
        None,
        "--against",
        help="Last release to compare with: oci://REGISTRY/NS or git:REF (default for "
        "auto: the catalog's registry.url). Versions then go up from the released ones.",
    ),
    plain_http: bool | None = PlainHttpOpt,
    ca_file: Path | None = CaFileOpt,
    password_stdin: bool = StdinOpt,
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the new versions; change nothing."),
    output: OutputFormat = typer.Option(OutputFormat.text, "--output", "-o", help="text or json."),
) -> None:
    """Bump CHART's version in sources/charts/CHART/chart.yaml, every chart that embeds it, and rebuild."""
    catalog = load_catalog(state.root)
    name = catalog.chart(chart).name
    if level not in ("major", "minor", "patch", "auto"):
        raise UsageError(f"unknown level '{level}'", hint="major, minor, patch or auto")
    released = None
    if level == "auto" and not against:
        against = catalog.registry.url or None
        if against is None:
            raise UsageError(
                "auto needs --against oci://REGISTRY/NS or git:REF (the catalog has no registry.url)"
            )
    why = "requested"
    if against:
        found = run_compat(state.root, against, plain_http=plain_http, ca_file=ca_file,
                           credentials=resolve_credentials(password_stdin))  # fmt: skip
        released = {n: r.version for n, r in found.released.items()}
        if level == "auto":
            if name not in found.required:
                raise UserError(f"{name} was never released to {against}", hint="pick major, minor or patch")
            level = found.required[name].required
            why = f"what the changes since {against} need"
            if level == "none":
                raise UserError(f"{name}: nothing changed since {against} (version {released[name]})")
    plan = plan_bump(catalog, name, level, released, why)  # type: ignore[arg-type]
    if not dry_run and plan:
        apply_bump(catalog, plan)
        build(state.root)
    if output is OutputFormat.json:
        emit_json({"bumped": [b.to_dict() for b in plan], "dry_run": dry_run})
        return
    for item in plan:
        emit_line(f"{item.chart}: {item.old} → {item.new} ({item.level}, {item.reason}) in {item.path}")
    if not plan:
        emit_line(f"{name} and its dependents are already bumped enough since {against}")
