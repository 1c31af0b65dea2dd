"""Option names and suggestions shared by every command, and shell completion (issue 14).

``--env``/``-e`` is one repeatable option everywhere (``policy --environment`` is a hidden,
deprecated alias); unknown environment and chart names get "did you mean", capped when nothing
is close; ``--show-completion bash`` prints a script that completes commands, environments and
charts when a real bash sources it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from chartforge.yamlio import SUGGEST_AT_MOST, did_you_mean
from tests.conftest import CASES, ROOT, copy_tree, run_cli
from tests.policy.conftest import CLEAN

BASE = CASES / "build" / "base"


def test_did_you_mean_is_capped_when_nothing_is_close() -> None:
    many = [f"key{i:03d}" for i in range(300)]
    hint = did_you_mean("zzz", many)
    assert "key0" not in hint and "300" in hint
    assert did_you_mean("kez007", many).startswith("did you mean 'key007'?")
    assert did_you_mean("x", ["b", "a"]) == "expected one of: a, b"
    few = [f"chart{i}" for i in range(SUGGEST_AT_MOST)]  # environment and chart names: listed
    assert did_you_mean("zzz", few) == "expected one of: " + ", ".join(sorted(few))


@pytest.mark.parametrize("command", ["check", "lint", "policy", "validate", "images"])
def test_unknown_environment_suggests_the_close_one(command: str) -> None:
    done = run_cli("-C", str(ROOT), command, "-e", "prodution")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "unknown environment 'prodution'" in done.stderr and "did you mean 'production'?" in done.stderr
    assert "Traceback" not in done.stderr


def test_unknown_chart_suggests_the_close_one() -> None:
    done = run_cli("-C", str(ROOT), "render", "postgres-ha")
    assert done.returncode == 1 and "unknown chart 'postgres-ha'" in done.stderr
    assert "did you mean 'postgresql-ha'?" in done.stderr
    selected = run_cli("-C", str(ROOT), "build", "--check", "--chart", "redis-clustr")
    assert selected.returncode == 2 and "did you mean 'redis-cluster'?" in selected.stderr


def test_policy_env_is_repeatable_and_environment_is_a_deprecated_alias(tmp_path: Path) -> None:
    old = run_cli(
        "-C", str(tmp_path), "policy", "--no-checkov", "-m", str(CLEAN), "--environment", "qa", "-o", "json"
    )
    assert old.returncode == 0, old.stderr
    assert old.stderr == "warning: --environment is deprecated; use --env\n"
    assert json.loads(old.stdout)["matrix"]["environments"] == ["qa"]
    new = run_cli(
        "-C", str(tmp_path), "policy", "--no-checkov", "-m", str(CLEAN), "--env", "qa", "-o", "json"
    )
    assert (new.returncode, new.stderr, json.loads(new.stdout)["matrix"]["environments"]) == (0, "", ["qa"])
    two = run_cli("-C", str(tmp_path), "policy", "--no-checkov", "-m", str(CLEAN), "-e", "qa", "-e", "prod")
    assert two.returncode == 2 and "--env names the one environment" in two.stderr
    assert "--environment" not in run_cli("policy", "--help").stdout  # hidden


def test_every_env_option_is_spelled_the_same() -> None:
    for command in ("check", "lint", "policy", "validate", "diff", "images", "render"):
        text = run_cli(command, "--help", env={"COLUMNS": "200"}).stdout
        assert "--env" in text and "-e" in text, command


def _complete(words: str, cwd: Path) -> list[str]:
    """Source the generated bash script in a real bash and run its completion function on ``words``."""
    bash = shutil.which("bash")
    assert bash is not None
    script = run_cli("--show-completion", "bash").stdout
    shim = cwd / "bin" / "chartforge"  # what the script calls: the console script, here this checkout's
    shim.parent.mkdir(exist_ok=True)
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m chartforge "$@"\n')
    shim.chmod(0o755)
    program = f"""{script}
COMP_WORDS=({words}); COMP_CWORD=$(( ${{#COMP_WORDS[@]}} - 1 ))
_chartforge_completion chartforge
printf '%s\\n' "${{COMPREPLY[@]}}"
"""
    env = {**os.environ, "PATH": f"{shim.parent}{os.pathsep}{os.environ['PATH']}"}
    done = subprocess.run(
        [bash, "-c", program], cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_show_completion_bash_script_completes_commands_envs_and_charts(tmp_path: Path) -> None:
    shown = run_cli("--show-completion", "bash")
    assert (
        shown.returncode == 0 and "complete -o default -F _chartforge_completion chartforge" in shown.stdout
    )
    assert "_CHARTFORGE_COMPLETE=complete_bash" in shown.stdout
    # the shell named is the one given, whatever shell (if any) runs chartforge
    assert run_cli("--show-completion", "zsh").stdout.startswith("#compdef chartforge")
    assert "--install-completion" in run_cli("--help").stdout
    project = copy_tree(BASE, tmp_path / "project")
    assert _complete("chartforge bu", project) == ["build", "bump"]
    assert _complete("chartforge check --env ''", project) == ["development", "production"]
    assert _complete(f"chartforge -C {ROOT} check -e s", tmp_path) == ["staging"]
    assert _complete("chartforge render ''", project) == ["alpha", "beta", "suite"]
    assert _complete("chartforge check --chart a", project) == ["alpha"]
