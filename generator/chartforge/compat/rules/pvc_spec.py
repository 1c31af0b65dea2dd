"""CF-UPG-009: a PersistentVolumeClaim's immutable spec changed, or its request shrank."""

from __future__ import annotations

from collections.abc import Iterator

from chartforge.compat.objects import Pair
from chartforge.compat.rules._base import K8S, Context, Rule, Violation, first, quantity, same, show

MUTABLE = {"resources", "volumeAttributesClassName", "volumeName"}


def _check(pair: Pair, ctx: Context) -> Iterator[Violation]:
    if pair.old is None or pair.new is None:
        return
    old, new = pair.old.spec(), pair.new.spec()
    osc, nsc = old.get("storageClassName"), new.get("storageClassName")
    if (
        osc != nsc and osc is not None
    ):  # nil → a class is the one change allowed (validateStorageClassUpgradeFromNil)
        yield Violation("spec.storageClassName", f"storage class changes from {show(osc)} to {show(nsc)}")
    if sorted(old.get("accessModes") or []) != sorted(new.get("accessModes") or []):
        yield Violation("spec.accessModes", f"access modes change from {show(old.get('accessModes'))} to "
                        f"{show(new.get('accessModes'))}")  # fmt: skip
    if first(old.get("volumeMode"), default="Filesystem") != first(
        new.get("volumeMode"), default="Filesystem"
    ):
        yield Violation("spec.volumeMode", "volumeMode changes")
    for key in sorted((set(old) | set(new)) - MUTABLE - {"storageClassName", "accessModes", "volumeMode"}):
        if not same(old.get(key), new.get(key)):
            yield Violation(f"spec.{key}", f"{key} changes from {show(old.get(key))} to {show(new.get(key))}")
    oreq = (old.get("resources") or {}).get("requests") or {}
    nreq = (new.get("resources") or {}).get("requests") or {}
    osize, nsize = quantity(oreq.get("storage")), quantity(nreq.get("storage"))
    if osize is not None and nsize is not None and nsize < osize:
        yield Violation("spec.resources.requests.storage",
                        f"the request shrinks from {oreq.get('storage')} to {nreq.get('storage')}")  # fmt: skip
    if not same((old.get("resources") or {}).get("limits"), (new.get("resources") or {}).get("limits")):
        yield Violation("spec.resources.limits", "resource limits of a claim cannot change")


RULE = Rule(
    id="CF-UPG-009",
    title="PersistentVolumeClaim storageClassName, accessModes, volumeMode or selector changed, or request shrunk",
    kinds=(("", "PersistentVolumeClaim"),),
    reference=f"{K8S}pkg/apis/core/validation/validation.go ValidatePersistentVolumeClaimUpdate: 'spec is "
    "immutable after creation except resources.requests and volumeAttributesClassName for bound claims'",
    why="helm upgrade fails; a volume can grow (if its StorageClass allows expansion) but never shrink, and "
    "its class and access modes are fixed at creation",
    fix="keep the claim's spec; growing the request is allowed. For a new class or mode, create a new claim "
    "and migrate the data (a declared break with the steps)",
    check=_check,
)
