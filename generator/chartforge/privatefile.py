"""chartforge's own files under ``<root>/.chartforge/``: written whole or not at all, never committed.

The build stamp, the line map, the no-op build's stamp, the build lock, the compiled-template
cache, the parsed parameter specs and each chart's compiled files all live there. Each is written to a temporary file beside its target (named by process and thread, so
concurrent writers never share one) and renamed into place, so a reader sees the previous
content or the new one, never half a file; the folder holds a ``.gitignore`` of ``*`` so none of
it is committed by accident.
"""

from __future__ import annotations

import contextlib
import os
import threading
from pathlib import Path

DIRECTORY = ".chartforge"


def ensure_private_dir(directory: Path) -> None:
    """Create ``directory`` (and its parents) with the ``.gitignore`` of the ``.chartforge`` folder above it."""
    directory.mkdir(parents=True, exist_ok=True)
    top = next((p for p in (directory, *directory.parents) if p.name == DIRECTORY), directory)
    gitignore = top / ".gitignore"
    if not gitignore.exists():
        gitignore.write_text("*\n")


def write_private(path: Path, data: bytes | str) -> None:
    """Write ``path`` (under ``.chartforge/``) atomically; OSError when it cannot be written."""
    ensure_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        if isinstance(data, str):
            tmp.write_text(data, encoding="utf-8")
        else:
            tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
