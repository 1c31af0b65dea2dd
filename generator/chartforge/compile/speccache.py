"""Parsed parameter specs kept between runs, keyed by their text: ``.chartforge/params.bin``.

Reading a chart's ``parameters.yaml`` (rendered from ``parameters.yaml.j2`` or not) means a YAML
parse with line numbers and alias bounds, then checking every parameter: most of what loading a
200-chart catalog costs. The result depends only on the spec's text, the name it is reported
under and chartforge's own code (with the Python, PyYAML and jsonschema it runs on), so a
spec whose digest of those is in the cache is taken from it. A spec with an error is never kept:
its error is raised again on every load. Entries are plain values (``marshal``: strings, numbers,
tuples, mappings), never code, rebuilt into :class:`~chartforge.compile.params.Param`; a cache that
cannot be read is empty, one that cannot be written is not used. It keeps the entries of the last
loads, up to :data:`KEEP`.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import importlib.metadata
import marshal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from chartforge.compile.params import Param
from chartforge.privatefile import write_private

FILE = Path(".chartforge") / "params.bin"
KEEP = 4096
_PACKAGE = Path(__file__).resolve().parents[1]
Entry = tuple[Any, ...]


@functools.cache
def code_digest() -> bytes:
    """chartforge's code and the Python, PyYAML and jsonschema it runs on (once per process)."""
    versions = f"{sys.version}\0{yaml.__version__}\0{importlib.metadata.version('jsonschema')}\0"
    digest = hashlib.sha256(versions.encode())
    for path in sorted(_PACKAGE.rglob("*.py")):
        digest.update(path.relative_to(_PACKAGE).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.digest()


def _freeze(param: Param) -> Entry:
    return (
        param.name, param.path, param.description, param.types, param.default, param.required,
        param.constraints, tuple(_freeze(c) for c in param.children), param.section, param.file, param.line,
    )  # fmt: skip


def _thaw(entry: Entry) -> Param:
    name, path, description, types, default, required, constraints, children, section, file, line = entry
    return Param(
        name, path, description, types, default, required, constraints,
        tuple(_thaw(c) for c in children), section, file, line,
    )  # fmt: skip


class SpecCache:
    """The cache of one project, read once; :meth:`save` writes what this load used and added."""

    def __init__(self, root: Path) -> None:
        self.path = root / FILE
        self.entries: dict[bytes, bytes] = {}
        with contextlib.suppress(Exception):  # missing, cut short, not ours: an empty cache
            data = marshal.loads(self.path.read_bytes())
            if isinstance(data, dict):
                self.entries = {
                    k: v for k, v in data.items() if isinstance(k, bytes) and isinstance(v, bytes)
                }
        self.used: dict[bytes, bytes] = {}
        self.added = False

    def params(
        self, text: str, file: str, prefix: str, parse: Callable[[], tuple[Param, ...]]
    ) -> tuple[Param, ...]:
        """``parse()`` (the spec ``text`` read as ``file``), or its result from the cache."""
        key = hashlib.sha256(code_digest() + f"\0{file}\0{prefix}\0{text}".encode()).digest()
        blob = self.entries.get(key)
        if blob is not None:
            with contextlib.suppress(Exception):  # a damaged entry is parsed again
                params = tuple(_thaw(e) for e in marshal.loads(blob))
                self.used[key] = blob
                return params
        params = parse()
        with contextlib.suppress(ValueError):  # a default marshal cannot hold (a YAML date): not kept
            self.used[key] = marshal.dumps(tuple(_freeze(p) for p in params))
            self.added = True
        return params

    def save(self) -> None:
        if not self.added and self.used.keys() <= self.entries.keys():
            return
        room = KEEP - len(self.used)
        older = [k for k in self.entries if k not in self.used][-room:] if room > 0 else []  # the newest
        kept = {**{k: self.entries[k] for k in older}, **self.used}
        with contextlib.suppress(OSError):
            write_private(self.path, marshal.dumps(kept))
