"""The one model of a rendered Kubernetes object, :class:`Manifest`, parsed once from YAML.

validate, policy and check all read these records: ``helm template`` output and manifest
files are parsed here once, never again downstream.

The stream is split on document markers first, so that each document keeps its own raw
text (the kubeconform engine feeds exactly that text to kubeconform), its start line and
the ``# Source: chart/templates/x.yaml`` comment ``helm template`` writes above it, and so
that a YAML error in one document becomes an invalid record for that document only.

Each document is loaded by :mod:`chartforge.yamlload`, which reads YAML the way kubeconform and
kubectl (``sigs.k8s.io/yaml``) do, through :mod:`chartforge.yamlfast` (a native parser for the
documents where it provably gives the same objects).
"""

from __future__ import annotations

import itertools
import re
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from chartforge.errors import UserError
from chartforge.yamlfast import load_document

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")

_FIRST_MARKER = re.compile(r"(---|\.\.\.)(?=[ \t\r\n]|\Z)")
_MARKER = re.compile(r"\n(---|\.\.\.)(?=[ \t\r\n]|\Z)")  # a literal first: a fast scan
_SOURCE = re.compile(r"^# Source: (\S.*?)\s*$", re.MULTILINE)
_CONTENT = re.compile(r"^[ \t]*[^\s#]", re.MULTILINE)


@dataclass(frozen=True)
class Manifest:
    """One Kubernetes object (or one broken document) from a manifest stream.

    ``file``/``line`` locate the document (``line`` 0: built in code, not read from a file);
    ``source`` is the Helm template from the ``# Source:`` comment
    (``postgresql-ha/templates/statefulset.yaml``); ``obj`` is the parsed object.

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

    @classmethod
    def of(cls, obj: Mapping[str, Any], *, source: str = "", file: str = "", line: int = 0) -> Manifest:
        """A record for an object that was not read from a stream (built in code, in tests)."""
        return _from_object(dict(obj), file, _Chunk(0, line, ""), source, None)

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
    first = _FIRST_MARKER.match(text)
    for match in itertools.chain([first] if first else [], _MARKER.finditer(text)):
        start = match.start(1)
        line += text.count("\n", scanned, start)
        scanned = start
        body = prefix + text[body_start:start]
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


def _from_object(obj: object, file: str, chunk: _Chunk, source: str, item: int | None) -> Manifest:
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
        return Manifest(**base, error=f"{what} is not a mapping (got {got})", error_line=chunk.line)  # type: ignore[arg-type]
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    name, namespace = _meta(obj)
    missing = [k for k, v in (("kind", kind), ("apiVersion", api_version)) if not isinstance(v, str) or not v]
    return Manifest(
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


def _parse_chunk(file: str, chunk: _Chunk) -> Iterator[Manifest]:
    found = _SOURCE.search(chunk.text)
    source = found.group(1) if found else ""
    try:
        obj = load_document(chunk.text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        if mark is not None and not chunk.text[mark.index :].strip():  # hit the end: say where it began
            mark = getattr(exc, "context_mark", None) or mark
        line = chunk.line + mark.line if mark is not None else chunk.line
        problem = getattr(exc, "problem", None) or str(exc)
        context = getattr(exc, "context", None)
        message = f"invalid YAML: {problem}" + (f" ({context})" if context else "")
        yield Manifest(
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


def parse_manifest_text(text: str, file: str = "<stdin>") -> list[Manifest]:
    """Parse a multi-document YAML string (e.g. ``helm template`` output) into records."""
    resources: list[Manifest] = []
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


def load_manifests(paths: Iterable[str | Path]) -> list[Manifest]:
    """Parse every manifest under ``paths`` (``-`` reads stdin) into records, in order."""
    resources: list[Manifest] = []
    for path in iter_manifest_files(Path(p) for p in paths):
        if str(path) == "-":
            resources.extend(parse_manifest_text(sys.stdin.read(), "<stdin>"))
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            resources.append(Manifest(str(path), 0, 1, error=f"cannot read file: {exc}", error_line=1))
            continue
        resources.extend(parse_manifest_text(text, str(path)))
    return resources


def objects_only(manifests: Iterable[Manifest]) -> list[Manifest]:
    """``manifests`` when every document is a usable object; else a user error at the first that is not
    (a stage that judges objects cannot judge what it cannot read; ``chartforge validate`` reports
    such documents in full)."""
    out = list(manifests)
    for m in out:
        if m.error is not None:
            raise UserError(
                f"cannot check this document: {m.error}", path=m.file, line=m.error_line or m.line
            )
    return out
