"""The validate stage's entry points: resources (or a manifest string) × versions → report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from chartforge.validate.engine import Engine, EngineName, make_engine
from chartforge.validate.manifests import Resource, load_manifests, parse_manifest_text
from chartforge.validate.results import ResourceResult, ValidationReport, results_sorted, unparsable_result
from chartforge.validate.schemas import SchemaStore, normalize_version, version_key

# The range the catalog supports; the standalone command checks all of it by default.
DEFAULT_KUBERNETES_VERSIONS: tuple[str, ...] = ("1.31", "1.32", "1.33", "1.34", "1.35", "1.36", "1.37")


def default_crd_dir(root: Path) -> Path:
    return root / "sources" / "crds"


def validate_resources(
    resources: Sequence[Resource],
    versions: Sequence[str] = DEFAULT_KUBERNETES_VERSIONS,
    *,
    engine: EngineName | Engine = "auto",
    crd_dir: Path | None,
    cache_root: Path | None = None,
    kubeconform: str | None = None,
) -> ValidationReport:
    """Validate already-parsed ``resources`` against every version in ``versions``.

    Documents that are not Kubernetes objects (YAML errors, no ``kind``…) are invalid on
    every version without reaching an engine. Raises ``UserError`` for an unsupported
    version, ``ToolError`` when kubeconform fails.
    """
    normalized = tuple(sorted({normalize_version(v) for v in versions}, key=version_key))
    runner = make_engine(engine, kubeconform=kubeconform) if isinstance(engine, str) else engine
    stores = [SchemaStore(v, crd_dir=crd_dir, cache_root=cache_root) for v in normalized]
    good = [r for r in resources if r.ok]
    results: list[ResourceResult] = runner.validate(good, stores) if good else []
    results += [unparsable_result(r, v) for r in resources if not r.ok for v in normalized]
    return ValidationReport(runner.name, normalized, tuple(resources), results_sorted(results, resources))


def validate_manifest_text(
    text: str,
    versions: Sequence[str] = DEFAULT_KUBERNETES_VERSIONS,
    *,
    label: str = "<stdin>",
    engine: EngineName | Engine = "auto",
    crd_dir: Path | None,
    cache_root: Path | None = None,
) -> ValidationReport:
    """Validate a multi-document YAML string, e.g. ``helm template`` output.

    ``label`` names the stream in results (use ``<helm template CHART ENV>``: labels in
    angle brackets make diagnostics point at each object's ``# Source:`` template).
    """
    resources = parse_manifest_text(text, label)
    return validate_resources(resources, versions, engine=engine, crd_dir=crd_dir, cache_root=cache_root)


def validate_paths(
    paths: Sequence[Path],
    versions: Sequence[str] = DEFAULT_KUBERNETES_VERSIONS,
    *,
    engine: EngineName | Engine = "auto",
    crd_dir: Path | None,
    cache_root: Path | None = None,
) -> ValidationReport:
    """Validate manifest files and directories (``-`` = stdin)."""
    return validate_resources(
        load_manifests(paths), versions, engine=engine, crd_dir=crd_dir, cache_root=cache_root
    )
