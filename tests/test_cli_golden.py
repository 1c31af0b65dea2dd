"""Golden CLI output, as helm keeps under ``cmd/helm/testdata/output``: for each command, what a
user sees on stdout and stderr, and its exit code, in ``tests/golden/cli/<case>.txt`` (text) and
``<case>.json`` (``-o json``'s stdout). Run against the small fixture project
(tests/cases/build/base: alpha, beta, the umbrella suite; development and production) and the
test corpora; paths, durations and tool versions are normalised. ``--update-golden`` rewrites them.

Real tools: helm 3 and helm 4 (render, lint, check, package's umbrella); validate uses the
built-in engine (kubeconform has its own tests). diff/publish/release need a registry and are
covered by tests/publish/.
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CASES, ROOT, copy_tree, require_tool, run_cli

GOLDEN = ROOT / "tests" / "golden" / "cli"
BASE = CASES / "build" / "base"
MANIFEST = CASES / "policy" / "positive" / "restricted-deployment" / "manifest.yaml"
BAD_MANIFEST = CASES / "policy" / "negative" / "res-limits-missing-init-container" / "manifest.yaml"
INVALID = (CASES / "validate" / "invalid" / "removed-api-pdb-policy-v1beta1.yaml").relative_to(
    ROOT
)  # run from ROOT: the table does not depend on where the checkout is
UPG = CASES / "compat" / "CF-UPG-002" / "unsafe"
SEMVER = CASES / "compat-semver" / "major-property-removed"

# case name → (arguments, expected exit code, needs helm); {project} and {out} are filled in.
CASES_TABLE: dict[str, tuple[tuple[str, ...], int, bool]] = {
    "version": (("--version",), 0, False),
    "build-check": (("build", "--check"), 0, False),
    "build-check-json": (("build", "--check", "-o", "json"), 0, False),
    "build-drift": (("build", "--check", "--chart", "alpha"), 1, False),
    "render": (("render", "alpha", "--env", "development", "--set", "cluster_name=golden"), 0, True),
    "render-json": (("render", "alpha", "-n", "golden", "--env", "production", "-o", "json"), 0, True),
    "render-unknown-chart": (("render", "alpah"), 1, False),
    "lint": (("lint", "-e", "development", "-j", "1"), 0, True),
    "lint-json": (("lint", "-e", "production", "-j", "1", "-o", "json"), 0, True),
    "check": (("check", "-e", "development", "-k", "1.33", "--engine", "builtin", "-j", "1"), 0, True),
    "check-json": (
        ("check", "-e", "production", "-k", "1.31", "--engine", "builtin", "-j", "1", "-o", "json"),
        0,
        True,
    ),
    "check-unknown-env": (("check", "-e", "prod"), 2, False),
    "validate": (("validate", "-m", str(INVALID), "-k", "1.31", "--engine", "builtin"), 1, False),
    "validate-json": (
        ("validate", "-m", str(INVALID), "-k", "1.31", "--engine", "builtin", "-o", "json"),
        1,
        False,
    ),
    "policy": (("policy", "--no-checkov", "-m", str(BAD_MANIFEST), "--chart", "web", "-e", "qa"), 1, False),
    "policy-json": (("policy", "--no-checkov", "-m", str(MANIFEST), "-o", "json"), 0, False),
    "package": (("package", "--out", "{out}"), 0, True),
    "package-json": (("package", "--out", "{out}", "-o", "json"), 0, True),
    "upgrade-check": (
        ("upgrade-check", "--from", str(UPG / "old.yaml"), "--to", str(UPG / "new.yaml")),
        1,
        False,
    ),
    "upgrade-check-json": (
        ("upgrade-check", "--from", str(UPG / "old.yaml"), "--to", str(UPG / "new.yaml"), "-o", "json"),
        1,
        False,
    ),
    "new": (("new", "gamma", "--kind", "stateless"), 0, False),  # in a fresh copy of the project
    "new-existing": (("new", "alpha", "--kind", "stateful"), 2, False),  # refused: the tree is unchanged
    "semver": (("semver", "--from", str(SEMVER / "old.json"), "--to", str(SEMVER / "new.json")), 0, False),
    "semver-json": (
        ("semver", "--from", str(SEMVER / "old.json"), "--to", str(SEMVER / "new.json"), "-o", "json"),
        0,
        False,
    ),
}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = copy_tree(BASE, tmp_path_factory.mktemp("golden") / "project")
    built = run_cli("-C", str(root), "build")
    assert built.returncode == 0, built.stderr
    yield root
    shutil.rmtree(root, ignore_errors=True)


def normalise(text: str, project: Path, out: Path) -> str:
    """Stable across machines and runs: paths, durations, tool versions."""
    for path, name in ((out, "<out>"), (project, "<project>"), (ROOT, "<repo>")):
        text = text.replace(str(path), name)
    text = re.sub(r"\bv3\.\d+\.\d+\b", "v3.x", text)
    text = re.sub(r"\bv4\.\d+\.\d+\b", "v4.x", text)
    text = re.sub(r"\b\d+\.\d+s\b", "<t>s", text)
    return re.sub(r"chartforge \d+\.\d+\.\d+\S*", "chartforge <version>", text)


def _compare(path: Path, actual: str, update: bool) -> None:
    if update:
        path.write_text(actual)
        return
    assert path.is_file(), f"{path.name} missing: run pytest --update-golden"
    assert actual == path.read_text(), f"{path.name} differs (intended? pytest --update-golden)"


@pytest.mark.parametrize("case", sorted(CASES_TABLE))
def test_cli_output_is_golden(case: str, project: Path, tmp_path: Path, update_golden: bool) -> None:
    args, code, helm = CASES_TABLE[case]
    if helm:
        require_tool("helm")
    out = tmp_path / "dist"
    argv = [a.replace("{out}", str(out)) for a in args]
    if case == "new":  # writes sources/charts/gamma and edits the catalog: not in the shared project
        project = copy_tree(project, tmp_path / "project")
        copy_tree(ROOT / "sources" / "macros", project / "sources" / "macros")  # the skeletons' macros
    if case == "build-drift":
        (project / "charts" / "alpha" / "values.yaml").write_text("edited: by hand\n")
    try:
        done = run_cli(
            "-C", str(project), *argv, env={"COLUMNS": "300", "NO_COLOR": "1"}
        )  # wide: no path-dependent wrap
    finally:
        if case == "build-drift":
            assert run_cli("-C", str(project), "build").returncode == 0
    assert done.returncode == code, done.stdout + done.stderr
    shown = " ".join(a if " " not in a else repr(a) for a in argv)
    if case.endswith("-json"):
        assert json.loads(done.stdout) is not None  # exactly one JSON document on stdout
        _compare(GOLDEN / f"{case}.json", normalise(done.stdout, project, out), update_golden)
        return
    # stages report as they finish, in parallel: their lines are sorted, everything else kept in order
    lines = done.stderr.splitlines(keepends=True)
    progress = sorted(line for line in lines if line.startswith("check: "))
    stderr = "".join(progress) + "".join(line for line in lines if not line.startswith("check: "))
    text = f"$ chartforge {shown}\n[exit {done.returncode}]\n--- stdout\n{done.stdout}--- stderr\n{stderr}"
    _compare(GOLDEN / f"{case}.txt", normalise(text, project, out), update_golden)


# Commands whose output is golden elsewhere or needs a registry: each says where it is tested.
ELSEWHERE = {
    "images": "tests/test_images.py (tests/golden/images)",
    "diff": "tests/publish/test_diff.py (registry)",
    "publish": "tests/publish/ (registry)",
    "release": "tests/publish/test_pipeline.py (registry)",
    "bump": "tests/compat/test_bump.py (needs a release to compare with)",
}


def test_every_command_has_a_golden_case() -> None:
    from chartforge.cli import app, load_commands

    load_commands()
    commands = {c.name for c in app.registered_commands}
    covered = {args[0] for args, _, _ in CASES_TABLE.values()}
    assert commands - covered - set(ELSEWHERE) == set(), "a command without golden output: add a case"
