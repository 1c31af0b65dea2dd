"""Golden CLI output, as helm keeps under ``cmd/helm/testdata/output``: for each command, what a
user sees on stdout and stderr, and its exit code, in ``tests/golden/cli/<case>.txt`` (text) and
``<case>.json`` (``-o json``'s stdout). Every command has a text case, a JSON case and an error case
(``test_every_command_has_text_json_and_error_cases``). Run against the small fixture project
(tests/cases/build/base: alpha, beta, the umbrella suite; development and production) and the
test corpora; paths, registry ports, durations and tool versions are normalised.
``--update-golden`` rewrites them.

Real tools: helm 3 and helm 4 (render, lint, check, package's umbrella); validate uses the
built-in engine (kubeconform has its own tests); publish, release, diff and bump talk to a real
docker-registry on 127.0.0.1, started as tests/publish/ start theirs (ci/registry.sh).
"""

from __future__ import annotations

import json
import re
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import CASES, ROOT, copy_tree, require_tool, run_cli
from tests.publish.conftest import LocalRegistry

GOLDEN = ROOT / "tests" / "golden" / "cli"
BASE = CASES / "build" / "base"
MANIFEST = CASES / "policy" / "positive" / "restricted-deployment" / "manifest.yaml"
BAD_MANIFEST = CASES / "policy" / "negative" / "res-limits-missing-init-container" / "manifest.yaml"
INVALID = (CASES / "validate" / "invalid" / "removed-api-pdb-policy-v1beta1.yaml").relative_to(
    ROOT
)  # run from ROOT: the table does not depend on where the checkout is
UPG = CASES / "compat" / "CF-UPG-002" / "unsafe"
SEMVER = CASES / "compat-semver" / "major-property-removed"

REG = ("--plain-http", "--retries", "1")  # a plain-HTTP registry on 127.0.0.1; no retry on an error case
DEV = ("-e", "development", "-k", "1.33", "--engine", "builtin", "-j", "1")  # check's smallest matrix

