"""Loading source YAML with line numbers, and emitting YAML deterministically.

Sources are read with libyaml (PyYAML's C parser: ruamel's round-trip loader was a third of
``chartforge check``'s time) through constructors that remember the line of every key and
item, so errors found later (a wrong type, an unknown key) point back at the exact line the
user wrote. Duplicate keys are errors.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from chartforge.errors import SourceError, UserError
from chartforge.yamlbound import check_bounds


class _Lines:
    """Line/column bookkeeping with the interface of ruamel's ``.lc`` (0-based, like ruamel)."""

    __slots__ = ("_items", "_keys", "col", "line")

    def __init__(self, line: int, col: int) -> None:
        self.line, self.col = line, col
        self._keys: dict[Any, tuple[int, int]] = {}
        self._items: list[tuple[int, int]] = []

    def key(self, key: Any) -> tuple[int, int]:
        return self._keys[key]

    def item(self, index: int) -> tuple[int, int]:
        return self._items[index]


class LineMap(dict[Any, Any]):
    """A dict that remembers the line of each key (``.lc.key(k)``)."""

    lc: _Lines


class LineList(list[Any]):
    """A list that remembers the line of each item (``.lc.item(i)``)."""

    lc: _Lines


_BaseLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _LineLoader(_BaseLoader):  # type: ignore[valid-type,misc]
    """libyaml's parser (fast) with constructors that record lines and refuse duplicate keys."""


def _construct_map(loader: _LineLoader, node: yaml.MappingNode) -> Iterator[LineMap]:
    data = LineMap()
    data.lc = _Lines(node.start_mark.line, node.start_mark.column)
    yield data
    loader.flatten_mapping(node)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in data:
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping",
                node.start_mark,
                f"found duplicate key {key!r}",
                key_node.start_mark,
            )
        data[key] = loader.construct_object(value_node, deep=True)
        data.lc._keys[key] = (key_node.start_mark.line, key_node.start_mark.column)


def _construct_seq(loader: _LineLoader, node: yaml.SequenceNode) -> Iterator[LineList]:
    data = LineList()
    data.lc = _Lines(node.start_mark.line, node.start_mark.column)
    yield data
    for child in node.value:
        data.append(loader.construct_object(child, deep=True))
        data.lc._items.append((child.start_mark.line, child.start_mark.column))


_LineLoader.add_constructor("tag:yaml.org,2002:map", _construct_map)
_LineLoader.add_constructor("tag:yaml.org,2002:seq", _construct_seq)


def read_text(path: Path, *, display: str | None = None, error: type[UserError] = SourceError) -> str:
    """The UTF-8 text of ``path``; a missing, unreadable or non-UTF-8 file is ``error`` naming it."""
    shown = display or str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise error("file not found", path=shown) from exc
    except IsADirectoryError as exc:
        raise error("is a directory, not a file", path=shown) from exc
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror or exc}", path=shown) from exc
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise error(
            f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})", path=shown, line=line,
            hint="save the file as UTF-8",
        ) from exc  # fmt: skip


def load_yaml(path: Path, *, display: str | None = None, error: type[UserError] = SourceError) -> Any:
    """Parse ``path``; a syntax error becomes ``error`` with file and line."""
    shown = display or str(path)
    return load_yaml_text(read_text(path, display=shown, error=error), display=shown, error=error)


def load_yaml_text(text: str, *, display: str, error: type[UserError] = SourceError) -> Any:
    """Parse YAML text (libyaml, YAML 1.1 like Helm); mappings and lists remember their lines.

    Alias expansion and nesting are bounded (:mod:`chartforge.yamlbound`): a "billion laughs"
    file is ``error`` with its line, not a hang.
    """
    try:
        loader = _LineLoader(text)
        try:
            node = loader.get_single_node()
            check_bounds(node)
            return loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = (exc.problem or exc.context or "invalid YAML").strip()
        ctx = exc.context_mark
        if exc.problem and exc.context and ctx is not None and mark is not None and ctx.line != mark.line:
            problem += f" ({exc.context.strip()} started at line {ctx.line + 1})"
        raise error(f"malformed YAML: {problem}", path=display, line=line) from exc
    except yaml.YAMLError as exc:
        raise error(f"malformed YAML: {exc}", path=display) from exc


