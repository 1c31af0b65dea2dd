"""Commands load lazily: a command imports its own module only, help and typos still see every command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import typer.main

from chartforge.cli import COMMANDS, app, load_commands
from tests.conftest import CASES, copy_tree, run_cli

MODULES = """
import json, sys
from chartforge.cli import main
sys.argv = ["chartforge", *sys.argv[1:]]
try:
    main()
except SystemExit:
    pass
print(json.dumps(sorted(m for m in sys.modules if m.startswith("chartforge"))))
"""


def test_the_table_names_every_registered_command_in_help_order() -> None:
    load_commands()
    registered = [c.name for c in app.registered_commands] + [g.name for g in app.registered_groups]
    assert sorted(str(n) for n in registered) == sorted(COMMANDS)
    group = typer.main.get_command(app)
    assert isinstance(group, typer.main.TyperGroup)
    assert group.list_commands(typer.Context(group)) == list(COMMANDS)


def test_build_imports_neither_publish_nor_check(tmp_path: Path) -> None:
    root = copy_tree(CASES / "build" / "base", tmp_path / "p")
    proc = subprocess.run([sys.executable, "-c", MODULES, "-C", str(root), "build"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    loaded = set(json.loads(proc.stdout.splitlines()[-1]))
    assert "chartforge.cli.build" in loaded and "chartforge.compile.build" in loaded
    unused = {"chartforge.cli.publish", "chartforge.cli.check", "chartforge.check", "chartforge.publish",
              "chartforge.pipeline", "chartforge.compat", "chartforge.package"}  # fmt: skip
    assert not loaded & unused
    assert (root / "charts" / "alpha" / "Chart.yaml").is_file()


def test_help_lists_and_a_typo_suggests_every_command() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    assert all(name in result.stdout for name in COMMANDS)
    typo = run_cli("upgrade-chek")
    assert typo.returncode == 2 and "Did you mean 'upgrade-check'" in typo.stderr
    assert run_cli("report", "merge", "--help").returncode == 0
