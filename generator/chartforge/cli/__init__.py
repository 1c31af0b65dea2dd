"""The thin command-line layer: parse options, call a stage, render its result, exit.

Each command lives in its own module under ``chartforge.cli`` and registers itself on
``app``; stages never print or exit, the CLI does. A command's module is imported when the
command is used (``COMMANDS`` and ``LazyGroup`` in ``chartforge.cli._app``); ``load_commands()``
imports them all. :func:`main` first lets :mod:`chartforge.cli.noop` answer a ``build`` with
nothing to do, before typer and the compiler are imported; so this package loads ``_app`` (and
typer) only when one of its names is used.
"""

from __future__ import annotations

import importlib
import sys
from typing import TYPE_CHECKING

__all__ = ["COMMANDS", "app", "load_commands", "main"]

if TYPE_CHECKING:
    from chartforge.cli._app import COMMANDS, app, load_commands


def main() -> None:
    """The ``chartforge`` command (see :func:`chartforge.cli._app.main`)."""
    from chartforge.cli.noop import answer

    status = answer(sys.argv[1:])
    if status is not None:
        sys.exit(status)
    from chartforge.cli._app import main as run

    run()


def __getattr__(name: str) -> object:
    if name in ("COMMANDS", "app", "load_commands"):
        return getattr(importlib.import_module("chartforge.cli._app"), name)
    raise AttributeError(f"module 'chartforge.cli' has no attribute {name!r}")
