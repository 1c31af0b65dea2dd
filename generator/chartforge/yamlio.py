"""Loading source YAML with line numbers, and emitting YAML deterministically.

Sources are read with ruamel.yaml's round-trip loader so that every mapping remembers the
line of each key: errors found later (a wrong type, an unknown key) point back at the exact
line the user wrote.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError

from chartforge.errors import SourceError, UserError


def _loader() -> YAML:
    loader = YAML(typ="rt")
    loader.allow_duplicate_keys = False
    return loader


def load_yaml(path: Path, *, display: str | None = None, error: type[UserError] = SourceError) -> Any:
    """Parse ``path``; a syntax error becomes ``error`` with file and line."""
    shown = display or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise error("file not found", path=shown) from exc
    return load_yaml_text(text, display=shown, error=error)


def load_yaml_text(text: str, *, display: str, error: type[UserError] = SourceError) -> Any:
    try:
        return _loader().load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        ctx = exc.context_mark
        if exc.problem and exc.context and ctx is not None and mark is not None and ctx.line != mark.line:
            problem += f" ({exc.context.strip()} started at line {ctx.line + 1})"
        raise error(f"malformed YAML: {problem}", path=display, line=line) from exc
    except Exception as exc:  # ruamel raises a few unmarked errors (duplicate keys, …)
        raise error(f"malformed YAML: {exc}", path=display) from exc


def line_of(node: Any, key: str | int | None = None) -> int | None:
    """1-based line of ``key`` inside ``node`` (or of the node itself), when ruamel recorded it."""
    try:
        if key is not None and isinstance(node, CommentedMap) and key in node:
            return int(node.lc.key(key)[0]) + 1
        if key is not None and isinstance(node, CommentedSeq) and isinstance(key, int):
            return int(node.lc.item(key)[0]) + 1
        if isinstance(node, CommentedMap | CommentedSeq):
            return int(node.lc.line) + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return None
    return None


def line_at(root: Any, path: Sequence[str | int]) -> int | None:
    """Line of the deepest existing element along ``path`` (a values/JSON path)."""
    node, best = root, line_of(root)
    for part in path:
        if isinstance(node, Mapping) and part in node:
            best = line_of(node, str(part)) or best
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            best = line_of(node, part) or best
            node = node[part]
        else:
            break
    return best


def plain(data: Any) -> Any:
    """ruamel containers → plain dict/list (sorted-key independent, JSON friendly)."""
    if isinstance(data, Mapping):
        return {str(k): plain(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [plain(v) for v in data]
    if isinstance(data, bool | int | float | str) or data is None:
        # ruamel's ScalarFloat/ScalarInt/… subclass the builtins; normalise them
        for base in (bool, int, float, str):
            if isinstance(data, base):
                return base(data)
    return data


def closest(word: str, candidates: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    cands = sorted(candidates)
    match = closest(word, cands)
    if match:
        return f"did you mean '{match}'?"
    return "expected one of: " + ", ".join(cands) if cands else "no keys are allowed here"


def scalar(value: Any) -> str:
    """One YAML scalar (or flow collection) as text, quoted exactly when YAML needs it."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000, allow_unicode=True, sort_keys=False)
    text = text.strip()
    if text.endswith("\n..."):
        text = text[: -len("\n...")]
    return text.removesuffix("...").strip()


def dump(data: Any) -> str:
    """Block-style YAML, keys in the given order, stable across runs."""
    return yaml.safe_dump(data, default_flow_style=False, sort_keys=False, width=10_000, allow_unicode=True)
