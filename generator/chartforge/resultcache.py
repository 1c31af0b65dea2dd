"""A content-addressed cache of check cells' results: an unchanged cell is not run again.

A cell's key is the SHA-256 of everything its result depends on: the bytes of every file of the
chart as helm sees it (sub-charts linked under ``charts/`` included), its values file for the
environment, the tool's version (``helm version``), chartforge's own code and the stage's options.
The value is the cell's findings. A hit returns exactly what running the cell returned, so a
cached run prints what an uncached one prints.

Where: ``$CHARTFORGE_CACHE/results``, else ``$XDG_CACHE_HOME/chartforge/results``, else
``~/.cache/chartforge/results`` (the same root as the schema cache); ``chartforge check --no-cache``
bypasses it. Entries are written to a temporary file in the same directory and renamed into
place, so a concurrent run reads a whole entry or none. An entry that cannot be read (truncated,
not JSON, another shape, a checksum that does not match its findings) is a miss with a warning on stderr, never a result; the cell runs
again and rewrites it. Nothing expires: delete the directory to reclaim space.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from chartforge.diagnostics import Diagnostic

log = logging.getLogger("chartforge.cache")
FORMAT = 1  # bump when the stored shape changes
_CODE = Path(__file__).resolve().parent
_FIELDS = {f.name for f in fields(Diagnostic)}


def default_root() -> Path:
    explicit = os.environ.get("CHARTFORGE_CACHE")
    if explicit:
        return Path(explicit) / "results"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "chartforge" / "results"


_DIGESTS: dict[tuple[int, int, int, int, int], bytes] = {}  # (device, inode, size, mtime, ctime) → SHA-256
_RACY_NS = 2_000_000_000


def file_digest(path: Path) -> bytes:
    """SHA-256 of a file's bytes, remembered for the process by its inode, size, mtime and ctime.

    One run digests the same files several times (the lint cells, the stage cache, through the
    umbrella's links and directly). As git's index does, a file whose metadata is unchanged is
    taken as unchanged: any write changes its ctime, which no tool can set back; a file changed in
    the last 2 s is always read again (a second write within one clock tick could leave both alike)."""
    st = os.stat(path)
    key = (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)
    found = _DIGESTS.get(key)
    if found is None:
        found = hashlib.sha256(path.read_bytes()).digest()
        if time.time_ns() - max(st.st_mtime_ns, st.st_ctime_ns) > _RACY_NS:
            _DIGESTS[key] = found
    return found


def tree_digest(root: Path) -> str:
    """Every file under ``root`` (links followed: an umbrella's sub-charts), by relative path and content."""
    h = hashlib.sha256()
    for folder, dirs, files in sorted(os.walk(root, followlinks=True)):
        dirs.sort()
        for name in sorted(files):
            path = Path(folder) / name
            h.update(path.relative_to(root).as_posix().encode() + b"\0")
            h.update(file_digest(path))
    return h.hexdigest()


@functools.cache
def code_digest() -> str:
    """chartforge's own code and data files: a changed parser or rule must not reuse an old result."""
    h = hashlib.sha256()
    for path in sorted(p for p in _CODE.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        h.update(
            path.relative_to(_CODE).as_posix().encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest()
        )
    return h.hexdigest()


def cell_key(stage: str, *parts: str) -> str:
    h = hashlib.sha256(f"chartforge-cell/{FORMAT}\0{stage}\0{code_digest()}".encode())
    for part in parts:
        h.update(b"\0" + part.encode())
    return h.hexdigest()


def _checksum(findings: Any) -> str:
    """Of the findings as stored: a flipped byte that still parses is caught too."""
    return hashlib.sha256(json.dumps(findings, sort_keys=True).encode()).hexdigest()


def finding_from_json(data: Any) -> Diagnostic:
    if not isinstance(data, dict) or set(data) != _FIELDS or not isinstance(data["extra"], dict):
        raise ValueError("not a finding")
    extra = tuple((str(k), str(v)) for k, v in data["extra"].items())
    return Diagnostic(**{**data, "extra": extra})


class ResultCache:
    """Findings by cell key under ``root``; ``root=None`` is a cache that never hits and never writes."""

    def __init__(self, root: Path | None) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        assert self.root is not None
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> list[Diagnostic] | None:
        """A lint cell's findings, or None (a miss, or an entry that cannot be read)."""
        data = self.get_payload(key)
        if data is None:
            return None
        try:
            if not isinstance(data, list):
                raise ValueError("not a list of findings")
            return [finding_from_json(d) for d in data]
        except (ValueError, TypeError) as exc:
            log.warning(
                f"warning: ignoring unreadable cache entry {self._path(key)} ({exc}); the cell runs again"
            )
            return None

    def put(self, key: str, findings: Sequence[Diagnostic]) -> None:
        self.put_payload(key, [d.to_dict() for d in findings])

    def get_payload(self, key: str) -> Any:
        """The JSON value stored under ``key``, or None."""
        if self.root is None:
            return None
        path = self._path(key)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("key") != key or "findings" not in data:
                raise ValueError("not a cache entry")
            if data.get("sha256") != _checksum(data["findings"]):
                raise ValueError("checksum mismatch")
            return data["findings"]
        except FileNotFoundError:
            return None
        except (OSError, ValueError, TypeError) as exc:  # JSONDecodeError is a ValueError
            log.warning(f"warning: ignoring unreadable cache entry {path} ({exc}); the cell runs again")
            return None

    def put_payload(self, key: str, payload: Any) -> None:
        if self.root is None:
            return
        path = self._path(key)
        text = json.dumps({"key": key, "sha256": _checksum(payload), "findings": payload}, sort_keys=True)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{key[:8]}-", suffix=".tmp", dir=path.parent)
            try:
                with os.fdopen(fd, "w", encoding="utf-8") as out:
                    out.write(text)
                os.replace(tmp, path)  # atomic: readers see the old entry, the new one, or none
            finally:
                Path(tmp).unlink(missing_ok=True)
        except OSError as exc:
            log.warning(f"warning: cannot write cache entry {path} ({exc}); results are not cached")
