"""CF-UPG-002: a StatefulSet's ``spec.serviceName`` changed."""

from __future__ import annotations

from collections.abc import Iterator

from chartforge.compat.objects import Pair
from chartforge.compat.rules._base import K8S, Context, Rule, Violation, show


def _check(pair: Pair, ctx: Context) -> Iterator[Violation]:
    if pair.old is None or pair.new is None:
        return
    old, new = pair.old.get("spec", "serviceName"), pair.new.get("spec", "serviceName")
    if (old or "") != (new or ""):
        yield Violation("spec.serviceName", f"serviceName changes from {show(old)} to {show(new)}")


RULE = Rule(
    id="CF-UPG-002",
    title="StatefulSet spec.serviceName changed",
    kinds=(("apps", "StatefulSet"),),
    reference=f"{K8S}pkg/apis/apps/validation/validation.go ValidateStatefulSetUpdate",
    why="helm upgrade fails with 'spec: Forbidden: updates to statefulset spec for fields other than "
    "'replicas', 'ordinals', 'template', 'updateStrategy'…'; the pods' stable DNS names come from it",
    fix="keep serviceName; add a second Service for a new name instead, or declare a break whose migration "
    "deletes the StatefulSet with --cascade=orphan before the upgrade",
    check=_check,
)
