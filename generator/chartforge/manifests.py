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

import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import yaml

from chartforge import forkwork, gcpause
from chartforge.documents import Chunk as _Chunk
from chartforge.documents import cut_point
from chartforge.documents import split_documents as split_documents  # re-exported: callers split here
from chartforge.errors import UserError
from chartforge.yamlfast import load_document

MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")
FORK_MIN_CHARS = 512 * 1024  # a stream this large is parsed on two cores (parse_manifest_text)
FORK_SHARE = 0.42  # this process's share of the text (it also forks, then rebuilds the child's records)

_SOURCE = "# Source: "


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


_FIELDS = tuple(f.name for f in fields(Manifest))


def _built(values: tuple[Any, ...]) -> Manifest:
    """``Manifest(*values)`` in one step: the instance dict filled at once (what the frozen
    ``__init__`` does one ``object.__setattr__`` at a time); a parse makes thousands."""
    record = object.__new__(Manifest)
    record.__dict__.update(zip(_FIELDS, values, strict=True))
    return record


def _meta(obj: dict[str, Any]) -> tuple[str, str]:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return "", ""
    name = meta.get("name") or meta.get("generateName") or ""
    return str(name), str(meta.get("namespace") or "")


def _from_object(obj: object, file: str, chunk: _Chunk, source: str, item: int | None) -> Manifest:
    raw = chunk.text if item is None else ""
    if type(obj) is dict:
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        if type(api_version) is str and type(kind) is str and api_version and kind:  # most: one step
            name, namespace = _meta(obj)
            return _built(
                (file, chunk.index, chunk.line, api_version, kind, name, namespace, source, item, None, None, obj, raw)
            )  # fmt: skip
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
        raw=raw,
    )


def source_comment(text: str) -> str:
    """The template a ``# Source: x`` line names (the first that starts a line, ``x`` not blank), or "".

    ``^# Source: (\\S.*?)\\s*$`` (multi-line) by substring search: a tenth of the regex's cost,
    since ``^`` first leaves the regex engine to try every position of the document.
    """
    at = text.find(_SOURCE)
    while at >= 0:
        if at == 0 or text[at - 1] == "\n":
            end = text.find("\n", at)
            rest = text[at + len(_SOURCE) : end if end >= 0 else len(text)]
            if rest[:1] and not rest[0].isspace():
                return rest.rstrip()
        at = text.find(_SOURCE, at + 1)
    return ""


def _parse_chunk(file: str, chunk: _Chunk) -> Iterator[Manifest]:
    source = source_comment(chunk.text)
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


def _parse_part(text: str, file: str, first_line: int = 1) -> tuple[list[Manifest], int]:
    """The records of ``text``, and the document index a part that follows it starts at."""
    resources: list[Manifest] = []
    count = 0
    for chunk in split_documents(text, first_line):
        resources.extend(_parse_chunk(file, chunk))
        count = chunk.index + 1
    return resources, count


def _rows(text: str, file: str, first_line: int) -> tuple[int, list[tuple[Any, ...]]]:
    """:func:`_parse_part` as plain tuples (what :mod:`.forkwork` sends back from the child)."""
    resources, count = _parse_part(text, file, first_line)
    return count, [tuple(m.__dict__[name] for name in _FIELDS) for m in resources]


def _from_row(row: tuple[Any, ...], index_offset: int) -> Manifest:
    record = _built(row)
    record.__dict__["document_index"] += index_offset  # the child counted from its first document
    return record


def parse_manifest_text(text: str, file: str = "<stdin>") -> list[Manifest]:
    """Parse a multi-document YAML string (e.g. ``helm template`` output) into records.

    A stream of ``FORK_MIN_CHARS`` or more is cut at a document marker and its second part
    parsed by a forked child (:mod:`.forkwork`) while this process parses the first: the same
    records, in the same order, as one process gives (the child's share is parsed here again
    if the child gives nothing). The cyclic garbage collector waits meanwhile (:mod:`.gcpause`).
    """
    with gcpause.paused():
        return _parse_stream(text, file)


def _parse_stream(text: str, file: str) -> list[Manifest]:
    cut = cut_point(text, FORK_SHARE) if len(text) >= FORK_MIN_CHARS else 0
    rest_line = text.count("\n", 0, cut) + 1
    child = forkwork.start(lambda: _rows(text[cut:], file, rest_line)) if cut else None
    if child is None:
        return _parse_part(text, file)[0]
    try:
        resources, count = _parse_part(text[:cut], file)
    except BaseException:
        child.cancel()
        raise
    rows = child.result()
    if isinstance(rows, tuple):
        resources.extend(_from_row(row, count) for row in rows[1])
    else:  # the child gave nothing: its share parsed here, the same records
        rest, _ = _parse_part(text[cut:], file, rest_line)
        resources.extend(replace(m, document_index=m.document_index + count) for m in rest)
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