# case name → (arguments, expected exit code, what it needs: "" | "helm" | "registry").
# {out} is a scratch folder, {registry} the test registry's HOST:PORT (its namespace "released" holds
# the project with alpha changed: CHANGED), {closed} a loopback HOST:PORT nothing listens on,
# {shard1}/{shard2} the two shards of `check --shard I/2 -o json` of the project.
CASES_TABLE: dict[str, tuple[tuple[str, ...], int, str]] = {
    "version": (("--version",), 0, ""),
    "build-check": (("build", "--check"), 0, ""),
    "build-check-json": (("build", "--check", "-o", "json"), 0, ""),
    "build-drift": (("build", "--check", "--chart", "alpha"), 1, ""),
    "render": (("render", "alpha", "--env", "development", "--set", "cluster_name=golden"), 0, "helm"),
    "render-json": (("render", "alpha", "-n", "golden", "--env", "production", "-o", "json"), 0, "helm"),
    "render-unknown-chart": (("render", "alpah"), 1, ""),
    "lint": (("lint", "-e", "development", "-j", "1"), 0, "helm"),
    "lint-json": (("lint", "-e", "production", "-j", "1", "-o", "json"), 0, "helm"),
    "lint-unknown-env": (("lint", "-e", "dev"), 2, ""),
    "check": (("check", *DEV), 0, "helm"),
    "check-json": (
        ("check", "-e", "production", "-k", "1.31", "--engine", "builtin", "-j", "1", "-o", "json"),
        0,
        "helm",
    ),
    "check-unknown-env": (("check", "-e", "prod"), 2, ""),
    "report-merge": (("report", "merge", "{shard1}", "{shard2}"), 0, "helm"),
    "report-merge-json": (("report", "merge", "{shard1}", "{shard2}", "-o", "json"), 0, "helm"),
    "report-merge-incomplete": (("report", "merge", "{shard1}"), 2, "helm"),
    "validate": (("validate", "-m", str(INVALID), "-k", "1.31", "--engine", "builtin"), 1, ""),
    "validate-json": (
        ("validate", "-m", str(INVALID), "-k", "1.31", "--engine", "builtin", "-o", "json"),
        1,
        "",
    ),
    "validate-missing-file": (("validate", "-m", "nowhere.yaml", "--engine", "builtin"), 1, ""),
    "policy": (("policy", "--no-checkov", "-m", str(BAD_MANIFEST), "--chart", "web", "-e", "qa"), 1, ""),
    "policy-json": (("policy", "--no-checkov", "-m", str(MANIFEST), "-o", "json"), 0, ""),
    "images": (("images", "-e", "development"), 0, "helm"),
    "images-json": (("images", "-o", "json"), 0, "helm"),
    "images-unknown-env": (("images", "-e", "qa"), 2, ""),
    "package": (("package", "--out", "{out}"), 0, "helm"),
    "package-json": (("package", "--out", "{out}", "-o", "json"), 0, "helm"),
    "package-unknown-chart": (("package", "--out", "{out}", "--chart", "gama"), 2, ""),
    "publish": (("publish", "--registry", "oci://{registry}/publish", *REG), 0, "registry"),
    "publish-json": (
        ("publish", "--registry", "oci://{registry}/publish-json", *REG, "-o", "json"),
        0,
        "registry",
    ),
    "publish-refused": (("publish", "--registry", "oci://{registry}/released", *REG), 4, "registry"),
    "release": (
        ("release", "--registry", "oci://{registry}/release", *REG, "--dist", "{out}"),
        0,
        "registry",
    ),
    "release-json": (
        ("release", "--registry", "oci://{registry}/release-json", *REG, "--dist", "{out}", "-o", "json"),
        0,
        "registry",
    ),
    "release-refused": (
        ("release", "--registry", "oci://{registry}/released", *REG, "--dist", "{out}"),
        4,
        "registry",
    ),
    "diff": (("diff", "--registry", "oci://{registry}/released", *REG, "-e", "development"), 0, "registry"),
    "diff-json": (("diff", "--registry", "oci://{registry}/released", *REG, "-o", "json"), 0, "registry"),
    "diff-unreachable": (("diff", "--registry", "oci://{closed}/demo", *REG), 3, "registry"),
    "bump": (
        ("bump", "alpha", "--against", "oci://{registry}/released", "--plain-http", "--dry-run"),
        0,
        "registry",
    ),
    "bump-json": (
        (
            "bump",
            "alpha",
            "--against",
            "oci://{registry}/released",
            "--plain-http",
            "--dry-run",
            "-o",
            "json",
        ),
        0,
        "registry",
    ),
    "bump-unknown-level": (("bump", "alpha", "sideways"), 2, ""),
    "upgrade-check": (
        ("upgrade-check", "--from", str(UPG / "old.yaml"), "--to", str(UPG / "new.yaml")),
        1,
        "",
    ),
    "upgrade-check-json": (
        ("upgrade-check", "--from", str(UPG / "old.yaml"), "--to", str(UPG / "new.yaml"), "-o", "json"),
        1,
        "",
    ),
    "upgrade-check-missing-file": (("upgrade-check", "--from", "old.yaml", "--to", "new.yaml"), 1, ""),
    "new": (("new", "gamma", "--kind", "stateless"), 0, ""),  # in a fresh copy of the project
    "new-json": (("new", "delta", "--kind", "library", "-o", "json"), 0, ""),  # idem
    "new-existing": (("new", "alpha", "--kind", "stateful"), 2, ""),  # refused: the tree is unchanged
    "semver": (("semver", "--from", str(SEMVER / "old.json"), "--to", str(SEMVER / "new.json")), 0, ""),
    "semver-json": (
        ("semver", "--from", str(SEMVER / "old.json"), "--to", str(SEMVER / "new.json"), "-o", "json"),
        0,
        "",
    ),
    "semver-missing-file": (("semver", "--from", "old.json", "--to", str(SEMVER / "new.json")), 1, ""),
}
WRITES = {"new", "new-json"}  # cases that edit sources/: run in a fresh copy of the project
CHANGED = "  tier: golden\n"  # the line the published copy of alpha's ConfigMap has and the project lacks


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = copy_tree(BASE, tmp_path_factory.mktemp("golden") / "project")
    built = run_cli("-C", str(root), "build")
    assert built.returncode == 0, built.stderr
    yield root
    shutil.rmtree(root, ignore_errors=True)


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    """A real docker-registry on 127.0.0.1 (ci/registry.sh, as tests/publish/ start it)."""
    require_tool("docker-registry")
    started = LocalRegistry(tmp_path_factory.mktemp("golden-registry"))
    started.start()
    yield started
    started.stop()


@pytest.fixture(scope="module")
def published(project: Path, registry: LocalRegistry, tmp_path_factory: pytest.TempPathFactory) -> str:
    """oci://HOST/released: the project published with alpha's ConfigMap one line longer (same versions)."""
    copy = copy_tree(project, tmp_path_factory.mktemp("golden-released") / "project")
    template = copy / "sources" / "charts" / "alpha" / "templates" / "configmap.yaml.j2"
    template.write_text(template.read_text() + CHANGED)
    assert run_cli("-C", str(copy), "build").returncode == 0
    url = f"oci://{registry.host}/released"
    done = run_cli("-C", str(copy), "publish", "--registry", url, *REG)
    assert done.returncode == 0, done.stderr
    return url


