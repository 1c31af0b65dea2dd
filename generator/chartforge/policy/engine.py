"""``run_policy``: every built-in check over one chart × environment × Kubernetes version."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from chartforge.diagnostics import Diagnostic
from chartforge.manifests import Manifest
from chartforge.policy.codes import Finding
from chartforge.policy.coverage import netpol_uncovered, pdb_missing
from chartforge.policy.model import parse_version, pod_template
from chartforge.policy.pss_baseline import BASELINE_CHECKS, Check
from chartforge.policy.pss_restricted import RESTRICTED_CHECKS
from chartforge.policy.references import ExternalResource, declared_external, reference_findings
from chartforge.policy.secret_checks import configmap_secrets, env_secrets, values_secrets
from chartforge.policy.waivers import Waivers, apply_waivers
from chartforge.policy.workload import WORKLOAD_CHECKS

POD_CHECKS: tuple[Check, ...] = (*BASELINE_CHECKS, *RESTRICTED_CHECKS, *WORKLOAD_CHECKS, env_secrets)


def _diagnostic(
    f: Finding, chart: str, environment: str, kubernetes_version: str, namespace: str
) -> Diagnostic:
    m = f.manifest
    extra: list[tuple[str, str]] = [("namespace", m.namespace or namespace)]
    if m.file:
        extra.append(("manifest", f"{m.file}:{m.line}" if m.line else m.file))
    return Diagnostic(
        severity="error",
        code=f.code,
        message=f.message,
        stage="policy",
        chart=chart,
        environment=environment,
        kubernetes_version=kubernetes_version,
        path=m.source or m.file,
        line=None if m.source else (m.line or None),
        kind=m.kind,
        name=m.name,
        field=f.field,
        extra=tuple(extra),
    )


def check_manifests(
    manifests: list[Manifest],
    kubernetes_version: str = "",
    namespace: str = "",
    context: Sequence[Manifest] = (),
    declared: Sequence[ExternalResource] = (),
) -> list[Finding]:
    """Every built-in check on already-wrapped manifests, without chart context or waivers.

    ``context`` holds the other objects of the same release (not checked themselves): their
    NetworkPolicies, PodDisruptionBudgets and HorizontalPodAutoscalers count for coverage.
    """
    version = parse_version(kubernetes_version)
    pods = [p for m in manifests if (p := pod_template(m)) is not None]
    findings = [f for pod in pods for check in POD_CHECKS for f in check(pod, version)]
    everything = [*manifests, *context]
    findings += pdb_missing(pods, everything, namespace)
    findings += netpol_uncovered(pods, everything, namespace)
    findings += [f for m in manifests for f in configmap_secrets(m)]
    findings += reference_findings(manifests, context, namespace, declared)
    return findings


def run_policy(
    objects: Iterable[Manifest],
    *,
    chart: str,
    environment: str,
    kubernetes_version: str = "",
    values: Mapping[str, Any] | None = None,
    waivers: Waivers | None = None,
    namespace: str = "",
    values_path: str = "",
    context: Iterable[Manifest] = (),
    release_values: Mapping[str, Any] | None = None,
) -> list[Diagnostic]:
    """Run the built-in policy checks on one rendering; return its findings, waivers applied.

    ``objects`` are the rendered Kubernetes objects. ``namespace`` is the release
    namespace of objects that do not set one (NetworkPolicy and PDB selection is per
    namespace). ``values`` (loaded with chartforge.yamlio, they keep their line numbers, reported against
    ``values_path``) are scanned for secret material. ``context`` is the rest of the release
    when ``objects`` are one sub-chart's share of an umbrella rendering: a NetworkPolicy or
    PodDisruptionBudget from another chart (security-baseline's default-deny) still covers
    these pods, but the context objects are not checked themselves. ``release_values`` (default:
    ``values``) are the values of the whole release, merged over the charts' defaults: their
    ``global.externalResources`` declare what the operator creates (``REF-MISSING``). Stale waivers are *not* reported here:
    call :func:`chartforge.policy.stale_waivers` once over the whole run.
    """
    declared = declared_external(values if release_values is None else release_values, namespace)
    findings = check_manifests(list(objects), kubernetes_version, namespace, list(context), declared)
    diagnostics = [_diagnostic(f, chart, environment, kubernetes_version, namespace) for f in findings]
    for v in values_secrets(values) if values is not None else ():
        diagnostics.append(
            Diagnostic(
                severity="error",
                code="SECRET-IN-VALUES",
                message=f"{v.message}; reference an existing Secret instead",
                stage="policy",
                chart=chart,
                environment=environment,
                kubernetes_version=kubernetes_version,
                path=values_path,
                line=v.line,
                kind="Values",
                name=chart or "values",
                field=v.field,
            )
        )
    diagnostics.sort(key=lambda d: (d.path, d.kind, d.name, d.field, d.code, d.message))
    return apply_waivers(diagnostics, waivers)
