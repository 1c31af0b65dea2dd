"""The thin command-line layer: parse options, call a stage, render its result, exit.

Each command lives in its own module under ``chartforge.cli`` and registers itself on
``app``; stages never print or exit, the CLI does. A command's module is imported when the
command is used (``COMMANDS`` and ``LazyGroup`` in ``chartforge.cli._app``); ``load_commands()``
imports them all.
"""

from __future__ import annotations

from chartforge.cli._app import COMMANDS, app, load_commands, main

__all__ = ["COMMANDS", "app", "load_commands", "main"]
