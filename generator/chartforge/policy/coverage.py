"""Checks across objects: PodDisruptionBudgets for replicated workloads, NetworkPolicy coverage.

Both are namespace-scoped: a PDB or NetworkPolicy only selects pods in its own namespace.
Objects without ``metadata.namespace`` (Helm's usual output) are in the release namespace,
passed in as ``namespace`` ("" when unknown: then they are all considered together).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from chartforge.manifests import Manifest
from chartforge.policy.codes import Finding
from chartforge.policy.model import REPLICATED, PodTemplate, as_map, dig
from chartforge.policy.selectors import selects


def _ns(manifest: Manifest, namespace: str) -> str:
    return manifest.namespace or namespace


def _hpa_index(manifests: Sequence[Manifest], namespace: str) -> dict[tuple[str, str, str], tuple[str, int]]:
    """(namespace, kind, name) of each HPA target → (HPA name, minReplicas, default 1)."""
    index: dict[tuple[str, str, str], tuple[str, int]] = {}
    for m in manifests:
        if m.kind == "HorizontalPodAutoscaler":
            ref = as_map(dig(m.obj, "spec.scaleTargetRef"))
            value = dig(m.obj, "spec.minReplicas")
            key = (_ns(m, namespace), str(ref.get("kind") or ""), str(ref.get("name") or ""))
            index.setdefault(key, (m.name, value if isinstance(value, int) else 1))
    return index


def _by_namespace(manifests: Sequence[Manifest], kind: str, namespace: str) -> dict[str, list[Manifest]]:
    grouped: dict[str, list[Manifest]] = {}
    for m in manifests:
        if m.kind == kind:
            grouped.setdefault(_ns(m, namespace), []).append(m)
    return grouped


def pdb_missing(
    pods: Sequence[PodTemplate], manifests: Sequence[Manifest], namespace: str
) -> Iterator[Finding]:
    pdbs = _by_namespace(manifests, "PodDisruptionBudget", namespace)
    hpas = _hpa_index(manifests, namespace)
    for pod in pods:
        m = pod.manifest
        if m.kind not in REPLICATED:
            continue
        ns = _ns(m, namespace)
        hpa = hpas.get((ns, m.kind, m.name))
        if hpa is not None:
            replicas, origin = hpa[1], f"HorizontalPodAutoscaler '{hpa[0]}' minReplicas"
        else:
            value = dig(m.obj, "spec.replicas")
            replicas, origin = (value if isinstance(value, int) else 1), "spec.replicas"
        if replicas <= 1:
            continue
        if not any(selects(dig(p.obj, "spec.selector"), pod.labels) for p in pdbs.get(ns, ())):
            message = f"{replicas} replicas ({origin}) but no PodDisruptionBudget selects its pods"
            yield Finding("PDB-MISSING", m, "spec.replicas", message)


def netpol_uncovered(
    pods: Sequence[PodTemplate], manifests: Sequence[Manifest], namespace: str
) -> Iterator[Finding]:
    policies = _by_namespace(manifests, "NetworkPolicy", namespace)
    for pod in pods:
        ns = _ns(pod.manifest, namespace)
        # podSelector is required; an empty one ({}) selects every pod of the namespace
        selectors = (dig(p.obj, "spec.podSelector") for p in policies.get(ns, ()))
        if not any(selects({} if s is None else s, pod.labels) for s in selectors):
            where = f"namespace '{ns}'" if ns else "the release namespace"
            message = f"no NetworkPolicy in {where} selects these pods"
            yield Finding("NETPOL-UNCOVERED", pod.manifest, f"{pod.meta_path}.labels", message)
