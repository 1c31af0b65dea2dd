"""What helm says when a template fails, without its noise: the template location and the cause.

helm 3 writes ``template: c/templates/x.yaml:35:18: executing "c/templates/x.yaml" at <.Values.a.b>:
nil pointer …`` on one line; helm 4 splits the same error over three lines (``c/templates/x.yaml:35:18``,
``executing …``, ``nil pointer …``) and, rendering an umbrella whose sub-charts are symlinks, pads
it with ``level=INFO msg="found symbolic link in path…"`` lines (helm 3 with ``walk.go:75: found
symbolic link in path: …``). Both become one cause here; ``without_noise`` is the one filter of
those lines, for every helm error chartforge shows (check's findings, ``render``'s errors).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NOISE = re.compile(
    r"^(level=(DEBUG|INFO|WARN)\b.*|walk\.go:\d+: found symbolic link in path: .*"
    r"|Use --debug flag to render out invalid YAML.*|\s*)$"
)
_AT = re.compile(
    r"(?:template: )?(?P<file>[\w.-]+(?:/charts/[\w.-]+)*/templates/[^\s:()]+):(?P<line>[0-9]+)(?::(?P<col>[0-9]+))?:?"
)
_EXECUTING = re.compile(r'^executing "[^"]*" ')


def without_noise(text: str) -> str:
    """helm's stderr without its noise lines (log lines, symlink notices, ``--debug`` advice, blanks)."""
    return "".join(line + "\n" for line in text.splitlines() if not _NOISE.match(line))


def clean(text: str) -> str:
    """helm's message on one line: noise lines dropped, ``Error:`` and continuation lines joined."""
    joined = " ".join(line.strip() for line in without_noise(text).splitlines())
    return joined.removeprefix("Error: ").strip()


@dataclass(frozen=True)
class TemplateFailure:
    """A failed template: ``charts/<chart>/templates/x.yaml`` at ``line``:``column``, and why."""

    chart: str
    generated: str
    line: int
    column: int
    cause: str


def template_failure(text: str) -> TemplateFailure | None:
    """The first template location in a helm error (where the author's template failed), if any."""
    message = clean(text)
    match = _AT.search(message)
    if match is None:
        return None
    parts = match.group("file").split("/")
    at = len(parts) - 1 - parts[::-1].index("templates")
    chart = parts[at - 1]
    cause = message[match.end() :].strip()
    cause = _EXECUTING.sub("", cause).removeprefix("at ").strip()
    return TemplateFailure(
        chart, f"charts/{chart}/{'/'.join(parts[at:])}", int(match.group("line")), int(match.group("col") or 0),
        cause or message,
    )  # fmt: skip
