"""Finding the external binaries chartforge drives: helm (3.17+ or 4.x) and kubeconform.

Where to look, first hit wins: the explicit path (``--helm``), the environment variable
(``HELM``, ``KUBECONFORM``), ``PATH``, then the project's own ``.tools/bin`` (what
``ci/install.sh`` fills). The project is ``root`` when a caller knows it, else the current
directory; nothing depends on where chartforge itself is installed.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from chartforge import proc
from chartforge.errors import ToolNotFound
from chartforge.project import Project


@dataclass(frozen=True)
class Helm:
    path: str
    version: str  # e.g. "v3.17.2"

    @property
    def major(self) -> int:
        return int(self.version.lstrip("v").split(".")[0])


def _which(name: str, root: Path | None = None) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    local = Project(root or Path.cwd()).tools_bin / name
    return str(local) if local.is_file() and os.access(local, os.X_OK) else None


@functools.cache
def helm_version(path: str) -> str:
    out = proc.run([path, "version", "--template", "{{.Version}}"], what="helm version", timeout=30).stdout
    match = re.search(r"v\d+\.\d+\.\d+", out)
    return match.group(0) if match else out.strip()


def find_helm(explicit: str | None = None, *, root: Path | None = None) -> Helm:
    """``explicit`` (``--helm``), then ``$HELM``, then ``helm`` on PATH, then ``<root>/.tools/bin``."""
    candidate = explicit or os.environ.get("HELM") or _which("helm", root)
    if candidate and os.sep not in candidate:
        candidate = _which(candidate, root)
    if not candidate or not Path(candidate).exists():
        raise ToolNotFound("helm not found", hint="pass --helm, set HELM, or run ci/install.sh")
    return Helm(candidate, helm_version(candidate))


def find_helms(*, root: Path | None = None) -> list[Helm]:
    """Every distinct helm major available (``helm3``/``helm4``/``helm``), for lint matrices."""
    seen: dict[int, Helm] = {}
    for name in ("helm3", "helm4", "helm"):
        path = _which(name, root)
        if path:
            helm = Helm(path, helm_version(path))
            seen.setdefault(helm.major, helm)
    return [seen[k] for k in sorted(seen)]


def find_kubeconform(explicit: str | None = None, *, root: Path | None = None) -> str | None:
    """``explicit``, then ``$KUBECONFORM``, then PATH, then ``<root>/.tools/bin``; ``None`` when absent."""
    candidate = explicit or os.environ.get("KUBECONFORM") or _which("kubeconform", root)
    if candidate and Path(candidate).exists():
        return candidate
    return None
