"""Is the last build still up to date? Decided from file metadata, before Jinja, YAML or typer load.

``build`` writes ``.chartforge/uptodate`` after every build that leaves ``charts/`` and ``values/``
matching ``sources/``: the size, mtime, ctime and inode of every input (each file and folder under
``sources/``, chartforge's own code, the libraries that shape the output: Jinja2, MarkupSafe,
PyYAML, ruamel.yaml, jsonschema) and of every output file and folder, plus a key of the
interpreter (its version, executable and import path, so another Python or another copy of a
library on the path is another key). :func:`up_to_date` stats the same paths: all equal means
nothing was edited, added, removed or replaced since (a folder's times change when an entry is
added to or removed from it; an edit changes a file's mtime and ctime, and ``touch -d`` or
``cp -p`` still change its ctime). Anything else — a missing file, another interpreter, a build
running (its lock is held) — is "not known", and ``build`` decides by content as before
(:mod:`chartforge.compile.build`).

Metadata cannot see an edit made within the timestamp granularity of the moment it was recorded
(git's "racy" files). So the time is read from the file system itself just before recording (the
build lock's mtime, touched) and from the system clock, and every path whose mtime or ctime is at
or after the earlier of the two, less 20 ms, is also recorded by content: a digest of the file
(for an output, of what ``build`` meant to write) or of the folder's listing, compared on every
check. Recording order makes the rest exact: inputs are stat'ed before they are read, folders
before they are listed, and outputs after they are written and read back.

This module imports only the standard library, so the command line can answer a no-op
``chartforge build`` without importing the compiler (:mod:`chartforge.cli.noop`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from array import array
from collections.abc import Collection, Iterable, Mapping, Sequence

try:  # the standard library's BLAKE2 without hashlib's OpenSSL start-up (4 ms here)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - other Python implementations
    from hashlib import blake2b

FILE = os.path.join(".chartforge", "uptodate")
LOCK = os.path.join(".chartforge", "build.lock")
HEADER = "chartforge-uptodate 1"
RACY_NS = 20_000_000  # beyond the coarse kernel clock's tick (1-10 ms) that stamps files
LIBRARIES = ("jinja2", "markupsafe", "yaml", "ruamel.yaml", "jsonschema")
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def interpreter_key() -> str:
    """This interpreter, chartforge's location and the import path (what decides which code runs)."""
    text = "\0".join([sys.version, sys.executable, _PACKAGE, *map(os.path.abspath, sys.path)])
    return blake2b(text.encode("utf-8", "surrogateescape"), digest_size=16).hexdigest()


def library_files() -> list[str]:
    """The loaded libraries whose version can change what ``build`` writes (their ``__init__`` files)."""
    found = (getattr(sys.modules.get(name), "__file__", None) for name in LIBRARIES)
    return [os.path.abspath(f) for f in found if f]


def _digest(data: bytes) -> str:
    return blake2b(data, digest_size=16).hexdigest()


def _content(path: str) -> bytes:
    """What a racy path is compared by: a file's bytes, a folder's sorted listing."""
    if path.endswith("/"):
        return "\0".join(sorted(os.listdir(path))).encode("utf-8", "surrogateescape")
    with open(path, "rb") as fh:
        return fh.read()


def _metadata(st: os.stat_result) -> tuple[int, int, int, int]:
    return st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino & 0x7FFF_FFFF_FFFF_FFFF  # 'q' holds it


def _signature(values: array[int]) -> str:
    return blake2b(values.tobytes(), digest_size=16).hexdigest()


def _signature_now(paths: Sequence[str], fd: int) -> str:
    """The signature of ``paths`` as they are now (the loop every no-op build runs: kept lean)."""
    values: array[int] = array("q")
    stat, extend = os.stat, values.extend
    for path in paths:
        st = stat(path, dir_fd=fd)
        extend((st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino & 0x7FFF_FFFF_FFFF_FFFF))
    return _signature(values)


