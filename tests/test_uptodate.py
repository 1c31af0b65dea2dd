"""The no-op build decided from file metadata (compile/uptodate.py, cli/noop.py): any change rebuilds."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from chartforge.compile import uptodate
from chartforge.compile.build import STAMP, build
from tests.conftest import CASES, copy_tree, run_cli

BASE = CASES / "build" / "base"
GENERATOR = Path(__file__).resolve().parents[1] / "generator"
MODULES = """
import json, sys
from chartforge.cli import main
sys.argv = ["chartforge", *sys.argv[1:]]
try:
    main()
except SystemExit as exc:
    print("exit", exc.code)
print(json.dumps(sorted(sys.modules)))
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = copy_tree(BASE, tmp_path / "project")
    build(root)
    assert uptodate.up_to_date(str(root)) is not None
    return root


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for top in ("charts", "values") for p in sorted((root / top).rglob("*")) if p.is_file()}  # fmt: skip


def clean_build(root: Path, tmp: Path) -> dict[str, bytes]:
    """What a build of ``root``'s sources gives in a fresh project (no charts/, no .chartforge/)."""
    fresh = tmp / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(root / "sources", fresh / "sources")
    build(fresh)
    return tree_bytes(fresh)


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, (path, old)
    path.write_text(text.replace(old, new))


INPUT_CHANGES: dict[str, Callable[[Path], None]] = {
    "template": lambda r: edit(r / "sources/charts/alpha/templates/configmap.yaml.j2", "ConfigMap", "ConfigMaq"),
    "macro": lambda r: edit(r / "sources/macros/k8s.j2", "app.kubernetes.io", "app.kubernetes.ioo"),
    "environment file": lambda r: edit(r / "sources/environments/production.yaml", "replicaCount: 3", "replicaCount: 5"),
    "catalog": lambda r: edit(r / "sources/catalog.yaml", "[development, production]", "[development, production, staging]"),
    "parameters": lambda r: edit(r / "sources/charts/beta/parameters.yaml", "default: 2", "default: 3"),
    "new template": lambda r: (r / "sources/charts/beta/templates/extra.yaml.j2").write_text("# [[ chart.name ]]\n"),
    "removed template": lambda r: (r / "sources/charts/alpha/templates/configmap.yaml.j2").unlink(),
    "same size, mtime put back": lambda r: _same_size_same_mtime(r / "sources/environments/production.yaml"),
    "content stamp deleted": lambda r: (r / STAMP).unlink(),
}  # fmt: skip


def _same_size_same_mtime(path: Path) -> None:
    """An edit that keeps the size and restores the mtime (``touch -r``): only the ctime tells."""
    before = path.stat()
    edit(path, "replicaCount: 3", "replicaCount: 7")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns


@pytest.mark.parametrize("change", sorted(INPUT_CHANGES))
def test_any_input_change_is_seen_and_the_rebuild_equals_a_clean_build(
    project: Path, tmp_path: Path, change: str
) -> None:
    if change == "catalog":
        shutil.copy(
            project / "sources/environments/development.yaml", project / "sources/environments/staging.yaml"
        )
        build(project)
    INPUT_CHANGES[change](project)
    assert uptodate.up_to_date(str(project)) is None
    result = build(project)
    assert tree_bytes(project) == clean_build(project, tmp_path)
    assert result.written == (change != "content stamp deleted")
    assert uptodate.up_to_date(str(project)) == sorted(result.files)  # recorded again


