"""The thin command-line layer: parse options, call a stage, render its result, exit.

Each command lives in its own module under ``chartforge.cli`` and registers itself on
``app``; stages never print or exit, the CLI does.
"""

from __future__ import annotations

from chartforge.cli import build as _build  # noqa: F401  (registers commands)
from chartforge.cli import bump as _bump  # noqa: F401
from chartforge.cli import check as _check  # noqa: F401
from chartforge.cli import compat as _compat  # noqa: F401
from chartforge.cli import diff as _diff  # noqa: F401
from chartforge.cli import images as _images  # noqa: F401
from chartforge.cli import new as _new  # noqa: F401
from chartforge.cli import package as _package  # noqa: F401
from chartforge.cli import policy as _policy  # noqa: F401
from chartforge.cli import publish as _publish  # noqa: F401
from chartforge.cli import render as _render  # noqa: F401
from chartforge.cli import validate as _validate  # noqa: F401
from chartforge.cli._app import app, main

__all__ = ["app", "main"]
