"""Build step CF-BUILD-UNQUOTED: refuse a chart whose templates write a string value raw.

Runs on every chart ``build`` compiles (:mod:`chartforge.compile.quoting` decides, against the
chart's own ``values.schema.json``), and reports each action at the ``sources/`` line that wrote
it, a query on the line map (:func:`chartforge.compile.linemap.template_origins`): a macro's line,
then the chart template line calling it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chartforge.codes import BUILD_UNQUOTED
from chartforge.compile.catalog import Catalog, ChartSpec
from chartforge.compile.linemap import template_origins
from chartforge.compile.quoting import Checker, Unquoted
from chartforge.compile.render import RenderedFile
from chartforge.errors import SourceError

CHECKED_SUFFIXES = (".yaml", ".yml", ".tpl")  # what Helm renders into manifests (NOTES.txt is not YAML)
HINT = (
    "pipe it to `quote` (or `toYaml`/`toJson`), convert it (`int`, `float64`), or declare an `enum`; "
    "see docs/source-format.md, 'Values are data'"
)


@dataclass(frozen=True)
class Location:
    """Where a finding is reported: the line map's innermost line, and the call site of a macro."""

    path: str  # "sources/…"
    line: int
    via: tuple[str, int] | None = None  # the chart template line that called the macro
    rendered: bool = False  # no source line was found: ``line`` is the line of the rendered file


def unquoted_actions(
    catalog: Catalog, chart: ChartSpec, rendered: Sequence[RenderedFile], schema: Mapping[str, Any]
) -> list[tuple[Location, Unquoted]]:
    """Every action of the chart's templates that writes a hostile value raw, with its source line."""
    files = {
        f.path: f for f in rendered if f.path.startswith("templates/") and f.path.endswith(CHECKED_SUFFIXES)
    }
    results = Checker(schema).check_files({path: f.text for path, f in files.items()})
    found: list[tuple[Location, Unquoted]] = []
    for path, hits in results.items():
        if not hits:
            continue
        file = files[path]
        lines = template_origins(catalog, chart, file.source.removeprefix("sources/"), file.text) or []
        for hit in hits:
            line = file.text.count("\n", 0, hit.offset) + 1
            at = lines[line - 1] if line <= len(lines) else None
            if at is None:
                found.append((Location(file.source, line, None, rendered=True), hit))
            else:
                via = (at.path, at.line) if at.macro else None
                found.append((Location(*at.innermost, via), hit))
    return found


def check_quoting(
    catalog: Catalog, chart: ChartSpec, rendered: Sequence[RenderedFile], schema: Mapping[str, Any]
) -> None:
    """Raise one SourceError naming the first unquoted action and where the others are."""
    found = unquoted_actions(catalog, chart, rendered, schema)
    if not found:
        return
    origin, hit = found[0]
    others = sorted({f"{o.path}:{o.line}" for o, _ in found[1:]} - {f"{origin.path}:{origin.line}"})
    message = f"{BUILD_UNQUOTED}: {hit.message}"
    if origin.via:
        message += f" (called from {origin.via[0]}:{origin.via[1]})"
    if origin.rendered:
        message += f" (line {origin.line} of charts/{chart.name}/ rendered from it)"
    if others:
        shown = ", ".join(others[:10]) + (f" and {len(others) - 10} more" if len(others) > 10 else "")
        message += f"; also at {shown}"
    raise SourceError(message, path=origin.path, line=None if origin.rendered else origin.line, hint=HINT)
