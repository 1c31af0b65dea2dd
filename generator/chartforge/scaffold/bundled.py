"""What the skeletons need from a project, shipped with chartforge: a fresh project gets it.

The skeletons call ``macros/objects.j2`` (which imports ``k8s.j2`` and ``blocks.j2``),
``macros/k8s.j2`` and ``macros/params.j2``, and their NetworkPolicy and ServiceMonitor read the
``global.monitoring`` parameter (the namespace Prometheus scrapes from, the labels it selects).
``bundled/`` holds copies of the bundled catalog's files (package data, like the skeletons; a
test keeps them identical to ``sources/``). ``chartforge new`` writes the macro files a project's
``sources/macros/`` lacks and appends ``monitoring`` to a ``sources/global.yaml`` that lacks it,
and says so. A project's own file of the same name is never overwritten: if the new chart does not
compile with it, ``new`` rolls back and names the file and the bundled copy to take the macros from.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from chartforge.errors import ChartforgeError, UserError
from chartforge.yamlio import load_yaml

BUNDLED = Path(__file__).resolve().parent / "bundled"
MACROS = BUNDLED / "macros"
NEEDED = ("blocks.j2", "k8s.j2", "objects.j2", "params.j2")
MONITORING = BUNDLED / "global-monitoring.yaml"  # the `monitoring:` entry of sources/global.yaml


def missing_macros(sources: Path) -> dict[str, bytes]:
    """``{"macros/NAME": content}`` of each bundled macro file ``sources/macros/`` lacks."""
    return {
        f"macros/{name}": (MACROS / name).read_bytes()
        for name in NEEDED
        if not (sources / "macros" / name).exists()
    }


def global_with_monitoring(sources: Path) -> str | None:
    """``sources/global.yaml`` with the bundled ``monitoring`` parameter appended, if it lacks one."""
    path = sources / "global.yaml"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    data = load_yaml(path) if text.strip() else None
    if isinstance(data, Mapping) and "monitoring" in data:
        return None
    return text + ("\n" if text and not text.endswith("\n") else "") + MONITORING.read_text(encoding="utf-8")


def macros_mismatch(error: ChartforgeError, sources: Path, kind: str) -> UserError | None:
    """The refusal when the new chart does not compile and the project's macro files are its own."""
    own = [
        f"sources/macros/{name}"
        for name in NEEDED
        if (sources / "macros" / name).is_file()
        and (sources / "macros" / name).read_bytes() != (MACROS / name).read_bytes()
    ]
    if not own:
        return None
    differing = ", ".join(own)
    return UserError(
        f"{error.message} — the {kind} skeleton is written for chartforge's bundled macros and this "
        f"project's {differing} differ{'s' if len(own) == 1 else ''}; nothing was changed",
        path=error.path,
        line=error.line,
        hint=f"add the macros it calls from {MACROS}/ to yours, then run chartforge new again",
    )
