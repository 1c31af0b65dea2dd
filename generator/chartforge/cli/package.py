"""``chartforge package`` — byte-reproducible ``dist/<chart>-<version>.tgz`` + ``SHA256SUMS``."""

from __future__ import annotations

import os
from pathlib import Path

import typer

from chartforge.cli._app import OutputFormat, app, emit_json, emit_line, state
from chartforge.cli.select import ChangedSinceOpt, ChartOpt, names, selected
from chartforge.errors import UsageError
from chartforge.package import Signer, package_charts
from chartforge.project import Project
from chartforge.stale import require_fresh

PASSPHRASE_ENV = "CHARTFORGE_SIGNING_PASSPHRASE"


def signer_from_options(sign: bool, key: Path | None) -> Signer | None:
    if key is not None and not sign:
        raise UsageError("--key is only used with --sign")
    if not sign:
        return None
    if key is None:
        raise UsageError(
            "--sign needs --key FILE", hint="an exported secret key: gpg --export-secret-keys KEYID"
        )
    return Signer(key, os.environ.get(PASSPHRASE_ENV) or None)


@app.command("package")
def package_cmd(
    out: Path | None = typer.Option(None, "--out", help="Output directory (default: ROOT/dist)."),
    charts: Path | None = typer.Option(None, "--charts", help="Charts directory (default: ROOT/charts)."),
    sign: bool = typer.Option(False, "--sign", help="Write a .prov beside each archive (helm verify)."),
    key: Path | None = typer.Option(
        None, "--key", help=f"Exported OpenPGP secret key file for --sign (passphrase: ${PASSPHRASE_ENV})."
    ),
    output: OutputFormat = typer.Option(OutputFormat.text, "--output", "-o", help="text or json."),
    chart: list[str] = ChartOpt,
    changed_since: str | None = ChangedSinceOpt,
) -> None:
    """Package every chart (or the selected ones) into reproducible archives; the umbrella embeds its sub-charts."""
    only = names(selected(chart, changed_since))
    require_fresh(state.root, "package", charts=charts)
    result = package_charts(
        charts or Project(state.root).charts,
        out or Project(state.root).dist,
        signer=signer_from_options(sign, key),
        only=only,
    )
    if output is OutputFormat.json:
        emit_json(result.to_dict())
        return
    for packaged in result.charts:
        signed = " (signed)" if packaged.provenance else ""
        emit_line(f"{packaged.sha256}  {packaged.path}{signed}")
    emit_line(f"packaged {len(result.charts)} chart(s); checksums in {result.sums_file}")
