"""The line map: which ``sources/`` line produced each line of a generated chart template.

Rendering a chart template a second time through an environment whose parser puts a marker
(``U+E000 template:line U+E001``) before every output node gives, for each generated line, the
template and line that wrote it. Lines written by a macro keep the author's call site as their
location and the macro's own line as context. The marked rendering, markers stripped, is aligned
line by line with the real output (difflib), so a filter that sees the markers (``trim`` of a
macro's output, ``tojson``…) can only leave a line unmapped, never change what ``build`` writes.

The map lives beside the build stamp (``.chartforge/linemap.json``), never inside a chart, keyed
by each generated file's digest so a stale entry is never used. The same map of one template
(:func:`template_origins`) locates CF-BUILD-UNQUOTED findings. The marking environment is shared
per sources tree (:func:`chartforge.compile.jinja.shared`), so each template is compiled for it once
per process (and kept on disk between runs, :mod:`chartforge.compile.bytecode`); the second
rendering remains, since a marker a filter sees could change the text and only the real
rendering is what ``build`` writes. :func:`located_template_error` puts a helm template failure
of ``render`` at the ``sources/`` line the same way.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import nodes

from chartforge.compile import bytecode
from chartforge.compile.catalog import Catalog, ChartSpec
from chartforge.compile.chartcache import ChartCache
from chartforge.compile.jinja import RecordingEnvironment, SourcesLoader, new_environment, shared
from chartforge.compile.render import chart_context
from chartforge.compile.sourcetree import sources_files
from chartforge.errors import ChartforgeError, TemplateError, ToolError
from chartforge.helmerrors import template_failure
from chartforge.privatefile import write_private

SIDECAR = Path(".chartforge") / "linemap.json"
_ACTION = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_MARK = re.compile("\ue000([^\ue000\ue001]*):([0-9]+)\ue001")  # private-use: no line break to splitlines


@dataclass(frozen=True)
class Origin:
    """Where one generated line comes from: ``path:line`` in sources/, and the macro line inside it."""

    path: str
    line: int
    macro: str = ""  # "sources/macros/k8s.j2:12" when a macro wrote the line

    def to_list(self) -> list[Any]:
        return [self.path, self.line, self.macro]

    @property
    def innermost(self) -> tuple[str, int]:
        """``(path, line)`` of the text that wrote the line: the macro's line when a macro did."""
        if self.macro:
            path, _, line = self.macro.rpartition(":")
            return path, int(line)
        return self.path, self.line


class _MarkingEnvironment(RecordingEnvironment):
    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        for output in tree.find_all(nodes.Output):
            marked: list[nodes.Expr] = []
            for child in output.nodes:
                marked += [
                    nodes.TemplateData(f"\ue000{name}:{child.lineno}\ue001", lineno=child.lineno),
                    child,
                ]
            output.nodes = marked
        return tree


def _marking_environment(sources: Path) -> jinja2.Environment:
    """The shared marking environment of ``sources`` (templates compiled once per process)."""
    return shared(sources, "marking", _new_marking_environment)


def _new_marking_environment(sources: Path) -> jinja2.Environment:
    plain = new_environment(sources)
    options = {k: getattr(plain, k) for k in _OPTIONS}
    env = _MarkingEnvironment(
        **options, cache_size=-1, bytecode_cache=bytecode.for_sources(sources, "marking")
    )
    env.loader = SourcesLoader(sources)
    for extension in plain.extensions.values():  # what `environment` installs ([[> macro() ]] placement)
        env.add_extension(type(extension))
    env.filters.update({k: v for k, v in plain.filters.items() if k not in env.filters})
    if "reindent" in plain.filters:  # it shifts `nindent N` inside Helm actions: no marker may sit there
        shift = plain.filters["reindent"]
        env.filters["reindent"] = lambda text, n: shift(
            _ACTION.sub(lambda m: _MARK.sub("", m[0]), str(text)), n
        )
    return env


_OPTIONS = (
    "undefined", "block_start_string", "block_end_string", "variable_start_string", "variable_end_string",
    "comment_start_string", "comment_end_string", "keep_trailing_newline", "trim_blocks", "lstrip_blocks",
    "autoescape",
)  # fmt: skip


def _origins(marked: str) -> tuple[list[str], list[Origin | None]]:
    """The marked rendering → (its lines without markers, the origin of each)."""
    author: list[Any] = ["", 0]
    current: list[Any] = ["", 0]
    lines: list[str] = []
    origins: list[Origin | None] = []
    text: list[str] = []
    here: Origin | None = None

    def snapshot() -> Origin | None:
        if not author[0]:
            return None
        macro = f"sources/{current[0]}:{current[1]}" if current[0] != author[0] else ""
        return Origin(f"sources/{author[0]}", author[1], macro)

    pos = 0
    for match in [*_MARK.finditer(marked), None]:
        chunk = marked[pos : match.start() if match else len(marked)]
        pieces = chunk.split("\n")
        for i, piece in enumerate(pieces):
            if i:
                lines.append("".join(text))
                origins.append(here or snapshot())
                text, here = [], None
                current[1] += 1
                if current[0] == author[0]:
                    author[1] = current[1]
            if piece.strip() and here is None:  # a line's origin is its first non-blank text
                here = snapshot()
            text.append(piece)
        if match is None:
            break
        pos = match.end()
        name, line = match.group(1), int(match.group(2))
        current[:] = [name, line]
        if not name.startswith("macros/"):
            author[:] = [name, line]
    if text and "".join(text):
        lines.append("".join(text))
        origins.append(here or snapshot())
    return lines, origins


