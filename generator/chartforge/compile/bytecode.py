"""Compiled templates kept between runs: a Jinja bytecode cache under ``.chartforge/jinja/``.

A new process would otherwise parse and compile every template again (the shared macros are
hundreds of lines). One file per template and environment kind (plain or line-map marking),
named by a digest of the kind, the template's name and path, Jinja's and Python's versions and
chartforge's compile code (which rewrites templates before Jinja compiles them). Jinja itself
checks each entry against the template's current source, so an edited template is compiled again
and its entry replaced. An entry is written to a temporary file and renamed into place, so
concurrent builds never read half an entry; an entry whose own digest does not match its bytes
(truncated, damaged) is ignored; a cache that cannot be written is simply not used.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import os
import sys
from pathlib import Path

import jinja2
from jinja2.bccache import Bucket

from chartforge.privatefile import write_private

DIRECTORY = Path(".chartforge") / "jinja"
_COMPILER = Path(__file__).resolve().parent  # chartforge/compile: placement, marking, environments


@functools.cache
def _code_digest() -> str:
    digest = hashlib.sha256(f"{jinja2.__version__} {sys.version}".encode())
    for path in sorted(_COMPILER.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


class DiskCache(jinja2.BytecodeCache):
    """Entries of one environment kind under ``directory`` (see the module docstring)."""

    def __init__(self, directory: Path, kind: str) -> None:
        self.directory = directory
        self.kind = kind

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        text = f"{_code_digest()}\0{self.kind}\0{name}\0{filename}"
        return hashlib.sha256(text.encode()).hexdigest()

    def _path(self, bucket: Bucket) -> Path:
        return self.directory / f"{bucket.key}.bc"

    def load_bytecode(self, bucket: Bucket) -> None:
        try:
            data = self._path(bucket).read_bytes()
        except OSError:
            return
        digest, payload = data[:32], data[32:]
        if hashlib.sha256(payload).digest() != digest:
            return  # damaged or cut short: compile again (and replace it)
        try:
            bucket.load_bytecode(io.BytesIO(payload))
        except Exception:  # whatever an unreadable entry raises, it is a miss
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        out = io.BytesIO()
        bucket.write_bytecode(out)
        payload = out.getvalue()
        with contextlib.suppress(OSError):  # read-only, full, not a folder: the cache is an optimisation only
            write_private(self._path(bucket), hashlib.sha256(payload).digest() + payload)


def for_sources(sources: Path, kind: str) -> DiskCache | None:
    """The cache of a project's ``sources/`` (the folder beside ``.chartforge/``); None for other folders."""
    if sources.name != "sources" or not (sources / "catalog.yaml").is_file():
        return None  # a bare template folder (``render_file`` on any directory) leaves no files behind
    return DiskCache(Path(os.path.abspath(sources)).parent / DIRECTORY, kind)
