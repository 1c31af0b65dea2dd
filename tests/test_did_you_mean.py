"""The hint for an unknown name: close matches only (at most five), never a dump of every allowed name."""

from __future__ import annotations

from pathlib import Path

import pytest

from chartforge.yamlio import HINT_NAMES, did_you_mean
from tests.conftest import CASES, copy_tree, run_cli

MANY = [f"component{i:03d}Setting" for i in range(300)]


def test_one_close_match() -> None:
    assert (
        did_you_mean("replicaCout", ["replicaCount", "image", "resources"]) == "did you mean 'replicaCount'?"
    )


def test_several_close_matches_are_capped() -> None:
    hint = did_you_mean("component100Settin", MANY)
    assert hint.startswith("did you mean 'component100Setting'?")
    assert sum(name in hint for name in MANY) <= HINT_NAMES


@pytest.mark.parametrize("word", ["zzqqxx", "x", "TLS"])
def test_nothing_close_in_a_large_set_lists_nothing(word: str) -> None:
    hint = did_you_mean(word, MANY)
    assert not any(name in hint for name in MANY)
    assert "300" in hint and len(hint) < 120


def test_a_small_set_is_listed() -> None:
    assert did_you_mean("zzqqxx", ["beta", "alpha"]) == "expected one of: alpha, beta"
    assert did_you_mean("x", []) == "no keys are allowed here"


def test_build_error_for_an_unknown_key_among_hundreds_stays_one_short_line(tmp_path: Path) -> None:
    root = copy_tree(CASES / "build" / "base", tmp_path / "project")
    params = root / "sources" / "charts" / "alpha" / "parameters.yaml"
    params.write_text(
        params.read_text()
        + "".join(f"{n}: {{type: string, default: '', description: Setting {n}}}\n" for n in MANY)
    )
    env = root / "sources" / "environments" / "production.yaml"
    env.write_text(env.read_text().replace("alpha:\n", "alpha:\n  zzqqxx: 1\n"))
    result = run_cli("-C", str(root), "build")
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1 and "zzqqxx" in result.stderr
    assert not any(name in result.stderr for name in MANY), result.stderr
    assert len(result.stderr) < 400, result.stderr


def test_an_abbreviation_names_what_it_abbreviates() -> None:
    envs = ["development", "production", "staging"]
    assert did_you_mean("dev", envs) == "did you mean 'development'?"
    assert did_you_mean("Prod", envs) == "did you mean 'production'?"
    assert did_you_mean("component", MANY).count("component") == HINT_NAMES  # capped like close matches


def test_cli_names_the_environment_an_abbreviation_means() -> None:
    result = run_cli("lint", "-e", "dev")
    assert result.returncode == 2
    assert "did you mean 'development'?" in result.stderr, result.stderr
