"""Stage 2 — Jinja2 rendering of chart sources into Helm templates (see ``jinja`` for the environment)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chartforge.compile import generated
from chartforge.compile.catalog import Catalog, ChartSpec
from chartforge.compile.jinja import environment, render_file
from chartforge.compile.sourcetree import sources_files
from chartforge.yamlio import read_text


@dataclass(frozen=True)
class RenderedFile:
    path: str  # relative to the chart directory, e.g. "templates/statefulset.yaml"
    source: str  # relative to the project root
    text: str


def chart_context(catalog: Catalog, chart: ChartSpec) -> dict[str, Any]:
    return {
        "chart": chart,
        "catalog": catalog,
        "platform": catalog.platform,
        "charts": {c.name: c for c in catalog.charts},
    }


def render_chart_files(catalog: Catalog, chart: ChartSpec) -> list[RenderedFile]:
    """Every file under ``sources/charts/<chart>/{templates,files}``: ``*.j2`` rendered, others copied."""
    env = environment(catalog.sources)
    context = chart_context(catalog, chart)
    out: list[RenderedFile] = []
    for sub in ("templates", "files"):
        base = chart.source_dir / sub
        if not base.is_dir():
            continue
        for path in sources_files(base, catalog.sources, root=catalog.root):
            rel_src = path.relative_to(catalog.sources).as_posix()
            rel_out = path.relative_to(chart.source_dir).as_posix()
            if path.suffix == ".j2":
                rel_out = rel_out[: -len(".j2")]
                text = render_file(env, catalog.sources, rel_src, context)
            else:
                text = read_text(path, display=f"sources/{rel_src}")
            header = generated.header(rel_out, f"sources/{rel_src}") if sub == "templates" else ""
            out.append(RenderedFile(rel_out, f"sources/{rel_src}", header + text))
    return out
