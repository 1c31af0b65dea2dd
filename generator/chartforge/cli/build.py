"""``chartforge build`` — compile sources/ into charts/ and values/ (``--check``: drift only)."""

from __future__ import annotations

from dataclasses import replace

import typer

from chartforge.cli._app import OutputFormat, app, emit_json, emit_line, state
from chartforge.cli.select import ChangedSinceOpt, ChartOpt, selected
from chartforge.compile.build import build
from chartforge.errors import EXIT_FINDINGS, UsageError


@app.command("build")
def build_cmd(
    check: bool = typer.Option(
        False, "--check", help="Write nothing; exit 1 listing every file that differs."
    ),
    output: OutputFormat = typer.Option(OutputFormat.text, "--output", "-o", help="text or json."),
    chart: list[str] = ChartOpt,
    changed_since: str | None = ChangedSinceOpt,
) -> None:
    """Compile sources/ into charts/<chart>/ and values/<env>.yaml, atomically and deterministically.

    With ``--check``, ``--chart``/``--changed-since`` report only the drift of the selected charts
    (and of values/, which every chart shares); a build always compiles the whole catalog.
    """
    if (chart or changed_since is not None) and not check:
        raise UsageError("--chart and --changed-since apply to 'build --check' only; a build is always whole")
    selection = selected(chart, changed_since)
    result = build(state.root, check=check)
    if selection is not None:
        mine = (*(f"charts/{c}/" for c in selection.charts), "values/")
        result = replace(result, changes=tuple(c for c in result.changes if c.path.startswith(mine)))
    if output is OutputFormat.json:
        emit_json(result.to_dict())
    else:
        for change in result.changes:
            emit_line(f"{change.kind:>8}  {change.path}")
        if check:
            emit_line(
                "up to date" if result.clean else f"drift: {len(result.changes)} file(s) differ from sources/"
            )
        else:
            emit_line(f"built {len(result.files)} files" + ("" if result.written else " (no change)"))
    if check and not result.clean:
        raise typer.Exit(EXIT_FINDINGS)
