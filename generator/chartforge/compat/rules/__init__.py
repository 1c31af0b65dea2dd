"""The upgrade-safety rule catalogue: one module per rule, collected here in id order."""

from __future__ import annotations

from chartforge.compat.rules import (
    binding_roleref,
    immutable_data,
    job_immutable,
    pvc_removed,
    pvc_spec,
    secret_type,
    service_cluster_ip,
    storageclass,
    sts_orphaned_volumes,
    sts_other_spec,
    sts_pod_management,
    sts_selector,
    sts_service_name,
    sts_volume_claims,
    workload_selector,
)
from chartforge.compat.rules._base import Context, Rule, Violation

_MODULES = (
    sts_selector, sts_service_name, sts_pod_management, sts_volume_claims, sts_other_spec, workload_selector,
    job_immutable, service_cluster_ip, pvc_spec, immutable_data, secret_type, binding_roleref, storageclass,
    sts_orphaned_volumes, pvc_removed,
)  # fmt: skip
RULES: tuple[Rule, ...] = tuple(sorted((m.RULE for m in _MODULES), key=lambda r: r.id))
BY_ID: dict[str, Rule] = {r.id: r for r in RULES}

__all__ = ["BY_ID", "RULES", "Context", "Rule", "Violation"]
