"""``chartforge build`` — compile sources/ into charts/ and values/ (``--check``: drift only)."""

from __future__ import annotations

import typer

from chartforge.cli._app import OutputFormat, app, emit_json, err, state
from chartforge.compile.build import build
from chartforge.errors import EXIT_FINDINGS


@app.command("build")
def build_cmd(
    check: bool = typer.Option(
        False, "--check", help="Write nothing; exit 1 listing every file that differs."
    ),
    output: OutputFormat = typer.Option(OutputFormat.text, "--output", "-o", help="text or json."),
) -> None:
    """Compile sources/ into charts/<chart>/ and values/<env>.yaml, atomically and deterministically."""
    result = build(state.root, check=check)
    if output is OutputFormat.json:
        emit_json(result.to_dict())
    else:
        for change in result.changes:
            err(f"{change.kind:>8}  {change.path}")
        if check:
            err(
                "up to date" if result.clean else f"drift: {len(result.changes)} file(s) differ from sources/"
            )
        else:
            err(f"built {len(result.files)} files" + ("" if result.written else " (no change)"))
    if check and not result.clean:
        raise typer.Exit(EXIT_FINDINGS)
