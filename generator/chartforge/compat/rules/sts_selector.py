"""CF-UPG-001: a StatefulSet's ``spec.selector`` changed."""

from __future__ import annotations

from chartforge.compat.rules._base import K8S, Rule, selector_changed

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
    check=selector_changed,
)
