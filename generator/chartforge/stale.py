"""``package``, ``diff`` and ``publish`` refuse ``charts/`` and ``values/`` that are stale against ``sources/``.

They ship or compare the generated trees; shipping what an older ``sources/`` produced would
publish something nobody reviewed. The comparison is ``build --check`` (the build stamp makes
it free when nothing changed since the last build).
"""

from __future__ import annotations

from pathlib import Path

from chartforge.compile.build import build
from chartforge.errors import UserError
from chartforge.project import Project

SHOWN = 5


def require_fresh(root: Path | str, command: str, *, charts: Path | None = None) -> None:
    """Raise a ``UserError`` naming the stale files when ``charts/``/``values/`` lag ``sources/``.

    Nothing to compare without ``sources/``, or when ``charts`` is another folder than the project's."""
    project = Project(Path(root).resolve())
    if not (project.sources / "catalog.yaml").is_file():
        return
    if charts is not None and charts.resolve() != project.charts.resolve():
        return
    result = build(project.root, check=True)
    if result.clean:
        return
    names = [f"{c.path} ({c.kind} by a build)" for c in result.changes[:SHOWN]]
    more = f" and {len(result.changes) - SHOWN} more" if len(result.changes) > SHOWN else ""
    raise UserError(
        f"{command}: charts/ and values/ are stale against sources/: {', '.join(names)}{more}",
        hint=f"run 'chartforge build' first, then '{command}' again",
    )
