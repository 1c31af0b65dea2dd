"""``chartforge validate`` — strict schema validation of manifests on every Kubernetes version.

With ``--manifests PATH...`` (files, directories, ``-`` for stdin) it validates those
(:func:`chartforge.checkfiles.validate_files`). Without it, it validates the built catalog
(charts × environments × versions) through :func:`chartforge.check.run_check`. Both report
alike (:func:`chartforge.cli.check.finish`).
"""

from __future__ import annotations

from pathlib import Path
from typing import cast

import typer

from chartforge.check import run_check
from chartforge.checkfiles import validate_files
from chartforge.cli._app import OutputFormat, app, one_of, state
from chartforge.cli.check import finish
from chartforge.compile.catalog import load_catalog
from chartforge.errors import UsageError, UserError
from chartforge.project import Project
from chartforge.validate import (
    ENGINE_NAMES,
    EngineName,
    default_crd_dir,
    make_engine,
    normalize_version,
    supported_versions,
)


def _versions(requested: list[str]) -> list[str]:
    """Normalised versions (default: the catalog's range, else the newest supported one).

    An unsupported version is a usage error (exit 2).
    """
    if not requested:
        has_catalog = Project(state.root).has_catalog()
        requested = (
            [str(v) for v in load_catalog(state.root).kubernetes_versions]
            if has_catalog
            else list(supported_versions()[-1:])
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
        OutputFormat.text, "--output", "-o", help="text or json (findings, and one record per resource)."
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
    finish(validate_files(paths, versions, engine=runner, crd_dir=_crd_dir(crd_dir)), output, junit,
           "chartforge validate")  # fmt: skip
