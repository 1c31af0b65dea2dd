"""CF-UPG-004: a StatefulSet's ``spec.volumeClaimTemplates`` changed (added, removed, resized, class, modes…)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chartforge.compat.objects import Pair
from chartforge.compat.rules._base import K8S, Context, Rule, Violation, first, quantity, same, show


def templates(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = spec.get("volumeClaimTemplates") or []
    return {str((t.get("metadata") or {}).get("name", "")): t for t in found if isinstance(t, dict)}


def _compare(name: str, old: dict[str, Any], new: dict[str, Any]) -> Iterator[Violation]:
    where = f"spec.volumeClaimTemplates[{name}]"
    ospec, nspec = old.get("spec") or {}, new.get("spec") or {}
    osize = (ospec.get("resources") or {}).get("requests", {}).get("storage")
    nsize = (nspec.get("resources") or {}).get("requests", {}).get("storage")
    if quantity(osize) != quantity(nsize) or (quantity(osize) is None and osize != nsize):
        yield Violation(f"{where}.spec.resources.requests.storage",
                        f"volume size changes from {show(osize)} to {show(nsize)}")  # fmt: skip
    if ospec.get("storageClassName") != nspec.get("storageClassName"):
        yield Violation(f"{where}.spec.storageClassName", "storage class changes from "
                        f"{show(ospec.get('storageClassName'))} to {show(nspec.get('storageClassName'))}")  # fmt: skip
    if sorted(ospec.get("accessModes") or []) != sorted(nspec.get("accessModes") or []):
        yield Violation(f"{where}.spec.accessModes", "access modes change from "
                        f"{show(ospec.get('accessModes'))} to {show(nspec.get('accessModes'))}")  # fmt: skip
    if first(ospec.get("volumeMode"), default="Filesystem") != first(
        nspec.get("volumeMode"), default="Filesystem"
    ):
        yield Violation(f"{where}.spec.volumeMode", "volumeMode changes")
    rest = {"resources", "storageClassName", "accessModes", "volumeMode"}
    for key in sorted((set(ospec) | set(nspec)) - rest):
        if not same(ospec.get(key), nspec.get(key)):
            yield Violation(
                f"{where}.spec.{key}", f"{key} changes from {show(ospec.get(key))} to {show(nspec.get(key))}"
            )
    ometa, nmeta = old.get("metadata") or {}, new.get("metadata") or {}
    for key in ("labels", "annotations"):
        if not same(ometa.get(key) or {}, nmeta.get(key) or {}):
            changed = sorted(k for k in set(ometa.get(key) or {}) | set(nmeta.get(key) or {})
                             if (ometa.get(key) or {}).get(k) != (nmeta.get(key) or {}).get(k))  # fmt: skip
            yield Violation(f"{where}.metadata.{key}", f"claim template {key} change ({', '.join(changed)}); "
                            "a label carrying the chart version changes at every release")  # fmt: skip


def _check(pair: Pair, ctx: Context) -> Iterator[Violation]:
    if pair.old is None or pair.new is None:
        return
    old, new = templates(pair.old.spec()), templates(pair.new.spec())
    for name in sorted(set(old) - set(new)):
        yield Violation(f"spec.volumeClaimTemplates[{name}]", f"claim template '{name}' is removed")
    for name in sorted(set(new) - set(old)):
        yield Violation(f"spec.volumeClaimTemplates[{name}]", f"claim template '{name}' is added")
    for name in sorted(set(old) & set(new)):
        yield from _compare(name, old[name], new[name])


RULE = Rule(
    id="CF-UPG-004",
    title="StatefulSet spec.volumeClaimTemplates changed (added, removed, resized, class, access modes, labels)",
    kinds=(("apps", "StatefulSet"),),
    reference=f"{K8S}pkg/apis/apps/validation/validation.go ValidateStatefulSetUpdate (volumeClaimTemplates "
    "is not among the mutable fields)",
    why="helm upgrade fails: volumeClaimTemplates are immutable, even a size increase or a template label; "
    "existing PVCs would not follow anyway",
    fix="to grow volumes, patch each PVC (allowVolumeExpansion) and recreate the StatefulSet with "
    "--cascade=orphan in a declared break; keep template labels free of the chart version",
    check=_check,
)
