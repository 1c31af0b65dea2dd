"""CF-UPG-001: a StatefulSet's ``spec.selector`` changed."""

from __future__ import annotations

from collections.abc import Iterator

from chartforge.compat.objects import Pair
from chartforge.compat.rules._base import K8S, Context, Rule, Violation, same, show


def _check(pair: Pair, ctx: Context) -> Iterator[Violation]:
    if pair.old is None or pair.new is None:
        return
    old, new = pair.old.get("spec", "selector"), pair.new.get("spec", "selector")
    if not same(old, new):
        yield Violation("spec.selector", f"selector changes from {show(old)} to {show(new)}")


RULE = Rule(
    id="CF-UPG-001",
    title="StatefulSet spec.selector changed",
    kinds=(("apps", "StatefulSet"),),
    reference=f"{K8S}pkg/apis/apps/validation/validation.go ValidateStatefulSetUpdate: only 'replicas', "
    "'ordinals', 'template', 'updateStrategy', 'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' may change",
    why="helm upgrade fails: the API server forbids updates to a StatefulSet spec other than replicas, template, "
    "updateStrategy, ordinals, persistentVolumeClaimRetentionPolicy and minReadySeconds",
    fix="keep the selector labels stable (never put the chart version in them); if it must change, declare a "
    "break: delete the StatefulSet with --cascade=orphan before upgrading so pods and volumes stay",
    check=_check,
)