def align(marked: str, generated: str) -> list[Origin | None]:
    """The origin of every line of ``generated`` (None: a header or a line the marks cannot place)."""
    lines, origins = _origins(marked)
    out: list[Origin | None] = [None] * len(generated.splitlines())
    matcher = difflib.SequenceMatcher(None, lines, generated.splitlines(), autojunk=False)
    for block in matcher.get_matching_blocks():
        for k in range(block.size):
            out[block.b + k] = origins[block.a + k]
    return out


def template_origins(
    catalog: Catalog, chart: ChartSpec, name: str, generated: str
) -> list[Origin | None] | None:
    """The origin of every line of ``generated``, the build's rendering of ``sources/<name>`` for ``chart``.

    Also the query behind CF-BUILD-UNQUOTED's location (:mod:`chartforge.compile.unquoted`): the line
    holding a Helm action is where the author wrote it. None when the marking environment cannot
    render the template (the build reports its own error for it).
    """
    template = _marking_environment(catalog.sources).get_template
    try:
        marked = template(name).render(**chart_context(catalog, chart))
    except Exception:
        return None
    return align(marked, generated)


def chart_line_maps(
    catalog: Catalog, tree: Mapping[str, bytes], cache: ChartCache | None = None
) -> dict[str, Any]:
    """``{generated path: {"sha256": …, "lines": [[source, line, macro] | None, …]}}`` for every template
    (each chart's share from ``cache`` while its generated files and sources are unchanged)."""
    out: dict[str, Any] = {}
    for chart in catalog.charts:
        if cache is None:
            out.update(_chart_line_map(catalog, chart, tree))
            continue
        prefix = f"charts/{chart.name}/"
        mine = sorted(p for p in tree if p.startswith(prefix))
        if not mine:
            continue  # not compiled in this tree: nothing to map
        generated = hashlib.sha256()
        for path in mine:
            generated.update(path.encode() + b"\0" + hashlib.sha256(tree[path]).digest())
        part = f"linemap {generated.hexdigest()}"
        out.update(cache.get(chart.name, part, partial(_chart_line_map, catalog, chart, tree)))
    return out


def _chart_line_map(catalog: Catalog, chart: ChartSpec, tree: Mapping[str, bytes]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    base = chart.source_dir / "templates"
    if not base.is_dir():
        return out
    for path in sources_files(base, catalog.sources, root=catalog.root):
        if path.suffix != ".j2":
            continue
        generated_path = f"charts/{chart.name}/{path.relative_to(chart.source_dir).as_posix()[: -len('.j2')]}"
        data = tree.get(generated_path)
        if data is None:
            continue
        name = path.relative_to(catalog.sources).as_posix()
        origins = template_origins(catalog, chart, name, data.decode("utf-8"))
        if origins is None:
            continue
        out[generated_path] = {
            "sha256": hashlib.sha256(data).hexdigest(),
            "lines": [o.to_list() if o else None for o in origins],
        }
    return out


def read_line_map(root: Path) -> dict[str, Any]:
    """The sidecar's entries as written; empty when it is missing or damaged."""
    try:
        maps = json.loads((root / SIDECAR).read_text())
    except (OSError, ValueError):
        return {}
    return maps if isinstance(maps, dict) else {}


def write_line_map(root: Path, maps: Mapping[str, Any]) -> None:
    write_private(root / SIDECAR, json.dumps(maps, sort_keys=True))


class LineMap:
    """The sidecar, read once; entries whose generated file changed since are ignored."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.maps = read_line_map(root)
        self._fresh: dict[str, bool] = {}

    def origin(self, generated: str, line: int) -> Origin | None:
        """``charts/<c>/templates/x.yaml``, 1-based line → its origin in sources/."""
        entry = self.maps.get(generated)
        if not isinstance(entry, dict) or not self._is_fresh(generated, entry):
            return None
        lines = entry.get("lines") or []
        if not 1 <= line <= len(lines) or not lines[line - 1]:
            return None
        path, src_line, macro = lines[line - 1]
        return Origin(str(path), int(src_line), str(macro))

    def _is_fresh(self, generated: str, entry: Mapping[str, Any]) -> bool:
        if generated not in self._fresh:
            try:
                digest = hashlib.sha256((self.root / generated).read_bytes()).hexdigest()
            except OSError:
                digest = ""
            self._fresh[generated] = digest == entry.get("sha256")
        return self._fresh[generated]


def located_template_error(root: Path, exc: ToolError) -> ChartforgeError:
    """A template of the chart itself failed: one line at the ``sources/`` line that wrote it (the
    generated line as the hint), as ``check`` reports it; any other helm failure as helm said it."""
    failure = template_failure(exc.stderr)
    if failure is None:
        return exc
    origin = LineMap(root).origin(failure.generated, failure.line)
    generated = f"{failure.generated}:{failure.line}"
    if origin is None:  # charts/ not built from these sources: the generated line is all there is
        return TemplateError(
            f"helm template failed: {failure.cause}", path=failure.generated, line=failure.line
        )
    within = f" (in macro {origin.macro})" if origin.macro else ""
    return TemplateError(
        f"helm template failed: {failure.cause}{within}",
        path=origin.path,
        line=origin.line,
        hint=f"generated {generated}",
    )
