"""CF-UPG-011: a Secret's ``type`` changed."""

from __future__ import annotations

from collections.abc import Iterator

from chartforge.compat.objects import Pair
from chartforge.compat.rules._base import K8S, Context, Rule, Violation, first

DEFAULT = "Opaque"


def _check(pair: Pair, ctx: Context) -> Iterator[Violation]:
    if pair.old is None or pair.new is None:
        return
    old = first(pair.old.body.get("type") or None, default=DEFAULT)
    new = first(pair.new.body.get("type") or None, default=DEFAULT)
    if old != new:
        yield Violation("type", f"Secret type changes from {old} to {new}")


RULE = Rule(
    id="CF-UPG-011",
    title="Secret type changed",
    kinds=(("", "Secret"),),
    reference=f"{K8S}pkg/apis/core/validation/validation.go ValidateSecretUpdate: ValidateImmutableField(Type)",
    why="helm upgrade fails with 'field is immutable' (an omitted type is Opaque)",
    fix="create a Secret with a new name and the new type, and switch the consumers to it",
    check=_check,
)
