"""The policy stage as one pipeline: built-in checks, checkov, waivers and stale waivers over
:class:`PolicyUnit`\\ s, whether they come from the catalog's renderings or from manifest files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chartforge.diagnostics import Checked, Diagnostic, has_errors
from chartforge.manifests import Manifest
from chartforge.policy.checkov import CheckovBatch, run_checkov
from chartforge.policy.engine import run_policy
from chartforge.policy.waivers import Waivers, stale_waivers


@dataclass(frozen=True)
class PolicyUnit:
    """One chart's share of one rendering (chart × environment × Kubernetes version).

    ``context`` is the rest of the release (another chart's NetworkPolicy or PDB covers these
    pods too; it is not checked itself). ``values`` (loaded with ``chartforge.yamlio``, with
    their line numbers) are scanned for secret material and reported against ``values_path``.
    ``release_values`` (default: ``values``) are the values of the whole release, merged over the
    charts' defaults: their ``global.externalResources`` declare what the operator creates
    (``REF-MISSING``).
    """

    manifests: tuple[Manifest, ...]
    chart: str = ""
    environment: str = ""
    kubernetes_version: str = ""
    namespace: str = ""
    values: Mapping[str, Any] | None = None
    values_path: str = ""
    context: tuple[Manifest, ...] = ()
    release_values: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class PolicyResult:
    diagnostics: tuple[Diagnostic, ...]
    checked: tuple[Checked, ...]  # every object checked, a JUnit test case whether it passed or not

    @property
    def failed(self) -> bool:
        """True when an error is left that no waiver covers."""
        return has_errors(self.diagnostics)


def check_policy(
    units: Sequence[PolicyUnit],
    *,
    waivers: Waivers | None,
    checkov: bool,
    charts: Sequence[str],
    environments: Sequence[str],
    checkov_binary: str | None = None,
) -> PolicyResult:
    """Every policy check over ``units``: built-in checks per unit, checkov in one run for all of
    them, waivers applied, and stale waivers reported once among those that apply to ``charts``
    × ``environments`` (``[""]`` for either: the waivers whose chart or environment is ``*``)."""
    diagnostics: list[Diagnostic] = []
    checked: list[Checked] = []
    batches: list[CheckovBatch] = []
    for u in units:
        diagnostics += run_policy(
            u.manifests,
            chart=u.chart,
            environment=u.environment,
            kubernetes_version=u.kubernetes_version,
            values=u.values,
            waivers=waivers,
            namespace=u.namespace,
            values_path=u.values_path,
            context=u.context,
            release_values=u.release_values,
        )
        checked += [
            Checked(
                "policy", u.chart, u.environment, u.kubernetes_version, m.source or m.file, m.kind, m.name
            )
            for m in u.manifests
        ]
        if checkov and u.manifests:
            batches.append(
                CheckovBatch(u.manifests, u.chart, u.environment, u.kubernetes_version, u.namespace)
            )
    if batches:
        diagnostics += run_checkov(batches, waivers=waivers, checkov=checkov_binary)
    diagnostics += stale_waivers(
        waivers, diagnostics, checkov=checkov, charts=list(charts), environments=list(environments)
    )
    return PolicyResult(tuple(diagnostics), tuple(checked))
