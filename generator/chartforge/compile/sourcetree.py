"""Nothing from outside the tree: the one containment check every read of ``sources/`` goes through.

``sources/`` may hold symlinks (a shared file linked into two charts), but every path that
``build`` reads — catalog, chart metadata, parameters, environments, templates, macros,
``files/``, docs — must resolve to a regular file inside ``sources/``. A link to
``/proc/self/environ`` would otherwise copy the build's environment (registry password
included) into ``charts/``, and a link to a FIFO or ``/dev/zero`` would hang the build.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from chartforge.errors import SourceError, UserError

# Chart and environment names: they become directory and file names, so no '/', '..', '\'.
NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def contained(path: Path, top: Path, *, display: str, error: type[UserError] = SourceError) -> Path:
    """``path`` when it (all symlinks followed) is a regular file inside ``top``; else ``error``."""
    resolved = path.resolve()
    if not resolved.is_relative_to(top.resolve()):
        raise error(
            f"resolves to {resolved}, outside {top.name}/",
            path=display,
            hint="a symlink in sources/ must point inside sources/ (copy the file instead)",
        )
    try:
        mode = resolved.stat().st_mode
    except OSError as exc:
        raise error(f"cannot read: {exc.strerror or exc}", path=display) from exc
    if not stat.S_ISREG(mode):
        raise error("is not a regular file (a device, FIFO or socket?)", path=display)
    return path


def sources_files(base: Path, top: Path, *, root: Path) -> list[Path]:
    """Every file under ``base`` (a folder of ``top``), sorted, each checked by :func:`contained`.

    Symlinked folders are not descended into (as ``Path.rglob``), and one leading outside ``top``
    is refused like a file link. A regular file reached without a link from a ``base`` inside
    ``top`` is inside ``top`` by construction, so only links (and what is not a regular file) are
    resolved: that is what a build of hundreds of charts would otherwise spend its time on.
    """
    trusted = base.resolve().is_relative_to(top.resolve())
    entries: list[tuple[Path, str]] = []  # (path, "dir" | "file": a plain one | "check")
    pending = [base]
    while pending:
        folder = pending.pop()
        try:
            with os.scandir(folder) as scan:
                items = list(scan)
        except (FileNotFoundError, NotADirectoryError):
            continue
        for entry in items:
            path = folder / entry.name
            if entry.is_symlink():
                entries.append((path, "check"))
            elif entry.is_dir(follow_symlinks=False):
                pending.append(path)
                entries.append((path, "dir"))
            else:
                entries.append(
                    (path, "file" if trusted and entry.is_file(follow_symlinks=False) else "check")
                )
    found: list[Path] = []
    for path, kind in sorted(entries, key=lambda e: e[0]):
        if kind == "file":
            found.append(path)
        elif kind == "check":
            display = _display(path, root)
            if path.is_dir():
                contained_dir(path, top, display=display)
            else:
                found.append(contained(path, top, display=display))
    return found


def contained_dir(path: Path, top: Path, *, display: str) -> None:
    if not path.resolve().is_relative_to(top.resolve()):
        raise SourceError(
            f"resolves to {path.resolve()}, outside {top.name}/",
            path=display,
            hint="a symlink in sources/ must point inside sources/",
        )


def check_name(name: object, *, what: str, path: str, line: int | None) -> str:
    """A chart or environment name (lower-case letters, digits, dashes); else a SourceError."""
    if not isinstance(name, str) or not NAME.match(name):
        raise SourceError(
            f"invalid {what} name {name!r}", path=path, line=line,
            hint="lowercase letters, digits and dashes (it becomes a file name)",
        )  # fmt: skip
    return name


def _display(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)
