"""The typer application, global options and the error → exit-code mapping."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer

from chartforge import __version__
from chartforge.errors import ChartforgeError

app = typer.Typer(
    name="chartforge",
    help="Compile one canonical Jinja2 source tree into Helm charts; lint, validate, package, publish.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"


class _State:
    debug = False
    root = Path(".")


state = _State()


def _version(value: bool) -> None:
    if value:
        typer.echo(f"chartforge {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version."
    ),
    debug: bool = typer.Option(False, "--debug", help="Show tracebacks and every external command run."),
    root: Path = typer.Option(
        Path("."), "--root", "-C", help="Project root (holds sources/, charts/, values/).", show_default=True
    ),
) -> None:
    state.debug = debug
    state.root = root
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.WARNING,
        format="%(message)s",
        stream=sys.stderr,
    )


def one_of(names: tuple[str, ...]) -> Callable[[str], str]:
    """A typer ``parser`` accepting only ``names`` (the domain's Literal values): usage error otherwise."""

    def parse(value: str) -> str:
        if value not in names:
            raise typer.BadParameter(f"{value!r} is not one of {', '.join(names)}")
        return value

    return parse


def emit_json(data: Any) -> None:
    """Machine output goes to stdout; everything for people goes to stderr."""
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")


def err(message: str) -> None:
    sys.stderr.write(message.rstrip("\n") + "\n")


def main() -> None:
    """Entry point: click handles usage errors (exit 2); ChartforgeError → one message + its exit code."""
    try:
        app()
    except ChartforgeError as exc:
        if state.debug:
            raise
        err(f"error: {exc.render()}")
        sys.exit(exc.exit_code)
