"""Parse multi-document YAML manifests once into typed :class:`Resource` records.

The stream is split on document markers first, so that each document keeps its own raw
text (the kubeconform engine feeds exactly that text to kubeconform), its start line and
the ``# Source: chart/templates/x.yaml`` comment ``helm template`` writes above it, and so
that a YAML error in one document becomes an invalid record for that document only.

The loader is PyYAML's C loader with two changes that make it read YAML the way
kubeconform (``sigs.k8s.io/yaml``) does: timestamps stay strings, and a key repeated in
one mapping is an error (kubeconform ``-strict`` rejects duplicated keys).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chartforge.errors import UserError

try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # PyYAML built without libyaml: same results, slower
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")

_MARKER = re.compile(r"^(---|\.\.\.)(?=[ \t\r]|$)", re.MULTILINE)
_SOURCE = re.compile(r"^# Source: (\S.*?)\s*$", re.MULTILINE)
_CONTENT = re.compile(r"^[ \t]*[^\s#]", re.MULTILINE)
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _Loader(_BaseLoader):
    """Safe loader: no timestamps, duplicate keys rejected, non-string keys stringified."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[tuple[str, str]] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.tag != _MERGE_TAG:
                marker = (key_node.tag, key_node.value)
                if marker in seen:
                    raise yaml.constructor.ConstructorError(
                        "while constructing a mapping",
                        node.start_mark,
                        f"found duplicate key {key_node.value!r}",
                        key_node.start_mark,
                    )
                seen.add(marker)
        self.flatten_mapping(node)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, str):
                key = _json_key(key)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


# Implicit types as go-yaml v2 (kubeconform, kubectl) resolves them, not as PyYAML does:
# y/n are booleans, 1e3 is a float, 0o17 an int, 1:30 (sexagesimal) and dates stay strings.
_REPLACED = {"tag:yaml.org,2002:" + t for t in ("bool", "int", "float", "timestamp")}
_IMPLICIT = [
    (
        "tag:yaml.org,2002:bool",
        r"y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF",
        "yYnNtTfFoO",
    ),
    (
        "tag:yaml.org,2002:float",
        r"[-+]?(?:\.[0-9][0-9_]*|[0-9][0-9_]*\.[0-9_]*|[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+"
        r"|\.[0-9][0-9_]*[eE][-+]?[0-9]+)|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
        "-+0123456789.",
    ),
    ("tag:yaml.org,2002:int", r"[-+]?(?:0b[01_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|0|[1-9][0-9_]*)", "-+0123456789"),
]
_Loader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _REPLACED]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
for _tag, _pattern, _firsts in reversed(_IMPLICIT):
    for _first in _firsts:
        _Loader.yaml_implicit_resolvers.setdefault(_first, []).insert(
            0, (_tag, re.compile(f"^(?:{_pattern})$"))
        )
_Loader.bool_values = {**_BaseLoader.bool_values, "y": True, "n": False}


def _json_key(key: object) -> str:
    """Stringify a non-string key the way ``sigs.k8s.io/yaml`` does when it converts to JSON."""
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


@dataclass(frozen=True)
class Resource:
    """One Kubernetes object (or one broken document) from a manifest stream.

    ``document_index`` counts YAML documents in ``file`` from 0 (empty documents count,
    but produce no record); ``item_index`` is set for the items of a ``kind: List``.
    ``error`` is set when the document is not a usable object (YAML error, not a
    mapping, no ``kind``/``apiVersion``); ``error_line`` then points at the problem.
    """

    file: str
    document_index: int
    line: int
    api_version: str = ""
    kind: str = ""
    name: str = ""
    namespace: str = ""
    source: str = ""
    item_index: int | None = None
    error: str | None = None
    error_line: int | None = None
    obj: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    raw: str = field(default="", compare=False, repr=False)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def label(self) -> str:
        """``file#doc`` (``file#doc.item`` inside a List), for messages and test names."""
        item = f".{self.item_index}" if self.item_index is not None else ""
        return f"{self.file}#{self.document_index}{item}"

    @property
    def location(self) -> str:
        """The helm template the object came from when known, else the manifest file."""
        return self.source or self.file


@dataclass(frozen=True)
class _Chunk:
    index: int
    line: int  # 1-based line of the chunk's first line in the stream
    text: str


