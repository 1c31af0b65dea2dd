"""Which ``sources/`` line wrote each Helm action of a rendered template.

A build renders ``sources/`` through Jinja, so a finding about the rendered Helm template must be
reported where the author can fix it. ``action_origins`` renders the file again with a Jinja
extension that puts an invisible marker (``\\ue000file:line\\ue001``, private-use characters no
source contains) before every ``{{`` of the template text and of Jinja string literals, in the
chart's templates and in the macros they call; the markers removed, the text must be the build's own, else no origin is given.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jinja2.ext import Extension
from jinja2.lexer import Token, TokenStream

from chartforge.compile.jinja import environment, render_file

_OPEN, _CLOSE = "\ue000", "\ue001"
_MARK = re.compile(f"{_OPEN}([^{_CLOSE}]*):([0-9]+){_CLOSE}")


@dataclass(frozen=True)
class Origin:
    path: str  # "sources/…"
    line: int
    via: tuple[str, int] | None = None  # the chart template line that called the macro
    rendered: bool = False  # no source line was found: ``line`` is the line of the rendered file


class _MarkActions(Extension):
    def filter_stream(self, stream: TokenStream) -> Iterator[Token]:
        for token in stream:
            # template text, and Jinja string literals holding Helm text (macro arguments)
            if token.type in ("data", "string") and "{{" in token.value:
                parts = token.value.split("{{")
                line = token.lineno + parts[0].count("\n")
                text = parts[0]
                for part in parts[1:]:
                    text += f"{_OPEN}{stream.name}:{line}{_CLOSE}{{{{{part}"
                    line += part.count("\n")
                yield Token(token.lineno, token.type, text)
            else:
                yield token


def action_origins(
    sources: Path, name: str, context: Mapping[str, Any], expected: str
) -> dict[int, Origin] | None:
    """``{offset of each "{{" in expected: its origin}``; ``expected`` ends with the build's rendering of ``name``."""
    env = environment(sources)
    env.add_extension(_MarkActions)
    marked = render_file(env, sources, name, context)
    if not expected.endswith(_MARK.sub("", marked)):
        return None
    origins: dict[int, Origin] = {}
    # actions written by Jinja expressions ([[ … ]]) carry no mark: the last mark stands for them
    current = Origin(f"sources/{name}", 1)
    caller: tuple[str, int] | None = None
    clean = len(expected) - len(_MARK.sub("", marked))  # offset in expected (after its header)
    pos = 0
    for mark in [*_MARK.finditer(marked), None]:
        segment = marked[pos : mark.start() if mark else len(marked)]
        start = 0
        while (hit := segment.find("{{", start)) >= 0:
            origins[clean + hit] = current
            start = hit + 2
        clean += len(segment)
        if mark is None:
            break
        path, line = f"sources/{mark.group(1)}", int(mark.group(2))
        if mark.group(1) == name:
            caller = (path, line)
        current = Origin(path, line, None if mark.group(1) == name else caller)
        pos = mark.end()
    return origins
