"""CF-UPG-005: any other immutable StatefulSet spec field changed (``revisionHistoryLimit``…)."""

from __future__ import annotations

from collections.abc import Iterator

from chartforge.compat.objects import Pair
from chartforge.compat.rules._base import K8S, Context, Rule, Violation, same, show

# Mutable per ValidateStatefulSetUpdate, or covered by their own rule.
MUTABLE = {"replicas", "ordinals", "template", "updateStrategy", "persistentVolumeClaimRetentionPolicy",
           "minReadySeconds"}  # fmt: skip
OWN_RULE = {"selector", "serviceName", "podManagementPolicy", "volumeClaimTemplates"}
DEFAULTS = {"revisionHistoryLimit": 10}  # pkg/apis/apps/v1/defaults.go SetDefaults_StatefulSet


def _check(pair: Pair, ctx: Context) -> Iterator[Violation]:
    if pair.old is None or pair.new is None:
        return
    old, new = pair.old.spec(), pair.new.spec()
    for key in sorted((set(old) | set(new)) - MUTABLE - OWN_RULE):
        before, after = old.get(key, DEFAULTS.get(key)), new.get(key, DEFAULTS.get(key))
        if not same(before, after):
            yield Violation(f"spec.{key}", f"{key} changes from {show(before)} to {show(after)}")


RULE = Rule(
    id="CF-UPG-005",
    title="StatefulSet spec field outside the mutable set changed (revisionHistoryLimit, …)",
    kinds=(("apps", "StatefulSet"),),
    reference=f"{K8S}pkg/apis/apps/validation/validation.go ValidateStatefulSetUpdate",
    why="helm upgrade fails: every StatefulSet spec field except replicas, ordinals, template, updateStrategy, "
    "persistentVolumeClaimRetentionPolicy and minReadySeconds is immutable",
    fix="keep the field as released; change it only in a declared break that recreates the StatefulSet with "
    "--cascade=orphan",
    check=_check,
)
