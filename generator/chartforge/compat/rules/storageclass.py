"""CF-UPG-013: a StorageClass's provisioner, parameters, reclaimPolicy or volumeBindingMode changed."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from chartforge.compat.objects import Pair
from chartforge.compat.rules._base import K8S, Context, Rule, Violation, same, show

DEFAULTS: dict[str, Any] = {
    "provisioner": None,
    "parameters": {},
    "reclaimPolicy": "Delete",
    "volumeBindingMode": "Immediate",
}


def _check(pair: Pair, ctx: Context) -> Iterator[Violation]:
    if pair.old is None or pair.new is None:
        return
    for key, default in DEFAULTS.items():
        old, new = pair.old.body.get(key, default), pair.new.body.get(key, default)
        if not same(old or default, new or default):
            yield Violation(key, f"{key} changes from {show(old)} to {show(new)}")


RULE = Rule(
    id="CF-UPG-013",
    title="StorageClass provisioner, parameters, reclaimPolicy or volumeBindingMode changed",
    kinds=(("storage.k8s.io", "StorageClass"),),
    reference=f"{K8S}pkg/apis/storage/validation/validation.go ValidateStorageClassUpdate: 'updates to "
    "parameters/provisioner/reclaimPolicy are forbidden', volumeBindingMode immutable",
    why="helm upgrade fails; existing volumes keep the class they were provisioned with anyway",
    fix="create a StorageClass with a new name and use it for new claims; keep the old one for existing volumes",
    check=_check,
)
