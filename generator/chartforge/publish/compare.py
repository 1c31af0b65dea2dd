"""Which files differ between a local chart archive and the one a registry holds.

Archives are compared member by member (path → SHA-256). A nested chart archive
(``<umbrella>/charts/<sub>-<version>.tgz``) is opened too, so a changed sub-chart template
shows up as ``stack/charts/db-1.0.0.tgz!/db/templates/deployment.yaml`` rather than as one
opaque ``.tgz``.
"""

from __future__ import annotations

import contextlib
import hashlib
import tarfile
import zlib
from dataclasses import dataclass
from typing import Literal

from chartforge.package.archive import read_tgz

ChangeKind = Literal["added", "removed", "modified"]
_NESTED = "!/"


@dataclass(frozen=True)
class FileChange:
    path: str
    kind: ChangeKind  # relative to the registry: "added" = only in the local archive

    def __str__(self) -> str:
        return f"{self.kind} {self.path}"


def archive_digests(data: bytes, *, prefix: str = "") -> dict[str, str]:
    """``{member path: sha256 hex}``; nested ``charts/*.tgz`` are listed file by file as well."""
    out: dict[str, str] = {}
    for name, body in read_tgz(data).items():
        out[prefix + name] = hashlib.sha256(body).hexdigest()
        if name.endswith(".tgz") and "/charts/" in name:
            # not an archive after all: then its own digest above is enough
            with contextlib.suppress(tarfile.TarError, OSError, EOFError, zlib.error):
                out.update(archive_digests(body, prefix=prefix + name + _NESTED))
    return out


def changed_files(local: bytes, remote: bytes) -> tuple[FileChange, ...]:
    """Differences from ``remote`` to ``local``, innermost first for nested archives."""
    mine, theirs = archive_digests(local), archive_digests(remote)
    changes = [FileChange(p, "added") for p in mine if p not in theirs]
    changes += [FileChange(p, "removed") for p in theirs if p not in mine]
    changes += [FileChange(p, "modified") for p in mine if p in theirs and mine[p] != theirs[p]]
    nested = {c.path.split(_NESTED)[0] for c in changes if _NESTED in c.path}
    # A nested archive whose inner changes are listed needs no line of its own.
    changes = [c for c in changes if not (c.kind == "modified" and c.path in nested)]
    return tuple(sorted(changes, key=lambda c: c.path))
