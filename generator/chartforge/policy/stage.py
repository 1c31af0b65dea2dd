"""The policy stage on manifest files: load, built-in checks, checkov, waivers, stale waivers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from chartforge.diagnostics import Diagnostic, has_errors
from chartforge.manifests import Manifest, load_manifests, objects_only
from chartforge.policy.checkov import CheckovBatch, run_checkov
from chartforge.policy.engine import run_policy
from chartforge.policy.waivers import Waivers, stale_waivers
from chartforge.yamlio import load_yaml


@dataclass(frozen=True)
class PolicyResult:
    manifests: tuple[Manifest, ...]
    diagnostics: tuple[Diagnostic, ...]
    checkov: bool

    @property
    def failed(self) -> bool:
        """True when an error is left that no waiver covers."""
        return has_errors(self.diagnostics)


def check_manifest_files(
    paths: Sequence[str | Path],
    *,
    waivers: Waivers | None = None,
    checkov: bool = True,
    chart: str = "",
    environment: str = "",
    kubernetes_version: str = "",
    namespace: str = "",
    values_file: str | Path | None = None,
    checkov_binary: str | None = None,
) -> PolicyResult:
    """Run every policy check on rendered manifests read from files and directories.

    ``values_file`` (the values the manifests were rendered from) is scanned for secrets.
    Stale waivers are reported among those that apply to this chart and environment (with
    neither given, the waivers whose chart and environment are ``*``).
    """
    manifests = objects_only(load_manifests(paths))
    values = load_yaml(Path(values_file)) if values_file is not None else None
    diagnostics = run_policy(
        manifests,
        chart=chart,
        environment=environment,
        kubernetes_version=kubernetes_version,
        values=values if isinstance(values, dict) else None,
        waivers=waivers,
        namespace=namespace,
        values_path=str(values_file or ""),
    )
    if checkov:
        batch = CheckovBatch(manifests, chart, environment, kubernetes_version, namespace)
        diagnostics += run_checkov([batch], waivers=waivers, checkov=checkov_binary)
    diagnostics += stale_waivers(
        waivers,
        diagnostics,
        checkov=checkov,
        charts=[chart],
        environments=[environment],
    )
    return PolicyResult(manifests=tuple(manifests), diagnostics=tuple(diagnostics), checkov=checkov)
