"""CF-UPG-004: a StatefulSet's ``spec.volumeClaimTemplates`` changed (added, removed, resized, class, modes…).

One change is not a finding: a larger storage request in a StatefulSet whose new rendering carries
the annotation ``chartforge.io/volume-claims: resized-by-hook``. A chart puts it there to declare
that on ``helm upgrade`` it renders the claim templates with the size the live StatefulSet already
has (Helm ``lookup``: the immutable field does not change) and that a hook grows the existing
claims to the new size; an offline rendering (``helm template``, no cluster) cannot show that, so
it shows the values' size. Every other change, a smaller size included (hooks never shrink a
claim), stays a finding; so does growth without the annotation.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chartforge.compat.objects import K8sObject, Pair
from chartforge.compat.rules._base import K8S, Context, Rule, Violation, first, quantity, same, show


def templates(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = spec.get("volumeClaimTemplates") or []
    return {str((t.get("metadata") or {}).get("name", "")): t for t in found if isinstance(t, dict)}


# The declaration a chart makes on its StatefulSet (docs/releasing.md, "Volumes grown by a hook").
RESIZED_BY_HOOK = ("chartforge.io/volume-claims", "resized-by-hook")


def resized_by_hook(obj: K8sObject) -> bool:
    """The StatefulSet declares that its chart keeps the live claim size and grows claims by a hook."""
    annotations = obj.get("metadata", "annotations", default={}) or {}
    return isinstance(annotations, dict) and annotations.get(RESIZED_BY_HOOK[0]) == RESIZED_BY_HOOK[1]


def _grown(osize: Any, nsize: Any) -> bool:
    before, after = quantity(osize), quantity(nsize)
    return before is not None and after is not None and after > before


def _compare(
    name: str, old: dict[str, Any], new: dict[str, Any], by_hook: bool = False
) -> Iterator[Violation]:
    where = f"spec.volumeClaimTemplates[{name}]"
    ospec, nspec = old.get("spec") or {}, new.get("spec") or {}
    osize = (ospec.get("resources") or {}).get("requests", {}).get("storage")
    nsize = (nspec.get("resources") or {}).get("requests", {}).get("storage")
    if by_hook and _grown(osize, nsize):
        pass  # the chart renders the live size on upgrade and its hook grows the claims
    elif quantity(osize) != quantity(nsize) or (quantity(osize) is None and osize != nsize):
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
    by_hook = resized_by_hook(pair.new)
    for name in sorted(set(old) & set(new)):
        yield from _compare(name, old[name], new[name], by_hook)


RULE = Rule(
    id="CF-UPG-004",
    title="StatefulSet spec.volumeClaimTemplates changed (added, removed, resized, class, access modes, labels)",
    kinds=(("apps", "StatefulSet"),),
    reference=f"{K8S}pkg/apis/apps/validation/validation.go ValidateStatefulSetUpdate (volumeClaimTemplates "
    "is not among the mutable fields)",
    why="helm upgrade fails: volumeClaimTemplates are immutable, even a size increase or a template label; "
    "existing PVCs would not follow anyway",
    fix="to grow volumes, keep the live claim size in the template (Helm lookup), grow the PVCs with a hook "
    "(allowVolumeExpansion) and annotate the StatefulSet chartforge.io/volume-claims: resized-by-hook; or patch "
    "each PVC and recreate the StatefulSet with --cascade=orphan in a declared break; keep template labels free "
    "of the chart version",
    check=_check,
)
