"""Catalog mode as one call: resolve ``--against``, compare, and (for release/publish) refuse."""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from chartforge.check import CheckResult
from chartforge.compat.baseline import RegistryBaseline, baseline_for
from chartforge.compat.catalog import CompatResult, compare_catalog
from chartforge.compile.catalog import load_catalog
from chartforge.diagnostics import Diagnostic
from chartforge.errors import RefusedError
from chartforge.package import PackageResult
from chartforge.project import Project
from chartforge.publish.retry import RetryPolicy
from chartforge.publish.target import Credentials, RegistryTarget
from chartforge.tools import find_helm


def run_compat(
    root: Path,
    against: str | RegistryTarget,
    *,
    environments: Sequence[str] = (),
    helm: str | None = None,
    plain_http: bool | None = None,
    ca_file: Path | None = None,
    credentials: Credentials | None = None,
    retry: RetryPolicy | None = None,
    package: PackageResult | None = None,
) -> CompatResult:
    """Every chart of ``root`` against ``against`` (``oci://REGISTRY/NS`` or ``git:REF``).

    Registry options default to the catalog's ``registry:`` section when ``against`` is its URL.
    """
    if isinstance(against, RegistryTarget):  # release/publish: the registry they push to, same credentials
        pushed_to = RegistryBaseline(against, credentials, retry)
        return compare_catalog(root, pushed_to, find_helm(helm), environments=environments, package=package)
    if against.startswith("oci://") and Project(root).has_catalog():
        configured = load_catalog(root).registry
        if configured.url.rstrip("/") == against.rstrip("/"):
            plain_http = configured.plain_http if plain_http is None else plain_http
            if ca_file is None and configured.ca_file:
                ca_file = root / configured.ca_file  # an absolute path stays absolute
    with tempfile.TemporaryDirectory(prefix="chartforge-against-") as scratch:
        baseline = baseline_for(against, root, Path(scratch), plain_http=bool(plain_http), ca_file=ca_file,
                                credentials=credentials, retry=retry)  # fmt: skip
        return compare_catalog(root, baseline, find_helm(helm), environments=environments, package=package)


def with_compat(result: CheckResult, root: Path, against: str, **options: Any) -> CheckResult:
    """A check result plus catalog mode's findings and checked charts (``check --against``)."""
    found = run_compat(root, against, **options)
    return replace(result, diagnostics=(*result.diagnostics, *found.diagnostics),
                   checked=(*result.checked, *found.checked))  # fmt: skip


class ReleaseRefused(RefusedError):
    """Catalog mode found what the registry or ``helm upgrade`` would refuse; nothing was packaged or pushed."""

    def __init__(self, against: str, errors: Sequence[Diagnostic]) -> None:
        self.findings = tuple(errors)
        charts = sorted({d.chart for d in errors})
        super().__init__(
            f"refusing to release {', '.join(charts)}: {len(errors)} release-safety finding(s) against {against}; "
            "nothing was packaged or pushed",
            hint="bump with 'chartforge bump CHART LEVEL' (declare intended breaks in chart.yaml); "
            "details: chartforge check --stage compat --against " + against,
        )

    def render(self) -> str:
        lines = []
        for d in self.findings:
            where = d.path + (f":{d.line}" if d.line else "")
            obj = f" {d.kind}/{d.name}" if d.kind != "Chart" else ""
            env = f" [{d.environment}]" if d.environment else ""
            lines.append(f"  {d.code} {where}{obj} {d.field}{env}: {d.message}")
        return super().render() + "\n" + "\n".join(lines)


def refuse_unsafe(result: CompatResult) -> None:
    """Raise :class:`ReleaseRefused` (exit 4) when catalog mode has any unwaived error."""
    errors = [d for d in result.diagnostics if d.severity == "error" and not d.waived]
    if errors:
        raise ReleaseRefused(result.against, errors)
