"""Where in the YAML a Helm action of a template writes: what its text could break there.

Read from the template text around the action (the template is not YAML yet, so this reads
lines and indentation the way a YAML parser would, with the other actions taken out):

- ``start``: the action begins a plain scalar or a key (``key: {{ x }}``, ``- {{ x }}``,
  ``{{ x }}: v``): the value decides the scalar's type and may open any YAML structure;
- ``plain``: inside a plain scalar after other text (``expr: up{ {{ x }} }``): ``:``/``#``
  and line breaks break it, and ``,[]{}`` inside a flow collection;
- ``dquote`` / ``squote``: inside a ``"…"`` / ``'…'`` scalar: its quote (and ``\\``), line breaks;
- ``block``: inside a block scalar (``key: |``): only line breaks, ending the block;
- ``comment``: after ``#``: only line breaks.
"""

from __future__ import annotations

import bisect
import functools
import re
from dataclasses import dataclass
from typing import Literal

from chartforge.compile.yamlchars import BREAKS

Where = Literal["start", "plain", "dquote", "squote", "block", "comment"]
FLOW_CHARS = frozenset(",[]{}")
#: what a value may not contain in each place (``start`` accepts no string at all)
FORBIDDEN: dict[str, frozenset[str]] = {
    "plain": BREAKS | frozenset(":#"),
    "dquote": BREAKS | frozenset('"\\'),
    "squote": BREAKS | frozenset("'"),
    "block": BREAKS,
    "comment": BREAKS,
}


@dataclass(frozen=True)
class Context:
    where: Where
    header: int = 0  # block: indentation of the ``key: |`` line
    flow: bool = False  # plain: inside a flow collection ({…} or […])

    @property
    def forbidden(self) -> frozenset[str]:
        return FORBIDDEN[self.where] | (FLOW_CHARS if self.flow else frozenset())


_BLOCK_HEADER = re.compile(r"(^|:\s|-\s)[|>][-+0-9]*\s*$")
_CONTROL = re.compile(
    r"\{\{-?\s*(?:/\*.*?\*/|(?:if|else|end|range|with|define)\b[^}]*|\$\w+\s*:?=[^}]*)\s*-?\}\}"
)
_ANY_ACTION = re.compile(r"\{\{.*?\}\}")
_KEY = re.compile(r"""^(?:"(?:\\.|[^"\\])*"|'(?:''|[^'])*'|[^\s"'{\[#][^#]*?):(?: +|$)""")


def context(text: str, offset: int) -> Context:
    start = text.rfind("\n", 0, offset) + 1
    header = _block_header(text, start, offset)
    if header is not None:
        return Context("block", header=header)
    prefix = _ANY_ACTION.sub("x", text[start:offset]).lstrip(" ")
    while prefix.startswith("- ") or prefix == "-":
        prefix = prefix[2:].lstrip(" ")
    key = _KEY.match(prefix)
    scalar = prefix[key.end() :] if key else prefix
    if prefix.startswith("#") or (scalar[:1] not in ('"', "'") and re.search(r"\s#", scalar)):
        return Context("comment")
    if not scalar:
        return Context("start")
    if scalar[0] in "\"'":
        quote = scalar[0]
        body = (
            scalar[1:].replace("\\\\", "").replace('\\"', "")
            if quote == '"'
            else scalar[1:].replace("''", "")
        )
        if quote not in body:
            return Context("dquote" if quote == '"' else "squote")
        return Context("plain")
    if scalar[0] in "{[":
        inner = scalar.rstrip(" ")
        if not inner or inner[-1] in "{[,:" or inner.endswith(("- ",)):
            return Context("start")
        return Context("plain", flow=True)
    return Context("plain")


@functools.lru_cache(maxsize=256)
def _lines(text: str) -> tuple[tuple[int, ...], tuple[tuple[int, bool] | None, ...]]:
    """Line starts, and per line (control actions removed): None when blank, else (indent, is a block header)."""
    starts, info = [0], []
    for line in text.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
        stripped = _CONTROL.sub("", line).rstrip()
        level = len(stripped) - len(stripped.lstrip(" "))
        info.append((level, bool(_BLOCK_HEADER.search(stripped))) if stripped.strip() else None)
    return tuple(starts[:-1]), tuple(info)


def _block_header(text: str, start: int, offset: int) -> int | None:
    """The indentation of the ``key: |`` whose block scalar holds ``offset``; None outside one."""
    starts, info = _lines(text)
    index = bisect.bisect_right(starts, offset) - 1
    here = info[index]
    indent = here[0] if here else len(text[start:offset]) - len(text[start:offset].lstrip(" "))
    for entry in reversed(info[:index]):
        if entry is None or entry[0] >= indent:
            continue
        level, header = entry
        if header:
            return level
        indent = level
        if level == 0:
            return None
    return None
