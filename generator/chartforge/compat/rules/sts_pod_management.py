"""CF-UPG-003: a StatefulSet's ``spec.podManagementPolicy`` changed."""

from __future__ import annotations

from collections.abc import Iterator

from chartforge.compat.objects import Pair
from chartforge.compat.rules._base import K8S, Context, Rule, Violation, first

DEFAULT = "OrderedReady"  # pkg/apis/apps/v1/defaults.go SetDefaults_StatefulSet


def _check(pair: Pair, ctx: Context) -> Iterator[Violation]:
    if pair.old is None or pair.new is None:
        return
    old = first(pair.old.get("spec", "podManagementPolicy"), default=DEFAULT)
    new = first(pair.new.get("spec", "podManagementPolicy"), default=DEFAULT)
    if old != new:
        yield Violation("spec.podManagementPolicy", f"podManagementPolicy changes from {old} to {new}")


RULE = Rule(
    id="CF-UPG-003",
    title="StatefulSet spec.podManagementPolicy changed",
    kinds=(("apps", "StatefulSet"),),
    reference=f"{K8S}pkg/apis/apps/validation/validation.go ValidateStatefulSetUpdate",
    why="helm upgrade fails: podManagementPolicy is immutable (an omitted value is OrderedReady)",
    fix="keep the policy; changing it needs the StatefulSet deleted with --cascade=orphan and recreated "
    "(declare a break with that migration step)",
    check=_check,
)
