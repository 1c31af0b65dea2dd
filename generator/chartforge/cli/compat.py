"""``chartforge upgrade-check`` and ``chartforge semver``: release safety of one change."""

from __future__ import annotations

from pathlib import Path

import typer

from chartforge import report
from chartforge.cli._app import OutputFormat, app, emit_json, err
from chartforge.compat import RULES, Rendering, chart_semver, load_input, upgrade_check
from chartforge.diagnostics import findings_to_dict
from chartforge.errors import EXIT_FINDINGS
from chartforge.tools import find_helm

_OUT = typer.Option(OutputFormat.text, "--output", "-o", help="text or json.")


def _print_rules() -> None:
    for rule in RULES:
        err(f"{rule.id}  {rule.title}\n    why: {rule.why}\n    fix: {rule.fix}\n    ref: {rule.reference}")


@app.command("upgrade-check")
def upgrade_check_cmd(
    old: list[Path] = typer.Option(
        [],
        "--from",
        help="Rendered manifests of the installed release (file or "
        "directory of multi-document YAML); repeatable.",
    ),
    new: list[Path] = typer.Option([], "--to", help="Rendered manifests of the new release; repeatable."),
    output: OutputFormat = _OUT,
    junit: Path | None = typer.Option(None, "--junit", help="Also write a JUnit XML report here."),
    rules: bool = typer.Option(False, "--rules", help="List the rules (id, why, fix, reference) and exit."),
) -> None:
    """Report every change `helm upgrade` from --from to --to is refused for or loses data with.

    Exit 0 when there is no unwaived finding, 1 otherwise.
    """
    if rules:
        if output is OutputFormat.json:
            emit_json({"rules": [r.to_dict() for r in RULES]})
        else:
            _print_rules()
        return
    if not old or not new:
        raise typer.BadParameter("both --from and --to are required", param_hint="--from/--to")
    findings = upgrade_check(Rendering.from_paths(old, "--from"), Rendering.from_paths(new, "--to"))
    if junit is not None:
        report.write_junit(junit, findings, name="chartforge upgrade-check")
    if output is OutputFormat.json:
        emit_json(findings_to_dict(findings))
    else:
        for d in findings:
            extra = dict(d.extra)
            ns = f"{extra['namespace']}/" if extra.get("namespace") else ""
            err(f"{d.code} {d.kind} {ns}{d.name} {d.field}: {extra['change']}\n"
                f"    why: {d.message.split(': ', 1)[-1]}\n    fix: {extra['fix']}")  # fmt: skip
        err(f"upgrade-check: {report.summary_line(findings)}")
    if any(not d.waived for d in findings):
        raise typer.Exit(EXIT_FINDINGS)


@app.command("semver")
def semver_cmd(
    old: Path = typer.Option(
        ..., "--from", help="values.schema.json, chart directory or packaged .tgz (released)."
    ),
    new: Path = typer.Option(..., "--to", help="The same, for the new version."),
    helm: str | None = typer.Option(
        None, "--helm", help="helm binary used to render charts (upgrade-check)."
    ),
    output: OutputFormat = _OUT,
) -> None:
    """Print the smallest version bump going from --from to --to needs: major, minor, patch or none."""
    before, after = load_input(old), load_input(new)
    charts = before.kind != "schema" and after.kind != "schema"
    result = chart_semver(before, after, helm=find_helm(helm) if charts else None)
    if output is OutputFormat.json:
        emit_json(result.to_dict())
        return
    typer.echo(result.required)
    for reason in result.reasons:
        err(f"  {reason.level:<5}  {reason.path}: {reason.message}")
