"""``--chart NAME`` and ``--changed-since GIT_REF``: the options every chart-wise command shares."""

from __future__ import annotations

import typer

from chartforge.cli._app import complete_chart, err, state
from chartforge.compile.catalog import Catalog, load_catalog
from chartforge.selection import Selection, select

ChartOpt = typer.Option(
    [],
    "--chart",
    autocompletion=complete_chart,
    help="Only this chart and the charts depending on it (repeatable; aliases allowed).",
)
ChangedSinceOpt = typer.Option(
    None,
    "--changed-since",
    metavar="GIT_REF",
    help="Only charts whose sources changed since GIT_REF (working tree, untracked files included), "
    "and the charts depending on them.",
)


def selected(
    charts: list[str], changed_since: str | None, catalog: Catalog | None = None
) -> Selection | None:
    """The selection for the options (None: every chart); says on stderr what was selected."""
    if not charts and changed_since is None:
        return None  # no catalog needed: package/publish/diff work on charts/ alone
    selection = select(catalog or load_catalog(state.root), charts=charts, changed_since=changed_since)
    if selection is not None:
        why = f"changed since {changed_since}" if changed_since is not None else "named"
        picked = ", ".join(selection.charts) if selection.charts else "none"
        err(f"charts selected ({why}): {picked}")
    return selection


def names(selection: Selection | None) -> tuple[str, ...] | None:
    return None if selection is None else selection.charts
