"""Each chart's compiled files and line map kept between builds (make/ccache style): ``.chartforge/charts/``.

A chart's compile reads its own folder under ``sources/charts/``, the catalog (a template's
context holds every chart's spec), everything of ``sources/`` outside ``sources/charts/`` (macros,
environment files, ``catalog.yaml``, ``global.yaml``) and any template it loads, chartforge's own
code and the Jinja2, PyYAML and jsonschema it runs on. An entry is keyed by a digest of all but the
loaded templates, which it lists with the digest of each (recorded while compiling,
:func:`chartforge.compile.jinja.recording`) and which must still hold the same bytes. A hit gives
what compiling would give, byte for byte; anything else compiles again and replaces the entry.
``values/<env>.yaml`` is kept the same way, keyed by the catalog-wide digest. Entries hold plain
values (``marshal``), never code; a damaged entry is a miss; a cache that cannot be written is not used.
"""

from __future__ import annotations

import contextlib
import hashlib
import marshal
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar, cast

import jinja2

from chartforge.compile.catalog import Catalog
from chartforge.compile.jinja import recording
from chartforge.compile.sourcetree import sources_files
from chartforge.compile.speccache import code_digest
from chartforge.privatefile import write_private

DIRECTORY = Path(".chartforge") / "charts"
VALUES = "_values"  # the entry of values/ (no chart is named so: names start with a letter or digit)
T = TypeVar("T")


class ChartCache:
    """The entries of one build of ``catalog`` (see the module docstring); :meth:`save` writes them."""

    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self.directory = catalog.root / DIRECTORY
        digest = hashlib.sha256(code_digest() + jinja2.__version__.encode() + b"\0" + repr(catalog).encode())
        self._add_files(digest, catalog.sources, lambda rel: not rel.startswith("charts/"))
        self.shared = digest.digest()
        self._templates: dict[str, bytes | None] = {}
        self._entries: dict[str, dict[str, Any]] = {}
        self._changed: set[str] = set()

    def _key(self, name: str) -> bytes:
        digest = hashlib.sha256(self.shared + name.encode() + b"\0")
        if name != VALUES:
            self._add_files(digest, self.catalog.chart(name).source_dir, lambda rel: True)
        return digest.digest()

    def _add_files(self, digest: Any, folder: Path, wanted: Callable[[str], bool]) -> None:
        """Add each wanted file under ``folder`` (its path relative to it, then its bytes' digest)."""
        for path in sources_files(folder, self.catalog.sources, root=self.catalog.root):
            rel = path.relative_to(folder).as_posix()
            if wanted(rel):
                digest.update(rel.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())

    def _template(self, name: str) -> bytes | None:
        """The digest of ``sources/<name>`` now (None: not a readable file), once per build."""
        if name not in self._templates:
            try:
                self._templates[name] = hashlib.sha256((self.catalog.sources / name).read_bytes()).digest()
            except OSError:
                self._templates[name] = None
        return self._templates[name]

    def _entry(self, name: str) -> dict[str, Any]:
        if name not in self._entries:
            key, entry = self._key(name), None
            with contextlib.suppress(Exception):  # missing, damaged, not ours: a miss
                entry = marshal.loads((self.directory / f"{name}.bin").read_bytes())
            self._entries[name] = (
                entry if isinstance(entry, dict) and entry.get("key") == key else {"key": key}
            )
        return self._entries[name]

    def get(self, name: str, part: str, make: Callable[[], T]) -> T:
        """``make()``'s value for ``part`` of chart ``name`` (or :data:`VALUES`), from the cache when
        nothing it read has changed; else made, with the templates it loaded recorded."""
        entry = self._entry(name)
        kept = entry.get(part)
        with contextlib.suppress(Exception):  # a damaged entry is a miss
            value, deps = kept  # type: ignore[misc]
            if all(self._template(n) == d for n, d in deps):
                return value  # type: ignore[no-any-return]
        with recording() as loaded:
            value = make()
        deps = tuple((n, self._template(n)) for n in sorted(loaded))
        with contextlib.suppress(ValueError):  # a value marshal cannot hold is not kept
            marshal.dumps(cast(Any, value))  # only to know it can be kept
            entry[part] = (value, deps)
            self._changed.add(name)
        return value

    def save(self) -> None:
        for name in sorted(self._changed):
            with contextlib.suppress(OSError):
                write_private(self.directory / f"{name}.bin", marshal.dumps(self._entries[name]))
        self._changed.clear()
