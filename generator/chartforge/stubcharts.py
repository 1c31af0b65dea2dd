"""Stub charts kept beside the result cache (``stub-charts/<key>``), so a run links them instead of writing them.

A stub chart stands for a sub-chart in an umbrella that :mod:`chartforge.umbrellastub` (lint) or
:mod:`chartforge.renderstub` (render) proved it may replace. Each is written once, in a temporary
directory renamed into place, so a reader sees all of it or nothing; its key names its content.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

from chartforge.resultcache import ResultCache, log


def keep(
    cache: ResultCache, key: str, chart: Path, fill: Callable[[Path], None] | None = None
) -> Path | None:
    """``stub-charts/<key>``: ``chart``'s ``Chart.yaml`` and ``values.yaml`` and what ``fill`` adds; None if it cannot be."""
    if cache.root is None:
        return None
    store = cache.root.parent / "stub-charts"
    if (store / key / "Chart.yaml").is_file():
        return store / key
    try:
        store.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{key[:8]}-", dir=store))
        try:
            for name in ("Chart.yaml", "values.yaml"):
                if (chart / name).is_file():
                    shutil.copyfile(chart / name, tmp / name)
            if fill is not None:
                fill(tmp)
            os.rename(tmp, store / key)  # atomic; another run may have written it first
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    except OSError as exc:
        log.warning(
            f"warning: cannot write stub chart {store / key} ({exc}); that sub-chart is checked in full"
        )
    return store / key if (store / key / "Chart.yaml").is_file() else None