class Recorder:
    """One section of the stamp: paths stat'ed in order (see the module docstring for the order)."""

    def __init__(self, root: str) -> None:
        self.root = root
        self.reference = _now(root) - RACY_NS
        self.paths: list[str] = []
        self.values: array[int] = array("q")
        self.racy: list[tuple[str, str]] = []
        self.valid = True

    def walk(self, top: str, skip: Collection[str] = ()) -> list[str]:
        """Record ``top`` (relative to the root, or absolute) and every folder below it but ``skip``,
        each before it is listed; returns the files (and links to files) found, sorted."""
        files: list[str] = []
        pending = [top]
        while pending:
            folder = pending.pop()
            if not self.record(f"{folder}/"):
                continue
            try:
                with os.scandir(os.path.join(self.root, folder)) as entries:
                    for entry in entries:
                        name = f"{folder}/{entry.name}"
                        if entry.is_dir(follow_symlinks=False):
                            if entry.name not in skip:
                                pending.append(name)
                        elif entry.is_dir():  # a linked folder: never entered (as sourcetree.sources_files)
                            self.record(f"{name}/")
                        else:
                            files.append(name)
            except OSError:
                self.valid = False
        return sorted(files)

    def record(self, path: str, content: bytes | None = None) -> bool:
        """Stat ``path`` (relative to the root, or absolute; a folder ends with ``/``); when it is racy,
        also its ``content`` (default: what it holds now, read after the stat)."""
        if "\n" in path:
            self.valid = False
            return False
        full = os.path.join(self.root, path)
        try:
            st = os.stat(full)
            if max(st.st_mtime_ns, st.st_ctime_ns) >= self.reference:
                self.racy.append((_digest(_content(full) if content is None else content), path))
        except OSError:
            self.valid = False
            return False
        self.paths.append(path)
        self.values.extend(_metadata(st))
        return True

    def files(self, paths: Iterable[str], contents: Mapping[str, bytes] | None = None) -> None:
        for path in paths:
            self.record(path, None if contents is None else contents[path])

    def text(self) -> str:
        out = [f"S {_signature(self.values)} {len(self.paths)}", *self.paths, f"R {len(self.racy)}"]
        return "\n".join([*out, *(f"{digest} {path}" for digest, path in self.racy)])


def _now(root: str) -> int:
    """The earlier of the system clock and the file system's own clock (the lock file, touched)."""
    clock = time.time_ns()
    try:
        lock = os.path.join(root, LOCK)
        os.utime(lock)
        return min(clock, os.stat(lock).st_mtime_ns)
    except OSError:
        return clock


def stamp_text(sections: Sequence[Recorder]) -> str | None:
    """The stamp of ``sections`` (the outputs last), or None when one of them could not be recorded."""
    if not all(s.valid for s in sections):
        return None
    return "\n".join([HEADER, interpreter_key(), *(s.text() for s in sections), "end", ""])


def up_to_date(root: str) -> list[str] | None:
    """The output files of the last build when nothing recorded in its stamp changed; else None.

    The caller holds the build lock, or takes it shared (:func:`check_locked`).
    """
    try:
        with open(os.path.join(root, FILE), encoding="utf-8", errors="surrogateescape") as fh:
            lines = fh.read().split("\n")
    except OSError:
        return None
    if len(lines) < 3 or lines[0] != HEADER or lines[1] != interpreter_key():
        return None
    try:
        fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        return _check(lines, root, fd)
    except (OSError, ValueError, IndexError):
        return None
    finally:
        os.close(fd)


def _check(lines: list[str], root: str, fd: int) -> list[str] | None:
    i, last = 2, []
    while lines[i] != "end":
        tag, signature, count = lines[i].split(" ")
        last = lines[i + 1 : i + 1 + int(count)]
        if tag != "S" or _signature_now(last, fd) != signature:
            return None
        i += 1 + int(count)
        tag, count = lines[i].split(" ")
        for entry in lines[i + 1 : i + 1 + int(count)]:
            digest, path = entry.split(" ", 1)
            if _digest(_content(os.path.join(root, path))) != digest:
                return None
        i += 1 + int(count)
    return [p for p in last if not p.endswith("/")]


def check_locked(root: str) -> list[str] | None:
    """:func:`up_to_date` under a shared build lock; None at once when a build holds it."""
    import fcntl

    try:
        fd = os.open(os.path.join(root, LOCK), os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return up_to_date(root)
    except OSError:
        return None
    finally:
        os.close(fd)


def forget(root: str) -> None:
    """Remove the stamp (before outputs are replaced: a kill then leaves no stamp to trust)."""
    with contextlib.suppress(FileNotFoundError):
        os.unlink(os.path.join(root, FILE))
