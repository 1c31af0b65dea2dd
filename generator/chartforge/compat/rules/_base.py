"""What a rule is: an id, a one-line title, the API server code that makes it true, a fix, a check.

The rule catalogue is documentation people read (``docs/releasing.md`` lists it, and
``chartforge upgrade-check --rules`` prints it): each rule is one module of this package,
modelled on cargo-semver-checks' one-lint-per-file layout, and each has a case folder under
``tests/cases/compat/<id>/`` with an unsafe change that must trigger it and a safe twin that
must not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from chartforge.compat.objects import K8sObject, Pair, Rendering

K8S = "https://github.com/kubernetes/kubernetes/blob/master/"


@dataclass(frozen=True)
class Violation:
    field: str  # JSON-path-like: spec.serviceName, spec.volumeClaimTemplates[data].resources…
    message: str  # why, in terms of these two renderings


@dataclass(frozen=True)
class Context:
    old: Rendering
    new: Rendering


Check = Callable[[Pair, Context], Iterable[Violation]]


@dataclass(frozen=True)
class Rule:
    id: str
    title: str  # one line
    kinds: tuple[tuple[str, str], ...]  # (API group, kind) the rule looks at
    reference: str  # the API server function (or Helm behaviour) that makes this true, with its URL
    why: str  # what happens on `helm upgrade`
    fix: str  # what to do instead
    check: Check

    def applies(self, obj: K8sObject) -> bool:
        return (obj.key[0], obj.kind) in self.kinds

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "title": self.title, "kinds": [f"{k}.{g}" if g else k for g, k in self.kinds],
            "reference": self.reference, "why": self.why, "fix": self.fix,
        }  # fmt: skip


def canonical(value: Any) -> str:
    """A stable text form for deep comparison and for messages."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def same(a: Any, b: Any) -> bool:
    return canonical(a) == canonical(b)


def show(value: Any) -> str:
    if value is None:
        return "unset"
    return canonical(value) if isinstance(value, dict | list) else repr(value)


_QUANTITY = re.compile(r"^([+-]?[0-9.]+(?:[eE][+-]?\d+)?)([a-zA-Z]*)$")
_SUFFIX: dict[str, Decimal] = {k: Decimal(str(v)) for k, v in {
    "": 1, "m": "0.001", "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15, "E": 10**18,
    "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50, "Ei": 2**60,
}.items()}  # fmt: skip


def selector_changed(pair: Pair, ctx: Context) -> Iterator[Violation]:
    """``spec.selector`` differs between the two releases (immutable on every workload kind)."""
    if pair.old is None or pair.new is None:
        return
    old, new = pair.old.get("spec", "selector"), pair.new.get("spec", "selector")
    if not same(old, new):
        yield Violation("spec.selector", f"selector changes from {show(old)} to {show(new)}")


def quantity(value: Any) -> Decimal | None:
    """A Kubernetes resource quantity (``10Gi``, ``500M``, ``1e3``) as a number; None if not one."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    match = _QUANTITY.match(str(value).strip())
    if match is None or match.group(2) not in _SUFFIX:
        return None
    try:
        return Decimal(match.group(1)) * _SUFFIX[match.group(2)]
    except InvalidOperation:
        return None


def first(*values: Any, default: Any = None) -> Any:
    """The first value that is not None (a field's default when the manifest omits it)."""
    return next((v for v in values if v is not None), default)
