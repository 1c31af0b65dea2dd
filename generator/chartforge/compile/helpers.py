"""Named templates a chart never uses are left out of its generated ``_helpers.tpl``.

Every chart is compiled self-contained (no library chart to version and publish alongside it), so
each one gets the shared helpers of ``sources/macros/k8s.j2`` (names, labels, image references,
service accounts). A reader of ``charts/`` should see only what the chart needs: a ``define`` that
nothing includes — no template, no other kept ``define``, no values file or environment file (values
rendered through ``tpl`` may include a named template) — is dropped with the comment right above it.

Conservative by construction: a file whose actions do not nest cleanly, or a chart that includes a
template by a computed name (``include (printf …)``, ``include $name``), keeps every ``define``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_ACTION = re.compile(r"\{\{-?\s*(.*?)\s*-?\}\}", re.S)
_OPENS = ("define ", "if ", "range ", "with ", "block ")
_DEFINE = re.compile(r'define\s+"([^"]+)"')
_USE = re.compile(r'\b(?:include|template)\s+"([^"]+)"')
_DYNAMIC_USE = re.compile(r'\b(?:include|template)\s+(?!\\?")\S')  # a name computed, not quoted


@dataclass(frozen=True)
class _Define:
    name: str
    start: int  # offset of the block (its comment included) in the file
    end: int  # offset after the block and its line break
    body: str


def _defines(text: str) -> list[_Define] | None:
    """The top-level ``define`` blocks of a template file; None when its actions do not nest."""
    found: list[_Define] = []
    depth = 0
    opened: tuple[str, int] | None = None
    comment: tuple[int, int] | None = None  # the last top-level comment action (start, end)
    for match in _ACTION.finditer(text):
        action = match.group(1)
        if action.startswith("/*"):
            if depth == 0:
                comment = (match.start(), match.end())
            continue
        if action.startswith(_OPENS) or action in ("if", "range", "with"):
            if depth == 0:
                define = _DEFINE.match(action)
                if define is None:
                    return None  # only defines at the top level of a helpers file
                start = match.start()
                if comment is not None and not text[comment[1] : start].strip():
                    start = comment[0]  # the define's own comment goes with it
                opened = (define.group(1), _line_start(text, start))
            depth += 1
        elif action == "end":
            depth -= 1
            if depth < 0:
                return None
            if depth == 0 and opened is not None:
                end = match.end() + (1 if text[match.end() : match.end() + 1] == "\n" else 0)
                found.append(_Define(opened[0], opened[1], end, text[opened[1] : end]))
                opened = None
        if depth == 0:
            comment = None
    return found if depth == 0 else None


def _line_start(text: str, offset: int) -> int:
    return text.rfind("\n", 0, offset) + 1


def _without(text: str, block: _Define) -> str:
    """``text`` minus ``block`` and the blank line that separated it from the next one."""
    before, after = text[: block.start], text[block.end :]
    if (not before or before.endswith("\n\n")) and after.startswith("\n"):
        after = after[1:]
    elif not after and before.endswith("\n\n"):
        before = before[:-1]
    return before + after


def trim_helpers(files: Mapping[str, str], also_read: Iterable[str] = ()) -> dict[str, str]:
    """``files`` (path in the chart → text) with unused ``define`` blocks removed from ``templates/_*.tpl``.

    ``also_read``: other texts that may include the chart's named templates (environment files)."""
    helper_paths = [p for p in files if p.startswith("templates/_") and p.endswith(".tpl")]
    parsed = {p: _defines(files[p]) for p in helper_paths}
    if not helper_paths or any(d is None for d in parsed.values()):
        return dict(files)
    defines = {d.name: d for ds in parsed.values() for d in ds or ()}
    readers = [t for p, t in files.items() if p not in parsed] + list(also_read)
    bodies = [d.body for d in defines.values()]
    if any(_DYNAMIC_USE.search(t) for t in (*readers, *bodies)):
        return dict(files)
    wanted = {name for t in readers for name in _USE.findall(t)} | {
        name for t in readers for name in defines
        if name in t and re.search(rf"(?<![\w.-]){re.escape(name)}(?![\w.-])", t)  # `in`: a cheap first look
    }  # fmt: skip
    todo = [n for n in wanted if n in defines]
    while todo:  # what the kept defines include, transitively
        for used in _USE.findall(defines[todo.pop()].body):
            if used in defines and used not in wanted:
                wanted.add(used)
                todo.append(used)
    out = dict(files)
    for path, blocks in parsed.items():
        text = files[path]
        for block in sorted(blocks or (), key=lambda b: -b.start):
            if block.name not in wanted:
                text = _without(text, block)
        out[path] = text
    return out
