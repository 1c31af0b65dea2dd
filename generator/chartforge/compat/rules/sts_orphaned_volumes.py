"""CF-UPG-014: a StatefulSet that owns volume claim templates is removed or renamed (its data is orphaned)."""

from __future__ import annotations

from collections.abc import Iterator

from chartforge.compat.objects import Pair
from chartforge.compat.rules._base import Context, Rule, Violation
from chartforge.compat.rules.sts_volume_claims import templates


def _check(pair: Pair, ctx: Context) -> Iterator[Violation]:
    if pair.old is None or pair.new is not None or pair.old.recreated_by_hook:
        return
    claims = sorted(templates(pair.old.spec()))
    if not claims:
        return
    old = pair.old
    successors = [
        o for o in ctx.new
        if o.kind == "StatefulSet" and o.key not in ctx.old.objects and o.namespace == old.namespace
        and set(templates(o.spec())) & set(claims)
    ]  # fmt: skip
    names = ", ".join(f"{c}-{old.name}-N" for c in claims)
    if successors:
        to = successors[0].name
        yield Violation("metadata.name", f"renamed to '{to}': it will create new, empty claims "
                        f"({', '.join(f'{c}-{to}-N' for c in claims)}) and leave {names} with the data behind")  # fmt: skip
    else:
        yield Violation("metadata.name", f"removed: its claims {names} stay in the cluster with the data, "
                        "owned by nothing")  # fmt: skip


RULE = Rule(
    id="CF-UPG-014",
    title="StatefulSet with volumeClaimTemplates removed or renamed",
    kinds=(("apps", "StatefulSet"),),
    reference="https://kubernetes.io/docs/concepts/workloads/controllers/statefulset/#persistentvolumeclaim-"
    "retention and pkg/controller/statefulset/stateful_set_utils.go getPersistentVolumeClaimName "
    "(claims are named <template>-<statefulset>-<ordinal>)",
    why="the upgrade succeeds but the database starts empty: a renamed StatefulSet gets new claims, and the "
    "old claims (with the data) are left behind",
    fix="keep the StatefulSet's name (use fullnameOverride to pin it); if it must go, declare a break whose "
    "migration moves the data (or renames the claims) before the upgrade",
    check=_check,
)
