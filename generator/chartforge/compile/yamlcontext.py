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


def _block_header(text: str, start: int, offset: int) -> int | None:
    """The indentation of the ``key: |`` whose block scalar holds ``offset``; None outside one."""
    end = text.find("\n", offset)
    line = _CONTROL.sub("", text[start : end if end >= 0 else len(text)])
    indent = len(line) - len(line.lstrip(" "))
    for prev in reversed(text[:start].split("\n")):
        stripped = _CONTROL.sub("", prev).rstrip()
        if not stripped.strip():
            continue
        level = len(stripped) - len(stripped.lstrip(" "))
        if level < indent:
            if _BLOCK_HEADER.search(stripped):
                return level
            indent = level
            if level == 0:
                return None
    return None
