"""The policy stage: built-in checks on rendered manifests, checkov, and waivers.

Public API::

    from chartforge.policy import load_waivers, run_policy, run_checkov, stale_waivers

    waivers = load_waivers("sources/waivers.yaml")
    diagnostics = run_policy(objects, chart="postgresql-ha", environment="production",
                             kubernetes_version="1.34", values=values, waivers=waivers)
    diagnostics += run_checkov([CheckovBatch(objects, chart=..., environment=...)], waivers=waivers)
    diagnostics += stale_waivers(waivers, diagnostics)   # once, over the whole run

Check ids and the waiver format: ``docs/policy.md``.
"""

from __future__ import annotations

from chartforge.manifests import Manifest
from chartforge.policy.checkov import CheckovBatch, find_checkov, run_checkov
from chartforge.policy.codes import CHECKS, Finding
from chartforge.policy.engine import check_manifests, run_policy
from chartforge.policy.waivers import Waiver, Waivers, apply_waivers, load_waivers, stale_waivers

__all__ = [
    "CHECKS",
    "CheckovBatch",
    "Finding",
    "Manifest",
    "Waiver",
    "Waivers",
    "apply_waivers",
    "check_manifests",
    "find_checkov",
    "load_waivers",
    "run_checkov",
    "run_policy",
    "stale_waivers",
]
