"""CF-UPG-010: a ConfigMap or Secret released with ``immutable: true`` changed."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

from chartforge.compat.objects import K8sObject, Pair
from chartforge.compat.rules._base import K8S, Context, Rule, Violation, same


def payload(obj: K8sObject) -> dict[str, Any]:
    """``data`` + ``binaryData``; a Secret's ``stringData`` folded into ``data`` as the API server does."""
    data = dict(obj.body.get("data") or {})
    if obj.kind == "Secret":
        for key, value in (obj.body.get("stringData") or {}).items():
            data[key] = base64.b64encode(str(value).encode()).decode()
    return {"data": data, "binaryData": obj.body.get("binaryData") or {}}


def _check(pair: Pair, ctx: Context) -> Iterator[Violation]:
    if pair.old is None or pair.new is None or pair.old.body.get("immutable") is not True:
        return
    if pair.new.body.get("immutable") is not True:
        yield Violation("immutable", "immutable: true is removed (it can never be unset)")
    old, new = payload(pair.old), payload(pair.new)
    for key in ("data", "binaryData"):
        if not same(old[key], new[key]):
            changed = sorted(k for k in set(old[key]) | set(new[key]) if old[key].get(k) != new[key].get(k))
            yield Violation(
                key, f"{key} of an immutable {pair.old.kind} changes (keys: {', '.join(changed)})"
            )


RULE = Rule(
    id="CF-UPG-010",
    title="ConfigMap or Secret with immutable: true changed",
    kinds=(("", "ConfigMap"), ("", "Secret")),
    reference=f"{K8S}pkg/apis/core/validation/validation.go ValidateConfigMapUpdate / ValidateSecretUpdate: "
    "'field is immutable when `immutable` is set'",
    why="helm upgrade fails: once immutable, data, binaryData and the immutable flag itself are frozen "
    "(a value generated at random per render changes at every upgrade)",
    fix="give the object a name derived from its content (e.g. a hash suffix) so a change creates a new one, "
    "and point the workloads at it",
    check=_check,
)