@pytest.mark.parametrize("change", ["edited", "edited, mtime put back", "deleted", "added"])
def test_a_hand_edited_deleted_or_added_output_is_rebuilt(project: Path, change: str) -> None:
    before = tree_bytes(project)
    values = project / "charts/alpha/values.yaml"
    stat = values.stat()
    if change.startswith("edited"):
        values.write_bytes(values.read_bytes().replace(b"replicaCount: ", b"replicaCount:\t"))
        if "put back" in change:
            os.utime(values, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    elif change == "deleted":
        values.unlink()
    else:
        (project / "charts/alpha/templates/hand-made.yaml").write_text("kind: ConfigMap\n")
    assert uptodate.up_to_date(str(project)) is None
    assert not build(project, check=True).clean
    assert build(project).written
    assert tree_bytes(project) == before


def test_a_touched_input_is_compared_by_content_once_then_recorded_again(project: Path) -> None:
    template = project / "sources/charts/alpha/templates/configmap.yaml.j2"
    template.write_bytes(template.read_bytes())  # new times, same bytes
    assert uptodate.up_to_date(str(project)) is None
    result = build(project)
    assert not result.written and result.clean
    assert uptodate.up_to_date(str(project)) == sorted(result.files)


def test_racy_files_are_recorded_by_content_and_compared(tmp_path: Path) -> None:
    """A file changed within the clock tick of its recording keeps its times: its bytes decide."""
    root = tmp_path / "p"
    (root / ".chartforge").mkdir(parents=True)
    (root / ".chartforge/build.lock").write_text("")
    old, new = root / "old.txt", root / "new.txt"
    old.write_text("old")
    os.utime(old, ns=(1_000_000_000, 1_000_000_000))  # ctime stays now: still racy by its ctime
    new.write_text("new")
    record = uptodate.Recorder(str(root))
    record.files(["new.txt"])
    assert [path for _, path in record.racy] == ["new.txt"]
    text = uptodate.stamp_text([record])
    assert text is not None
    (root / uptodate.FILE).write_text(text)
    assert uptodate.up_to_date(str(root)) == ["new.txt"]
    racy_line = next(
        line for line in text.splitlines() if line.endswith(" new.txt") and len(line.split()) == 2
    )
    (root / uptodate.FILE).write_text(text.replace(racy_line, f"{'0' * 32} new.txt"))  # "the bytes differ"
    assert uptodate.up_to_date(str(root)) is None


def test_a_running_build_or_an_interrupted_one_defers_to_the_full_command(project: Path) -> None:
    fd = os.open(project / ".chartforge/build.lock", os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        assert uptodate.check_locked(str(project)) is None
    finally:
        os.close(fd)
    assert uptodate.check_locked(str(project)) is not None
    (project / ".chartforge-build-leftover").mkdir()
    result = run_cli("-C", str(project), "build")
    assert result.returncode == 0 and not (project / ".chartforge-build-leftover").exists()


def _run(root: Path, *args: str, pythonpath: Path = GENERATOR) -> tuple[str, set[str]]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    proc = subprocess.run([sys.executable, "-c", MODULES, "-C", str(root), *args],
                          capture_output=True, text=True, check=True, env=env)  # fmt: skip
    *out, modules = proc.stdout.splitlines()
    return "\n".join(out), set(json.loads(modules))


@pytest.mark.parametrize(
    "args", [("build",), ("build", "--check"), ("build", "-o", "json"), ("build", "--output=json", "--check")]
)
def test_the_command_line_answers_without_the_compiler_and_prints_the_same(
    project: Path, args: tuple[str, ...]
) -> None:
    (project / "sources/global.yaml").touch()  # the full command decides, by content, and records again
    full, loaded = _run(project, *args)
    assert "jinja2" in loaded and "typer" in loaded
    fast, loaded = _run(project, *args)
    assert fast == full and fast.endswith("exit 0")
    assert not loaded & {"jinja2", "typer", "yaml", "chartforge.compile.build", "chartforge.cli._app"}
    if "json" in args:
        assert json.loads(fast.removesuffix("exit 0")) == {
            "changes": [], "clean": True, "files": len(tree_bytes(project)), "written": False,
        }  # fmt: skip


def test_other_arguments_always_run_the_full_command(project: Path) -> None:
    for args in (("build", "--chart", "alpha", "--check"), ("--debug", "build"), ("build", "-o", "yaml")):
        _, loaded = _run(project, *args)
        assert "chartforge.cli._app" in loaded, args


def test_a_change_to_chartforge_itself_rebuilds(project: Path, tmp_path: Path) -> None:
    code = tmp_path / "code"
    shutil.copytree(
        GENERATOR / "chartforge", code / "chartforge", ignore=shutil.ignore_patterns("__pycache__")
    )
    _run(project, "build", pythonpath=code)  # recorded with this copy of the code
    _, loaded = _run(project, "build", pythonpath=code)
    assert "chartforge.compile.build" not in loaded
    edit(code / "chartforge/__init__.py", '__version__ = "', '__version__ = "9')
    _, loaded = _run(project, "build", pythonpath=code)
    assert "chartforge.compile.build" in loaded


def test_a_linked_folder_in_sources_keeps_the_fast_path(tmp_path: Path) -> None:
    root = copy_tree(BASE, tmp_path / "project")
    (root / "sources/shared").mkdir()
    (root / "sources/charts/alpha/linked").symlink_to(root / "sources/shared")  # not entered by the build
    result = build(root)
    assert uptodate.up_to_date(str(root)) == sorted(result.files)
    (root / "sources/shared/new.txt").write_text("x")  # the linked folder's own times changed: decided again
    assert uptodate.up_to_date(str(root)) is None
    assert not build(root).written
