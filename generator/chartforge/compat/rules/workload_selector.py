"""CF-UPG-006: a Deployment's, DaemonSet's or ReplicaSet's ``spec.selector`` changed."""

from __future__ import annotations

from chartforge.compat.rules._base import K8S, Rule, selector_changed

RULE = Rule(
    id="CF-UPG-006",
    title="Deployment, DaemonSet or ReplicaSet spec.selector changed",
    kinds=(("apps", "Deployment"), ("apps", "DaemonSet"), ("apps", "ReplicaSet")),
    reference=f"{K8S}pkg/registry/apps/deployment/strategy.go deploymentStrategy.ValidateUpdate (and "
    "daemonset/strategy.go, replicaset/strategy.go): ValidateImmutableField(Spec.Selector) for apps/v1",
    why="helm upgrade fails with 'field is immutable'; a selector change would also orphan the running pods",
    fix="keep selector labels stable (no chart version, no values-dependent labels); to change them, rename "
    "the workload (a new object) in a declared break",
    check=selector_changed,
)
