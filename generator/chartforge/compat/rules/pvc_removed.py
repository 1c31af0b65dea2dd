"""CF-UPG-015: a PersistentVolumeClaim managed by the release is removed (Helm deletes it, and its data)."""

from __future__ import annotations

from collections.abc import Iterator

from chartforge.compat.objects import Pair
from chartforge.compat.rules._base import Context, Rule, Violation


def _check(pair: Pair, ctx: Context) -> Iterator[Violation]:
    if pair.old is None or pair.new is not None or pair.old.is_hook or pair.old.kept_on_delete:
        return
    yield Violation("metadata.name", "the claim leaves the chart: helm upgrade deletes it, and with the usual "
                    "reclaimPolicy Delete its volume and data")  # fmt: skip


RULE = Rule(
    id="CF-UPG-015",
    title="PersistentVolumeClaim removed from the chart (deleted by helm upgrade)",
    kinds=(("", "PersistentVolumeClaim"),),
    reference="https://helm.sh/docs/howto/charts_tips_and_tricks/#tell-helm-not-to-uninstall-a-resource "
    "(Helm deletes resources that leave the release unless annotated helm.sh/resource-policy: keep)",
    why="the claim is deleted on upgrade; with reclaimPolicy Delete the volume and its data go with it",
    fix="annotate the claim helm.sh/resource-policy: keep in the release before the one that removes it, or "
    "keep rendering it",
    check=_check,
)
