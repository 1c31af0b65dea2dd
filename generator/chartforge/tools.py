"""Finding the external binaries chartforge drives: helm (3.17+ or 4.x) and kubeconform."""

from __future__ import annotations

import functools
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from chartforge import proc
from chartforge.errors import ToolNotFound

REPO_TOOLS = Path(__file__).resolve().parents[2] / ".tools" / "bin"


@dataclass(frozen=True)
class Helm:
    path: str
    version: str  # e.g. "v3.17.2"

    @property
    def major(self) -> int:
        return int(self.version.lstrip("v").split(".")[0])


def _which(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    local = REPO_TOOLS / name
    return str(local) if local.is_file() and os.access(local, os.X_OK) else None


@functools.cache
def helm_version(path: str) -> str:
    out = proc.run([path, "version", "--template", "{{.Version}}"], what="helm version", timeout=30).stdout
    match = re.search(r"v\d+\.\d+\.\d+", out)
    return match.group(0) if match else out.strip()


def find_helm(explicit: str | None = None) -> Helm:
    """``explicit`` (``--helm``), then ``$HELM``, then ``helm`` on PATH, then ``.tools/bin``."""
    candidate = explicit or os.environ.get("HELM") or _which("helm")
    if candidate and os.sep not in candidate:
        candidate = _which(candidate)
    if not candidate or not Path(candidate).exists():
        raise ToolNotFound("helm not found", hint="pass --helm, set HELM, or run ci/install.sh")
    return Helm(candidate, helm_version(candidate))


def find_helms() -> list[Helm]:
    """Every distinct helm major available (``helm3``/``helm4``/``helm``), for lint matrices."""
    seen: dict[int, Helm] = {}
    for name in ("helm3", "helm4", "helm"):
        path = _which(name)
        if path:
            helm = Helm(path, helm_version(path))
            seen.setdefault(helm.major, helm)
    return [seen[k] for k in sorted(seen)]


def find_kubeconform(explicit: str | None = None) -> str | None:
    """``explicit``, then ``$KUBECONFORM``, then PATH; ``None`` when absent."""
    candidate = explicit or os.environ.get("KUBECONFORM") or _which("kubeconform")
    if candidate and Path(candidate).exists():
        return candidate
    return None