@pytest.fixture(scope="module")
def shards(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """shard-1.json and shard-2.json: `check --shard I/2 -o json` of the project (what a CI matrix keeps)."""
    folder = tmp_path_factory.mktemp("golden-shards")
    for index in (1, 2):
        done = run_cli("-C", str(project), "check", *DEV, "--shard", f"{index}/2", "-o", "json")
        assert done.returncode == 0, done.stderr
        (folder / f"shard-{index}.json").write_text(done.stdout)
    return folder


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then released): connections to it are refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def normalise(text: str, project: Path, out: Path, places: dict[str, str] | None = None) -> str:
    """Stable across machines and runs: paths, registry ports, durations, tool versions.

    Digests are not touched: archives are byte-reproducible, so a pushed chart's digest is the same
    on every run and machine (a change in one is a change in the package).
    """
    for name, value in (places or {}).items():
        text = text.replace(value, name)
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


def _places(args: tuple[str, ...], request: pytest.FixtureRequest) -> dict[str, str]:
    """The placeholders this case uses → their value (fixtures are started only when needed)."""
    joined = " ".join(args)
    places: dict[str, str] = {}
    if "{registry}/released" in joined:
        request.getfixturevalue("published")
    if "{registry}" in joined:
        places["<registry>"] = request.getfixturevalue("registry").host
    if "{closed}" in joined:
        places["<closed>"] = f"127.0.0.1:{_closed_port()}"
    if "{shard1}" in joined:
        places["<shards>"] = str(request.getfixturevalue("shards"))
    return places


def _fill(arg: str, places: dict[str, str], out: Path) -> str:
    arg = arg.replace("{out}", str(out))
    arg = arg.replace("{registry}", places.get("<registry>", "")).replace(
        "{closed}", places.get("<closed>", "")
    )
    for index in (1, 2):
        arg = arg.replace(f"{{shard{index}}}", f"{places.get('<shards>', '')}/shard-{index}.json")
    return arg


@pytest.mark.parametrize("case", sorted(CASES_TABLE))
def test_cli_output_is_golden(
    case: str, project: Path, tmp_path: Path, update_golden: bool, request: pytest.FixtureRequest
) -> None:
    args, code, needs = CASES_TABLE[case]
    if needs:
        require_tool("helm")
    out = tmp_path / "dist"
    places = _places(args, request)
    argv = [_fill(a, places, out) for a in args]
    if case in WRITES:  # writes sources/charts/NAME and edits the catalog: not in the shared project
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
    assert "Traceback" not in done.stderr
    if "oci://{registry}/released" in " ".join(args) and case.startswith("diff"):
        assert CHANGED.strip() in done.stdout, (
            "the diff shows the line the registry has and the project lacks"
        )
    shown = " ".join(a if " " not in a else repr(a) for a in argv)
    if case.endswith("-json"):
        assert json.loads(done.stdout) is not None  # exactly one JSON document on stdout
        _compare(GOLDEN / f"{case}.json", normalise(done.stdout, project, out, places), update_golden)
        return
    # stages report as they finish, in parallel: their lines are sorted, everything else kept in order
    lines = done.stderr.splitlines(keepends=True)
    progress = sorted(line for line in lines if line.startswith("check: "))
    stderr = "".join(progress) + "".join(line for line in lines if not line.startswith("check: "))
    text = f"$ chartforge {shown}\n[exit {done.returncode}]\n--- stdout\n{done.stdout}--- stderr\n{stderr}"
    _compare(GOLDEN / f"{case}.txt", normalise(text, project, out, places), update_golden)


def _command(args: tuple[str, ...]) -> str:
    """The command a case runs: its first argument, or "GROUP COMMAND" (`report merge`)."""
    return " ".join(args[:2]) if args[0] in GROUPS else args[0]


GROUPS = {"report"}


def test_every_command_has_text_json_and_error_cases() -> None:
    """Each command (and each command of a group) has a text case, an `-o json` case and an error case."""
    from chartforge.cli import app, load_commands

    load_commands()
    commands = {c.name for c in app.registered_commands}
    for group in app.registered_groups:
        assert group.name in GROUPS and group.typer_instance, f"add the group {group.name!r} to GROUPS"
        commands |= {f"{group.name} {c.name}" for c in group.typer_instance.registered_commands}
    cases: dict[str, list[tuple[tuple[str, ...], int]]] = {}
    for args, code, _ in CASES_TABLE.values():
        if not args[0].startswith("-"):
            cases.setdefault(_command(args), []).append((args, code))
    assert commands - set(cases) == set(), "a command without golden output: add its cases"
    for command, found in sorted(cases.items()):
        assert any("json" not in args for args, _ in found), f"{command}: no text case"
        assert any("json" in args for args, _ in found), f"{command}: no -o json case"
        assert any(code != 0 for _, code in found), f"{command}: no error case"
