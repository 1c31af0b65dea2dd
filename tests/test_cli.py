"""The CLI's contract: --help on every command, --version, usage errors exit 2."""

from __future__ import annotations

import pytest

from chartforge import __version__
from chartforge.cli import app, load_commands
from tests.conftest import run_cli


def test_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"chartforge {__version__}"


def test_every_command_has_help() -> None:
    import typer.main

    load_commands()  # every command module registered, as `--help` does
    group = typer.main.get_command(app)
    names = sorted(group.commands)  # type: ignore[attr-defined]
    assert {"build", "render"} <= set(names)
    for name in names:
        result = run_cli(name, "--help")
        assert result.returncode == 0, name
        assert "Usage" in result.stdout


def test_usage_error_exit_2() -> None:
    result = run_cli("build", "--no-such-flag")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_python_dash_m() -> None:
    assert run_cli("--help").returncode == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("check", "--stage", "nope"), "'nope' is not one of lint, validate, policy"),
        (("check", "--engine", "nope"), "'nope' is not one of auto, kubeconform, builtin"),
        (("validate", "--engine", "nope"), "'nope' is not one of auto, kubeconform, builtin"),
    ],
)
def test_stage_and_engine_names_come_from_the_domain(args: tuple[str, ...], message: str) -> None:
    result = run_cli(*args)
    assert result.returncode == 2
    assert message in " ".join(result.stderr.replace("│", " ").split())
