"""CF-UPG-006: a Deployment's, DaemonSet's or ReplicaSet's ``spec.selector`` changed."""

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
    id="CF-UPG-006",
    title="Deployment, DaemonSet or ReplicaSet spec.selector changed",
    kinds=(("apps", "Deployment"), ("apps", "DaemonSet"), ("apps", "ReplicaSet")),
    reference=f"{K8S}pkg/registry/apps/deployment/strategy.go deploymentStrategy.ValidateUpdate (and "
    "daemonset/strategy.go, replicaset/strategy.go): ValidateImmutableField(Spec.Selector) for apps/v1",
    why="helm upgrade fails with 'field is immutable'; a selector change would also orphan the running pods",
    fix="keep selector labels stable (no chart version, no values-dependent labels); to change them, rename "
    "the workload (a new object) in a declared break",
    check=_check,
)
