"""What a values parameter can be, from the chart's values schema: the ``Val`` of the quoting check.

A ``Val`` is what a Helm pipeline produces, as far as the check can tell: its kind (``safe``: a
formatter's output; ``scalar``: a number, boolean, or a string of an enum whose members YAML reads
back as themselves; ``string``; ``structure``: an object or array; ``unknown``: undeclared), the
parameter it comes from, and which YAML-significant characters it may hold (:mod:`yamlchars`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import yaml

from chartforge.compile.yamlchars import DANGER, LF, pattern_chars
from chartforge.compile.yamlcontext import Context

_NUMBERISH = re.compile(r"^[-+]?(0[oO][0-7_]+|0[xX][0-9a-fA-F_]+|0[bB][01_]+|[0-9][0-9_:]*(\.[0-9_]*)?"
                        r"([eE][-+]?[0-9]+)?|\.[0-9]+([eE][-+]?[0-9]+)?|\.(inf|Inf|INF|nan|NaN|NAN))$")  # fmt: skip
# kinds, from safest: "safe" (formatted), "scalar" (number, boolean, or a string of an enum whose
# members all read back as themselves), "string", "structure" (object or array), "unknown"
# (undeclared); "root" is the $ of a file. ``chars``: the YAML-significant characters it may hold.
RANK = {"root": 0, "safe": 0, "scalar": 1, "string": 2, "structure": 3, "unknown": 4}


@dataclass(frozen=True)
class Val:
    kind: str
    path: str | None = None  # the values parameter it comes from, when it can be hostile
    chars: frozenset[str] = frozenset()
    indent: int | None = None  # set by indent/nindent N
    literal: str | None = None  # the value of a string literal

    @property
    def hostile(self) -> bool:
        return self.path is not None and self.kind not in ("root", "safe")

    def raw_ok(self, where: Context) -> bool:
        """Whether writing this value as it is, at ``where``, leaves the YAML as the template wrote it."""
        if not self.hostile:
            return True
        if self.kind not in ("scalar", "string"):
            return False  # an object, array or undeclared value is never text
        if where.where == "start":
            return self.kind == "scalar"
        bad = self.chars & where.forbidden
        if where.where == "block" and bad == {LF}:
            return (self.indent or 0) > where.header  # every line re-indented inside the block
        return not bad


def worst(vals: list[Val]) -> Val:
    worst = max(vals, key=lambda v: (v.hostile, RANK[v.kind]))
    return replace(worst, chars=frozenset().union(*(v.chars for v in vals if v.hostile)))


@functools.lru_cache(maxsize=4096, typed=True)  # pure; the same enums recur in every chart
def plain_safe(value: object) -> bool:
    """A string YAML reads back as the same string, as a plain scalar (YAML 1.1 and 1.2)."""
    if not isinstance(value, str) or not value or value != value.strip() or _NUMBERISH.match(value):
        return False
    try:
        return bool(yaml.safe_load(value) == value and "\n" not in value)
    except yaml.YAMLError:
        return False


def classify(schema: Mapping[str, Any] | None) -> tuple[str, frozenset[str]]:
    """The kind of a value the schema node admits, and the YAML-significant characters it may hold."""
    if schema is None:
        return "unknown", DANGER
    enum = schema.get("enum")
    if isinstance(enum, list) and all(isinstance(v, (str, int, float, bool)) or v is None for v in enum):
        strings = [v for v in enum if isinstance(v, str)]
        chars = frozenset().union(*(set(v) & DANGER for v in strings))
        return ("scalar" if all(plain_safe(v) for v in strings) else "string"), chars
    raw = schema.get("type")
    types = {raw} if isinstance(raw, str) else set(raw or ())
    if types and types <= {"integer", "number", "boolean", "null"}:
        return "scalar", frozenset()
    if types and types <= {"object", "array", "null"}:
        return "structure", DANGER
    pattern = schema.get("pattern")
    if types == {"string"} and isinstance(pattern, str):
        return "string", pattern_chars(pattern)
    return "string", DANGER


def kinds_at(schema: Mapping[str, Any] | None, path: list[str]) -> list[tuple[str, frozenset[str]]]:
    """How the schema classifies the value at ``path`` (``[]``: any element, item or property)."""
    if schema is None:
        return [("unknown", DANGER)]
    if not path:
        return [classify(schema)]
    part, rest = path[0], path[1:]
    props = schema.get("properties", {})
    extra = schema.get("items", schema.get("additionalProperties"))
    if part == "[]":
        subs = [*props.values(), *([extra] if isinstance(extra, Mapping) else [])]
    else:
        subs = [props[part]] if part in props else [extra] if isinstance(extra, Mapping) else []
    if not subs:
        return [("unknown", DANGER)]
    return [k for sub in subs for k in kinds_at(sub, rest)]
