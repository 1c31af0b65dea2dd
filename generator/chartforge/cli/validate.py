"""``chartforge validate`` — strict schema validation of manifests on every Kubernetes version.

With ``--manifests PATH...`` (files, directories, ``-`` for stdin) it validates those. Without
it, it validates the built catalog (charts × environments × versions) through
:func:`chartforge.check.run_check`.
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import typer

from chartforge import report
from chartforge.check import run_check
from chartforge.cli._app import OutputFormat, app, emit_json, err, one_of, state
from chartforge.cli.check import finish
from chartforge.compile.catalog import load_catalog
from chartforge.diagnostics import Diagnostic
from chartforge.errors import EXIT_FINDINGS, UsageError, UserError
from chartforge.project import Project
from chartforge.validate import (
    ENGINE_NAMES,
    EngineName,
    ValidationReport,
    default_crd_dir,
    make_engine,
    normalize_version,
    supported_versions,
    validate_paths,
)


def _versions(requested: list[str]) -> list[str]:
    """Normalised versions (default: the catalog's range, else the newest supported one).

    An unsupported version is a usage error (exit 2).
    """
    if not requested:
        has_catalog = Project(state.root).has_catalog()
        requested = list(
            load_catalog(state.root).kubernetes_versions if has_catalog else supported_versions()[-1:]
        )
    try:
        return [normalize_version(v) for v in requested]
    except UserError as exc:
        raise UsageError(exc.message, key="--kubernetes-version", hint=exc.hint) from None


def _crd_dir(explicit: Path | None) -> Path | None:
    if explicit is not None:
        if not explicit.is_dir():
            raise UserError("CRD schema directory not found", path=explicit, key="--crd-dir")
        return explicit
    default = default_crd_dir(state.root)
    return default if default.is_dir() else None


def _records(reports: list[ValidationReport]) -> list[dict[str, object]]:
    return [
        {"chart": r.chart, "environment": r.environment, **rec} for r in reports for rec in r.to_records()
    ]


def _render_text(reports: list[ValidationReport], diagnostics: list[Diagnostic]) -> None:
    report.render_table(diagnostics)
    for rep in reports:
        c = rep.counts()
        where = " ".join(b for b in (rep.chart, rep.environment) if b)
        versions = ", ".join(rep.kubernetes_versions)
        err(
            f"{where + ': ' if where else ''}{c['resources']} resource(s) × Kubernetes {versions}"
            f" ({rep.engine}): {c['valid']} valid, {c['invalid']} invalid"
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
        help="Kubernetes version to validate against; repeatable. Default: the catalog's range "
        "(sources/catalog.yaml), else the newest one supported.",
    ),
    engine: str = typer.Option(
        "auto",
        "--engine",
        parser=one_of(ENGINE_NAMES),
        help="kubeconform, builtin, or auto (kubeconform when installed).",
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
    paths = [*manifests, *(more or [])]
    if not paths:  # the built catalog: every chart × environment × version, as `chartforge check` does it
        result = run_check(state.root, stages=("validate",), kubernetes_versions=kubernetes_version and versions,
                           engine=cast(EngineName, engine))  # fmt: skip
        finish(result, output, junit, "chartforge validate")
        return
    runner = make_engine(cast(EngineName, engine), kubeconform=kubeconform)
    reports = [validate_paths(paths, versions, engine=runner, crd_dir=_crd_dir(crd_dir))]
    if not any(rep.resources for rep in reports):
        raise UserError(
            "no Kubernetes objects to validate", path=", ".join(map(str, paths)),
            hint="pass rendered manifests (.yaml/.yml/.json files or folders holding them)",
        )  # fmt: skip
    diagnostics = [d for rep in reports for d in rep.to_diagnostics()]
    if junit is not None:
        checked = [c for rep in reports for c in rep.checked()]
        report.write_junit(junit, diagnostics, checked, name="chartforge validate")
    valid = all(rep.valid for rep in reports)
    if output is OutputFormat.json:
        emit_json(
            {
                "engine": runner.name,
                "kubernetes_versions": versions,
                "valid": valid,
                "resources": _records(reports),
                "summary": report.summarize(diagnostics),
            }
        )
    else:
        _render_text(reports, diagnostics)
    if not valid:
        raise typer.Exit(EXIT_FINDINGS)
