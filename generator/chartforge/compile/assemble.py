"""The charts of ``charts/`` laid out as helm consumes them, and the values each one gets.

``charts/`` holds each chart once; the umbrella's ``Chart.yaml`` points at its sub-charts
with ``file://../<name>``. helm wants them under the umbrella's own ``charts/`` directory, so
``assemble`` builds a scratch copy where they are (symlinks, nothing copied twice) — the same
layout ``helm dependency build`` would produce, without its network access or Chart.lock.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

from chartforge.compile.catalog import Catalog, ChartSpec
from chartforge.compile.envvalues import subchart_values
from chartforge.yamlio import load_yaml, plain


@contextlib.contextmanager
def assemble(
    catalog: Catalog,
    charts_dir: Path | None = None,
    charts: Sequence[ChartSpec] | None = None,
    linked: Collection[str] = (),
) -> Iterator[Path]:
    """A scratch directory with ``charts`` (default: all) of ``charts_dir``, sub-charts linked under parents.

    ``linked`` charts (without dependencies) are symbolic links to ``charts_dir`` instead of copies: a check
    over some charts reads the others only through the umbrella, often as stubs."""
    source = charts_dir or catalog.project.charts
    tmp = Path(tempfile.mkdtemp(prefix="chartforge-assembled-"))
    try:
        for chart in charts if charts is not None else catalog.charts:
            if chart.name in linked and not chart.dependencies:
                os.symlink((source / chart.name).resolve(), tmp / chart.name)
                continue
            shutil.copytree(source / chart.name, tmp / chart.name, symlinks=True)
            if chart.dependencies:
                (tmp / chart.name / "charts").mkdir(exist_ok=True)
                for dep in chart.dependencies:
                    os.symlink(Path("..") / ".." / dep.name, tmp / chart.name / "charts" / dep.name)
        yield tmp
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def environment_data(catalog: Catalog, env: str) -> dict[str, Any]:
    data = plain(load_yaml(catalog.project.values_file(env))) or {}
    return dict(data)


def chart_values(catalog: Catalog, chart: ChartSpec, env: str) -> dict[str, Any]:
    """The values a chart gets in ``env``: the umbrella file itself, or its section + ``global``."""
    return subchart_values(environment_data(catalog, env), chart.name, umbrella=chart.is_umbrella)
