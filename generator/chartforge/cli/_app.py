"""The typer application, global options and the error → exit-code mapping.

Commands load lazily (click's ``LazyGroup`` pattern, the CLI's one deferred import): :data:`COMMANDS`
names the module under ``chartforge.cli`` that registers each command, and that module (with the
stages it imports) is imported only when its command runs, is completed or its help is shown, so
``chartforge build`` does not pay for importing publish, check or compat.
"""

from __future__ import annotations

import importlib
import json
import logging
import os
import signal
import sys
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from chartforge import __version__
from chartforge.compile.swap import build_lock, recover
from chartforge.errors import EXIT_INTERNAL, EXIT_USER_ERROR, ChartforgeError

#: Every command, in ``--help`` order, and the module of ``chartforge.cli`` that registers it.
COMMANDS = {
    "build": "build", "package": "package", "publish": "publish", "release": "publish", "bump": "bump",
    "check": "check", "lint": "check", "upgrade-check": "compat", "semver": "compat", "diff": "diff",
    "images": "images", "new": "new", "policy": "policy", "render": "render", "validate": "validate",
    "report": "check",
}  # fmt: skip


def load_commands(*modules: str) -> None:
    """Import the command modules ``modules`` (default: all), which register their commands on ``app``."""
    for module in modules or sorted(set(COMMANDS.values())):
        importlib.import_module(f"chartforge.cli.{module}")


class LazyGroup(TyperGroup):
    """The root group: lists :data:`COMMANDS` without importing them; loads one when it is asked for."""

    def list_commands(self, ctx: Any) -> list[str]:
        return [*COMMANDS, *(name for name in self.commands if name not in COMMANDS)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self._load(COMMANDS[cmd_name])
        return super().get_command(ctx, cmd_name)

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:
        if args and args[0] not in COMMANDS and args[0] not in self.commands:
            self._load()  # not a command: "did you mean …" compares it with every command
        return super().resolve_command(ctx, args)

    def _load(self, *modules: str) -> None:
        load_commands(*modules)
        for name, command in typer.main.get_group(app).commands.items():
            self.commands.setdefault(name, command)


app = typer.Typer(
    name="chartforge",
    cls=LazyGroup,
    help="Compile one canonical Jinja2 source tree into Helm charts; lint, validate, package, publish.",
    no_args_is_help=True,
    add_completion=True,  # --install-completion / --show-completion [bash|zsh|fish|powershell]
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
    _recover_interrupted_build(root)


def _recover_interrupted_build(root: Path) -> None:
    """Every command reads charts/ and values/: first undo a build that was killed mid-swap."""
    leftovers = list(root.glob(".chartforge-build-*")) + [root / f".{t}.old" for t in ("charts", "values")]
    if not any(p.exists() for p in leftovers):
        return
    with build_lock(root.resolve(), wait=False) as mine:
        if mine:  # else a build is running right now: it is not a leftover
            recover(root.resolve())


def _names_under(ctx: typer.Context, folder: str, pattern: str) -> list[str]:
    """Names in ``--root``'s ``folder`` (completion runs without the root callback, so read ctx)."""
    root = ctx.find_root().params.get("root") or Path(".")
    base = Path(root) / folder
    if not base.is_dir():
        return []
    return sorted(p.name.removesuffix(".yaml") for p in base.glob(pattern))


def complete_env(ctx: typer.Context, incomplete: str) -> list[str]:
    """Shell completion of ``--env``: the environments under sources/environments/."""
    return [n for n in _names_under(ctx, "sources/environments", "*.yaml") if n.startswith(incomplete)]


def complete_chart(ctx: typer.Context, incomplete: str) -> list[str]:
    """Shell completion of chart names: the folders under sources/charts/."""
    return [n for n in _names_under(ctx, "sources/charts", "*/") if n.startswith(incomplete)]


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


def emit_line(message: str) -> None:
    """A line of the command's result (stdout: what ``> file`` or a pipe should get)."""
    sys.stdout.write(message.rstrip("\n") + "\n")


def deprecated(old: str, new: str, given: list[str]) -> list[str]:
    """Values of a hidden deprecated option spelling, with one warning on stderr when it was used."""
    if given:
        err(f"warning: {old} is deprecated; use {new}")
    return given


def err(message: str) -> None:
    """A diagnostic, warning or progress line (stderr: never mixed into the result)."""
    sys.stderr.write(message.rstrip("\n") + "\n")


class Terminated(BaseException):
    """SIGTERM/SIGHUP (how CI cancels a job): unwinds like Ctrl-C so every ``finally`` runs."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


def _terminate(signum: int, frame: object) -> None:
    # Ignore further signals while unwinding: cleanup (temporary registry configs,
    # staging folders) must finish, and a second SIGTERM from an impatient runner would cut it.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGHUP, signal.SIG_IGN)
    raise Terminated(signum)


def _describe(exc: BaseException) -> tuple[str, int]:
    """One line and the exit code for a failure that is not a :class:`ChartforgeError`."""
    if isinstance(exc, UnicodeDecodeError | UnicodeEncodeError):
        where = getattr(exc, "filename", None)
        text = f"input is not valid UTF-8 ({exc.__class__.__name__}: {exc.reason})"
        return (f"{where}: {text}" if where else text), EXIT_USER_ERROR
    if isinstance(exc, OSError):
        parts = [str(p) for p in (exc.filename, exc.filename2) if p is not None]
        what = exc.strerror or exc.__class__.__name__
        where = " -> ".join(parts)
        return (f"{where}: {what}" if where else f"{what}: {exc}"), EXIT_USER_ERROR
    if isinstance(exc, RecursionError | MemoryError):
        return f"input too deeply nested or too large ({exc.__class__.__name__})", EXIT_USER_ERROR
    return (
        f"internal error: {exc.__class__.__name__}: {exc} (re-run with --debug for the traceback)",
        EXIT_INTERNAL,
    )


SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")


def _explicit_completion_shell(argv: list[str]) -> None:
    """``--show-completion bash`` / ``--install-completion zsh`` take the shell as given.

    typer guesses the shell from the parent processes (shellingham) and then treats the option as a
    flag, so an explicit shell was ignored (and from a script or CI, where no shell is found, the
    command failed). Its switch for taking the shell as the option's value is this variable.
    """
    for option in ("--show-completion", "--install-completion"):
        if option in argv and argv.index(option) + 1 < len(argv) and argv[argv.index(option) + 1] in SHELLS:
            os.environ["_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION"] = "1"


def main() -> None:
    """Entry point: click handles usage errors (exit 2); every failure → one message + an exit code.

    ChartforgeError carries its own exit code. Failures from the environment (a read-only or
    full output folder, a file that is not UTF-8, an unreadable path) are one ``error:`` line
    with exit 1; anything else is reported as an internal error (exit 70), never a traceback
    unless ``--debug``. SIGTERM/SIGHUP unwind cleanly (temporary files removed), exit 128+N.
    """
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    _explicit_completion_shell(sys.argv[1:])
    try:
        app(prog_name="chartforge")  # also under `python -m chartforge`: completion scripts call `chartforge`
    except Terminated as exc:
        err(f"error: interrupted by {exc}; temporary files removed")
        sys.exit(128 + exc.signum)
    except ChartforgeError as exc:
        if state.debug:
            raise
        err(f"error: {exc.render()}")
        sys.exit(exc.exit_code)
    except Exception as exc:
        if state.debug:
            raise
        message, code = _describe(exc)
        err(f"error: {message}")
        sys.exit(code)
