"""``chartforge validate`` — strict schema validation of manifests on every Kubernetes version.

With ``--manifests PATH...`` (files, directories, ``-`` for stdin) it validates those. Without
it, it is meant to validate the built catalog (charts × environments × versions): that is
:func:`_catalog_runs`, the one place to wire it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import typer

from chartforge import report
from chartforge.cli._app import OutputFormat, app, emit_json, err, state
from chartforge.diagnostics import Diagnostic
from chartforge.errors import EXIT_FINDINGS, UsageError, UserError
from chartforge.validate import (
    DEFAULT_KUBERNETES_VERSIONS,
    ValidationReport,
    default_crd_dir,
    make_engine,
    normalize_version,
    validate_paths,
)


class EngineChoice(StrEnum):
    auto = "auto"
    kubeconform = "kubeconform"
    builtin = "builtin"


@dataclass(frozen=True)
class Run:
    """One validation report and what it covered (chart/environment empty for plain manifests)."""

    report: ValidationReport
    chart: str = ""
    environment: str = ""


def _catalog_runs(root: Path, versions: list[str], engine: EngineChoice, crd_dir: Path | None) -> list[Run]:
    """Validate the built catalog: ``helm template`` per chart × environment, every version."""
    raise UsageError(
        "validating the built catalog is done by `chartforge check` for now",
        hint="pass --manifests PATH... (e.g. the output of `helm template`, or `-` for stdin)",
    )


def _versions(requested: list[str]) -> list[str]:
    """Normalised versions; an unsupported one is a usage error (exit 2)."""
    try:
        return [normalize_version(v) for v in requested or DEFAULT_KUBERNETES_VERSIONS]
    except UserError as exc:
        raise UsageError(exc.message, key="--kubernetes-version", hint=exc.hint) from None


def _crd_dir(explicit: Path | None) -> Path | None:
    if explicit is not None:
        if not explicit.is_dir():
            raise UserError("CRD schema directory not found", path=explicit, key="--crd-dir")
        return explicit
    default = default_crd_dir(state.root)
    return default if default.is_dir() else None


def _records(runs: list[Run]) -> list[dict[str, object]]:
    return [
        {"chart": run.chart, "environment": run.environment, **rec}
        for run in runs
        for rec in run.report.to_records()
    ]


def _render_text(runs: list[Run], diagnostics: list[Diagnostic]) -> None:
    report.render_table(diagnostics)
    for run in runs:
        c = run.report.counts()
        where = " ".join(b for b in (run.chart, run.environment) if b)
        versions = ", ".join(v.rsplit(".", 1)[0] for v in run.report.kubernetes_versions)
        err(
            f"{where + ': ' if where else ''}{c['resources']} resource(s) × Kubernetes {versions}"
            f" ({run.report.engine}): {c['valid']} valid, {c['invalid']} invalid"
        )


@app.command("validate")
def validate_cmd(
    manifests: list[Path] = typer.Option(
        [],
        "--manifests",
        "-m",
        help="Manifest file or directory (multi-document YAML; '-' = stdin). Repeatable.",
    ),
    more: list[Path] = typer.Argument(
        None, help="More manifest paths (so `--manifests a.yaml b/` works).", show_default=False
    ),
    kubernetes_version: list[str] = typer.Option(
        [],
        "--kubernetes-version",
        "-k",
        help=f"Kubernetes version to validate against; repeatable. Default: {', '.join(DEFAULT_KUBERNETES_VERSIONS)}.",
    ),
    engine: EngineChoice = typer.Option(
        EngineChoice.auto, "--engine", help="kubeconform, builtin, or auto (kubeconform when installed)."
    ),
    crd_dir: Path | None = typer.Option(
        None, "--crd-dir", help="CRD schemas {group}/{kind}_{version}.json [default: <root>/sources/crds]"
    ),
    kubeconform: str | None = typer.Option(
        None, "--kubeconform", help="kubeconform binary (else KUBECONFORM, PATH)."
    ),
    output: OutputFormat = typer.Option(
        OutputFormat.text, "--output", "-o", help="text or json (one record per resource)."
    ),
    junit: Path | None = typer.Option(None, "--junit", help="Also write a JUnit XML report here."),
) -> None:
    """Validate manifests strictly (unknown fields are errors) against core and CRD schemas.

    Exit 0 when every resource is valid on every version, 1 when any is not, 3 when
    kubeconform fails.
    """
    versions = _versions(kubernetes_version)
    crds = _crd_dir(crd_dir)
    paths = [*manifests, *(more or [])]
    if paths:
        runner = make_engine(engine.value, kubeconform=kubeconform)
        runs = [Run(validate_paths(paths, versions, engine=runner, crd_dir=crds))]
    else:
        runs = _catalog_runs(state.root, versions, engine, crds)
    diagnostics = [
        d for run in runs for d in run.report.to_diagnostics(chart=run.chart, environment=run.environment)
    ]
    if junit is not None:
        checked = [
            c for run in runs for c in run.report.checked(chart=run.chart, environment=run.environment)
        ]
        report.write_junit(junit, diagnostics, checked, name="chartforge validate")
    if output is OutputFormat.json:
        first = runs[0].report if runs else None
        emit_json(
            {
                "engine": first.engine if first else engine.value,
                "kubernetes_versions": list(first.kubernetes_versions) if first else versions,
                "valid": all(run.report.valid for run in runs),
                "resources": _records(runs),
                "summary": report.summarize(diagnostics),
            }
        )
    else:
        _render_text(runs, diagnostics)
    if not all(run.report.valid for run in runs):
        raise typer.Exit(EXIT_FINDINGS)
