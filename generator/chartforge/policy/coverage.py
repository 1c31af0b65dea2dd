"""Checks across objects: PodDisruptionBudgets for replicated workloads, NetworkPolicy coverage.

Both are namespace-scoped: a PDB or NetworkPolicy only selects pods in its own namespace.
Objects without ``metadata.namespace`` (Helm's usual output) are in the release namespace,
passed in as ``namespace`` ("" when unknown: then they are all considered together).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from chartforge.policy.codes import Finding
from chartforge.policy.model import REPLICATED, Manifest, PodTemplate, as_map, dig
from chartforge.policy.selectors import selects


def _ns(manifest: Manifest, namespace: str) -> str:
    return manifest.namespace or namespace


def _hpa_min_replicas(
    target: Manifest, manifests: Sequence[Manifest], namespace: str
) -> tuple[str, int] | None:
    """(HPA name, minReplicas) of the HorizontalPodAutoscaler scaling ``target``, if any."""
    for m in manifests:
        if m.kind != "HorizontalPodAutoscaler" or _ns(m, namespace) != _ns(target, namespace):
            continue
        ref = as_map(dig(m.obj, "spec.scaleTargetRef"))
        if ref.get("kind") == target.kind and ref.get("name") == target.name:
            value = dig(m.obj, "spec.minReplicas")
            return m.name, int(value) if isinstance(value, int) else 1
    return None


def _replicas(pod: PodTemplate, manifests: Sequence[Manifest], namespace: str) -> tuple[int, str]:
    """Replica count the workload runs with, and where that number comes from."""
    hpa = _hpa_min_replicas(pod.manifest, manifests, namespace)
    if hpa is not None:
        return hpa[1], f"HorizontalPodAutoscaler '{hpa[0]}' minReplicas"
    value = dig(pod.manifest.obj, "spec.replicas")
    return (value if isinstance(value, int) else 1), "spec.replicas"


def pdb_missing(
    pods: Sequence[PodTemplate], manifests: Sequence[Manifest], namespace: str
) -> Iterator[Finding]:
    pdbs = [m for m in manifests if m.kind == "PodDisruptionBudget"]
    for pod in pods:
        if pod.manifest.kind not in REPLICATED:
            continue
        replicas, origin = _replicas(pod, manifests, namespace)
        if replicas <= 1:
            continue
        ns = _ns(pod.manifest, namespace)
        covered = any(
            _ns(p, namespace) == ns and selects(dig(p.obj, "spec.selector"), pod.labels) for p in pdbs
        )
        if not covered:
            message = f"{replicas} replicas ({origin}) but no PodDisruptionBudget selects its pods"
            yield Finding("PDB-MISSING", pod.manifest, "spec.replicas", message)


def netpol_uncovered(
    pods: Sequence[PodTemplate], manifests: Sequence[Manifest], namespace: str
) -> Iterator[Finding]:
    policies = [m for m in manifests if m.kind == "NetworkPolicy"]
    for pod in pods:
        ns = _ns(pod.manifest, namespace)
        covered = False
        for policy in policies:
            if _ns(policy, namespace) != ns:
                continue
            selector = dig(policy.obj, "spec.podSelector")
            if selects({} if selector is None else selector, pod.labels):  # podSelector is required; {} = all
                covered = True
                break
        if not covered:
            where = f"namespace '{ns}'" if ns else "the release namespace"
            message = f"no NetworkPolicy in {where} selects these pods"
            yield Finding("NETPOL-UNCOVERED", pod.manifest, f"{pod.meta_path}.labels", message)
