"""A multi-document YAML stream cut into its documents, as text: where each starts and ends.

:func:`split_documents` gives each document's text with its index and first line (what
:mod:`chartforge.manifests` parses and reports); :func:`cut_point` finds where a stream can be
cut in two so that the parts split exactly as the whole does (a large stream parsed on two cores).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

_FIRST_MARKER = re.compile(r"(---|\.\.\.)(?=[ \t\r\n]|\Z)")
_MARKER = re.compile(r"\n(---|\.\.\.)(?=[ \t\r\n]|\Z)")  # a literal first: a fast scan
_CONTENT = re.compile(r"^[ \t]*[^\s#]", re.MULTILINE)


class Chunk:
    """One document: its index in the stream, the line it starts at (1-based), its text."""

    __slots__ = ("index", "line", "text")

    def __init__(self, index: int, line: int, text: str) -> None:
        self.index, self.line, self.text = index, line, text


def split_documents(text: str, first_line: int = 1) -> Iterator[Chunk]:
    """Yield the YAML documents of ``text`` with their index and first line.

    A ``---`` line always starts a document; text before the first marker or after a
    ``...`` end marker is a document only if it holds more than comments. The marker
    itself is blanked (not removed) so line and column numbers inside a chunk still
    match the stream. ``first_line``: the line number of the first line of ``text``.
    """
    index = 0
    body_start, body_line, prefix, explicit = 0, first_line, "", False
    line, scanned = first_line, 0
    first = _FIRST_MARKER.match(text)
    for match in itertools.chain([first] if first else [], _MARKER.finditer(text)):
        start = match.start(1)
        line += text.count("\n", scanned, start)
        scanned = start
        body = prefix + text[body_start:start]
        if explicit or _CONTENT.search(body):
            yield Chunk(index, body_line, body)
            index += 1
        body_start, body_line, prefix = match.end(), line, "   "
        explicit = match.group(1) == "---"
    body = prefix + text[body_start:]
    if explicit or _CONTENT.search(body):
        yield Chunk(index, body_line, body)


def cut_point(text: str, share: float) -> int:
    """The start of the first ``---`` marker line after ``share`` of ``text`` (0: none).

    ``text[:cut]`` then splits into the whole's documents up to that marker (the last one ends
    where the whole's does, at the marker), and ``text[cut:]`` into the rest: it starts with the
    marker, so its documents are the whole's, numbered from 0 and from line 1 of the part.
    """
    at = text.find("\n---", int(len(text) * share))
    while at >= 0 and not (at + 4 == len(text) or text[at + 4] in " \t\r\n"):
        at = text.find("\n---", at + 1)
    return at + 1 if at >= 0 else 0