def split_documents(text: str) -> Iterator[_Chunk]:
    """Yield the YAML documents of ``text`` with their index and first line.

    A ``---`` line always starts a document; text before the first marker or after a
    ``...`` end marker is a document only if it holds more than comments. The marker
    itself is blanked (not removed) so line and column numbers inside a chunk still
    match the stream.
    """
    index = 0
    body_start, body_line, prefix, explicit = 0, 1, "", False
    line, scanned = 1, 0
    for match in _MARKER.finditer(text):
        line += text.count("\n", scanned, match.start())
        scanned = match.start()
        body = prefix + text[body_start : match.start()]
        if explicit or _CONTENT.search(body):
            yield _Chunk(index, body_line, body)
            index += 1
        body_start, body_line, prefix = match.end(), line, "   "
        explicit = match.group(1) == "---"
    body = prefix + text[body_start:]
    if explicit or _CONTENT.search(body):
        yield _Chunk(index, body_line, body)


def _meta(obj: dict[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return "", ""
    name = meta.get("name") or meta.get("generateName") or ""
    return str(name), str(meta.get("namespace") or "")


def _from_object(obj: object, file: str, chunk: _Chunk, source: str, item: int | None) -> Resource:
    base = {
        "file": file,
        "document_index": chunk.index,
        "line": chunk.line,
        "source": source,
        "item_index": item,
    }
    if not isinstance(obj, dict):
        got = type(obj).__name__ if obj is not None else "null"
        what = "List item" if item is not None else "document"
        return Resource(**base, error=f"{what} is not a mapping (got {got})", error_line=chunk.line)  # type: ignore[arg-type]
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    name, namespace = _meta(obj)
    missing = [k for k, v in (("kind", kind), ("apiVersion", api_version)) if not isinstance(v, str) or not v]
    return Resource(
        **base,  # type: ignore[arg-type]
        api_version=api_version if isinstance(api_version, str) else "",
        kind=kind if isinstance(kind, str) else "",
        name=name,
        namespace=namespace,
        error=f"missing or empty {' and '.join(missing)}" if missing else None,
        error_line=chunk.line if missing else None,
        obj=obj,
        raw=chunk.text if item is None else "",
    )


def _parse_chunk(file: str, chunk: _Chunk) -> Iterator[Resource]:
    found = _SOURCE.search(chunk.text)
    source = found.group(1) if found else ""
    try:
        obj = yaml.load(chunk.text, Loader=_Loader)  # _Loader derives from the safe loader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        if mark is not None and not chunk.text[mark.index :].strip():  # hit the end: say where it began
            mark = getattr(exc, "context_mark", None) or mark
        line = chunk.line + mark.line if mark is not None else chunk.line
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
        yield Resource(
            file, chunk.index, chunk.line, source=source, error=message, error_line=line, raw=chunk.text
        )
        return
    if obj is None:
        return
    if isinstance(obj, dict) and obj.get("kind") == "List" and isinstance(obj.get("items"), list):
        for i, item in enumerate(obj["items"]):
            yield _from_object(item, file, chunk, source, i)
        return
    yield _from_object(obj, file, chunk, source, None)


def parse_manifest_text(text: str, file: str = "<stdin>") -> list[Resource]:
    """Parse a multi-document YAML string (e.g. ``helm template`` output) into resources."""
    resources: list[Resource] = []
    for chunk in split_documents(text):
        resources.extend(_parse_chunk(file, chunk))
    return resources


def iter_manifest_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Expand ``paths``: files as given, directories recursively (``*.yaml|yml|json``, sorted)."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.suffix in MANIFEST_SUFFIXES and p.is_file())
        elif path.is_file() or str(path) == "-":
            yield path
        else:
            raise UserError("no such file or directory", path=path, hint="pass manifest files or directories")


def load_manifests(paths: Sequence[Path]) -> list[Resource]:
    """Parse every manifest under ``paths`` (``-`` reads stdin) into resources, in order."""
    import sys

    resources: list[Resource] = []
    for path in iter_manifest_files(paths):
        if str(path) == "-":
            resources.extend(parse_manifest_text(sys.stdin.read(), "<stdin>"))
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            resources.append(Resource(str(path), 0, 1, error=f"cannot read file: {exc}", error_line=1))
            continue
        resources.extend(parse_manifest_text(text, str(path)))
    return resources
