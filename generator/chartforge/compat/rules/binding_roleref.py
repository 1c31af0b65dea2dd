"""CF-UPG-012: a RoleBinding's or ClusterRoleBinding's ``roleRef`` changed."""

from __future__ import annotations

from collections.abc import Iterator

from chartforge.compat.objects import Pair
from chartforge.compat.rules._base import K8S, Context, Rule, Violation, show


def _check(pair: Pair, ctx: Context) -> Iterator[Violation]:
    if pair.old is None or pair.new is None:
        return
    old, new = pair.old.body.get("roleRef") or {}, pair.new.body.get("roleRef") or {}
    for key in ("apiGroup", "kind", "name"):
        if old.get(key) != new.get(key):
            yield Violation(
                f"roleRef.{key}", f"roleRef.{key} changes from {show(old.get(key))} to {show(new.get(key))}"
            )


RULE = Rule(
    id="CF-UPG-012",
    title="RoleBinding or ClusterRoleBinding roleRef changed",
    kinds=(("rbac.authorization.k8s.io", "RoleBinding"), ("rbac.authorization.k8s.io", "ClusterRoleBinding")),
    reference=f"{K8S}pkg/apis/rbac/validation/validation.go ValidateRoleBindingUpdate: 'cannot change roleRef'",
    why="helm upgrade fails: a binding's roleRef is immutable",
    fix="bind the new role with a binding of a new name (the old binding is then removed by Helm)",
    check=_check,
)