def line_of(node: Any, key: str | int | None = None) -> int | None:
    """1-based line of ``key`` inside ``node`` (or of the node itself), when the loader recorded it."""
    lc = getattr(node, "lc", None)
    if lc is None:
        return None
    try:
        if key is not None and isinstance(node, Mapping) and key in node:
            return int(lc.key(key)[0]) + 1
        if key is not None and isinstance(node, list) and isinstance(key, int):
            return int(lc.item(key)[0]) + 1
        return int(lc.line) + 1
    except (AttributeError, KeyError, IndexError, TypeError):
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
    """Line-recording containers (and any Mapping/sequence) → plain dict/list, JSON friendly."""
    if isinstance(data, Mapping):
        return {str(k): plain(v) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [plain(v) for v in data]
    if isinstance(data, bool | int | float | str) or data is None:
        # subclasses of the builtins (e.g. from other YAML libraries) become the builtins
        for base in (bool, int, float, str):
            if isinstance(data, base):
                return base(data)
    return data


def closest(word: str, candidates: Iterable[str]) -> str | None:
    matches = difflib.get_close_matches(word, list(candidates), n=1, cutoff=0.6)
    return matches[0] if matches else None


#: at most this many close matches are suggested
HINT_NAMES = 5
#: a set of at most this many names is listed when none is close (environments, charts); a larger one is counted
SUGGEST_AT_MOST = 12


def did_you_mean(word: str, candidates: Iterable[str]) -> str:
    """A short hint for an unknown name: its close matches (at most five), never a dump of every name.

    With no close match, a set of up to twelve names is listed; a larger one is only counted.
    """
    cands = sorted(set(candidates))
    if not cands:
        return "no keys are allowed here"
    # A name the word abbreviates ('dev' → 'development') first, then the close spellings.
    prefixed = [c for c in cands if len(word) >= 2 and c.lower().startswith(word.lower()) and c != word]
    close = difflib.get_close_matches(word, cands, n=HINT_NAMES, cutoff=0.6)
    matches = (prefixed + [c for c in close if c not in prefixed])[:HINT_NAMES]
    if matches:
        others = "".join(f", '{m}'" for m in matches[1:])
        return f"did you mean '{matches[0]}'?" + (f" (or {others[2:]})" if others else "")
    if len(cands) <= SUGGEST_AT_MOST:
        return "expected one of: " + ", ".join(cands)
    return f"no allowed name is close to it ({len(cands)} are allowed here; see the schema or documentation)"


def scalar(value: Any) -> str:
    """One YAML scalar (or flow collection) as text, quoted exactly when YAML needs it."""
    text = yaml.safe_dump(value, default_flow_style=True, width=10_000, allow_unicode=True, sort_keys=False)
    text = text.strip()
    if text.endswith("\n..."):
        text = text[: -len("\n...")]
    return text.removesuffix("...").strip()


class _IndentedDumper(yaml.SafeDumper):
    """Block sequences indented under their key (``key:\n  - a``), as yamllint's ``consistent``
    indentation wants when a file also has sequences written that way."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def dump(data: Any, *, width: int = 10_000, indent_sequences: bool = False) -> str:
    """Block-style YAML, keys in the given order, stable across runs.

    ``width`` folds long plain scalars (a file meant for people and yamllint: 120 columns);
    ``indent_sequences`` indents block sequences under their key.
    """
    dumper = _IndentedDumper if indent_sequences else yaml.SafeDumper
    text: str = yaml.dump(
        data, Dumper=dumper, default_flow_style=False, sort_keys=False, width=width, allow_unicode=True
    )
    return text
