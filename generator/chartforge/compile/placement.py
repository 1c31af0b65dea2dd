"""Column-free blocks: ``[[> macro(...) ]]`` places a macro's block at the column it is written at.

Shared macros used to take the absolute column they were pasted at (``k8s.selector(chart.name,
"x", 6)``), because Helm's ``nindent N`` inside them counts from column 0. A macro written for
column 0 can instead be shifted: :func:`reindent` indents every line of a block by ``n`` and adds
``n`` to each Helm ``indent``/``nindent`` inside ``{{ … }}``, which is what a macro computing its
counts from column ``n`` would have emitted. :class:`Placement` rewrites a source line
``<spaces>[[> EXPR ]]`` to ``[[ (EXPR) | reindent(<len(spaces)>) ]]`` before Jinja parses it (one
line for one line, so template line numbers stay true), so authors write the call where the
block belongs and never count columns. ``to_yaml`` turns a Jinja dict/list literal into YAML
text, so macros take structured arguments instead of YAML in escaped strings.
"""

from __future__ import annotations

import re
from typing import Any

import jinja2
import yaml
from jinja2.ext import Extension
from jinja2.filters import do_indent

PLACED = re.compile(r"^(?P<ws>[ ]*)\[\[>\s*(?P<expr>.*?)\s*\]\](?P<end>[ \t]*)$", re.MULTILINE)
HELM_ACTION = re.compile(r"\{\{.*?\}\}", re.DOTALL)
HELM_INDENT = re.compile(r"\b(n?indent)(\s+)(\d+)\b")


def reindent(text: Any, n: int) -> str:
    """``text`` (a block written for column 0) moved to column ``n``, Helm indents included."""
    block = str(text)
    if n == 0:
        return block
    shifted = HELM_ACTION.sub(
        lambda action: HELM_INDENT.sub(lambda m: f"{m[1]}{m[2]}{int(m[3]) + n}", action[0]), block
    )
    return str(do_indent(shifted, n, first=True))


def to_yaml(value: Any) -> str:
    """A Jinja literal (dict, list, scalar) as block YAML, keys in the order written, no trailing newline."""
    return yaml.safe_dump(value, default_flow_style=False, sort_keys=False, width=10_000).rstrip("\n")


class Placement(Extension):
    """The ``[[> EXPR ]]`` line form (see the module docstring)."""

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return PLACED.sub(lambda m: f"[[ ({m['expr']}) | reindent({len(m['ws'])}) ]]{m['end']}", source)


def install(env: jinja2.Environment) -> None:
    env.add_extension(Placement)
    env.filters["reindent"] = reindent
    env.filters["to_yaml"] = to_yaml
