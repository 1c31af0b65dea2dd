"""Which YAML-significant characters a parameter's schema ``pattern`` lets a string contain.

Where a value lands decides what it can break: in a block scalar (a config file in a ConfigMap,
a PromQL ``expr: |``) only a line break can end the scalar; inside a double-quoted scalar also
``"`` and ``\\``; inside a plain scalar ``:`` and ``#``; inside a flow collection ``,[]{}``. YAML
(and Go's yaml, which Helm uses) breaks lines on LF, CR, NEL, LS and PS. The analysis walks the
pattern's syntax tree conservatively: a pattern not anchored at both ends (Helm checks
``values.schema.json`` with Go regexps, where ``$`` ends the text), a ``.`` (Go's matches all
but LF), ``\\D``, ``\\W`` or a negated class counts as allowing every character it does not exclude.
"""

from __future__ import annotations

import functools
import re
from re import _constants as C  # type: ignore[attr-defined]
from re import _parser as P  # type: ignore[attr-defined]
from typing import Any

LF = "\n"
BREAKS = frozenset("\n\r\x85\u2028\u2029")
DANGER = BREAKS | frozenset("\"'\\:#,[]{}")
_CATEGORIES = {C.CATEGORY_DIGIT: frozenset(), C.CATEGORY_WORD: frozenset(),
               C.CATEGORY_NOT_SPACE: DANGER - {LF, "\r"}, C.CATEGORY_SPACE: BREAKS}  # fmt: skip


@functools.lru_cache(maxsize=4096)  # a pure function of the pattern; catalogs repeat theirs per chart
def pattern_chars(pattern: str) -> frozenset[str]:
    """The characters of ``DANGER`` a string matching ``pattern`` (a JSON schema pattern) may hold."""
    try:
        tree = list(P.parse(pattern))
    except (re.error, RecursionError, OverflowError):
        return DANGER
    starts = tree[:1] in ([(C.AT, C.AT_BEGINNING)], [(C.AT, C.AT_BEGINNING_STRING)])
    ends = tree[-1:] in ([(C.AT, C.AT_END)], [(C.AT, C.AT_END_STRING)])
    return _chars(tree) if starts and ends else DANGER


def _chars(items: Any) -> frozenset[str]:
    found: set[str] = set()
    for op, av in items:
        if op == C.LITERAL:
            found |= {chr(av)} & DANGER
        elif op == C.NOT_LITERAL:
            found |= DANGER - {chr(av)}
        elif op == C.ANY:
            found |= DANGER - {LF}
        elif op == C.IN:
            found |= _in(av)
        elif op in (C.MAX_REPEAT, C.MIN_REPEAT, C.POSSESSIVE_REPEAT):
            found |= _chars(av[2])
        elif op == C.SUBPATTERN:
            found |= _chars(av[3])
        elif op == C.ATOMIC_GROUP:
            found |= _chars(av)
        elif op == C.BRANCH:
            for branch in av[1]:
                found |= _chars(branch)
        elif op in (C.AT, C.GROUPREF, C.ASSERT, C.ASSERT_NOT):
            continue  # anchors and lookarounds consume nothing; a back-reference repeats a checked group
        else:
            return DANGER
    return frozenset(found)


def _listed(op: Any, av: Any) -> frozenset[str]:
    if op == C.LITERAL:
        return frozenset({chr(av)}) & DANGER
    if op == C.RANGE:
        return frozenset(c for c in DANGER if av[0] <= ord(c) <= av[1])
    if op == C.CATEGORY:
        return _CATEGORIES.get(av, DANGER)
    return DANGER


def _in(items: Any) -> frozenset[str]:
    if items[:1] != [(C.NEGATE, None)]:
        return frozenset().union(*(_listed(op, av) for op, av in items))
    # a negated class matches what it does not list; of the categories only \s is trusted (LF, CR)
    excluded: set[str] = set()
    for op, av in items[1:]:
        if op in (C.LITERAL, C.RANGE):
            excluded |= _listed(op, av)
        elif (op, av) == (C.CATEGORY, C.CATEGORY_SPACE):
            excluded |= {LF, "\r"}
    return DANGER - excluded
