"""Hostile and careless inputs to every command: each folder of tests/cases/cli/negative is one fault.

A case folder holds ``case.yaml``::

    base: catalog          # catalog: a copy of this repository's sources/ (built);
                           # build-base: tests/cases/build/base (built); empty: nothing
    args: [render, postgresql-ha, --set, "x={root}/y"]   # after ``-C <project>``; {root} = the project
    env: {CLUSTER_ID: "x"}                               # added to the environment (optional)
    stdin: "..."                                         # optional
    exit: 1                                              # expected exit code (default 1)

``files/`` (copied over the project; symlinks stay symlinks, their target may use ``{root}``
only through ``links.yaml``: ``{path in project: target}``; ``fifos: [path…]`` in case.yaml
makes named pipes), and ``expected.txt``: lines that
must all appear in stderr. Every case must print no traceback, put ``error:`` first, leave
``charts/`` and ``values/`` byte-for-byte as they were with no staging leftovers, and never
show the registry password that is in its environment — on screen or in ``charts/``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from chartforge.compile.build import existing_files
from tests.conftest import CASES, ROOT, copy_tree, run_cli

NEGATIVE = sorted(p for p in (CASES / "cli" / "negative").iterdir() if p.is_dir())
SENTINEL = "Sentinel-Registry-Pa55word"
_built: dict[str, Path] = {}


def _base(kind: str, tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """A built project of that kind, made once per session; cases get copies."""
    if kind == "empty":
        return None
    if kind not in _built:
        root = tmp_path_factory.mktemp(f"base-{kind}")
        if kind == "catalog":
            copy_tree(ROOT / "sources", root / "sources")
        else:
            copy_tree(CASES / "build" / "base", root)
        done = run_cli("-C", str(root), "build")
        assert done.returncode == 0, done.stderr
        _built[kind] = root
    return _built[kind]


def _overlay(case: Path, root: Path) -> None:
    files = case / "files"
    if files.is_dir():
        for item in sorted(files.rglob("*")):
            target = root / item.relative_to(files)
            if item.is_symlink():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.unlink(missing_ok=True)
                os.symlink(os.readlink(item), target)
            elif item.is_file():
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(item.read_bytes())
    spec = yaml.safe_load((case / "case.yaml").read_text()) or {}
    for rel in spec.get("fifos") or []:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        os.mkfifo(root / rel)
    links = case / "links.yaml"
    if links.is_file():
        for rel, dest in (yaml.safe_load(links.read_text()) or {}).items():
            target = root / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.unlink(missing_ok=True)
            os.symlink(str(dest).replace("{root}", str(root)), target)


@pytest.mark.parametrize("case", NEGATIVE, ids=[p.name for p in NEGATIVE])
def test_cli_negative_case(case: Path, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    spec = yaml.safe_load((case / "case.yaml").read_text())
    root = tmp_path / "project"
    base = _base(spec.get("base", "catalog"), tmp_path_factory)
    if base is not None:
        shutil.copytree(base, root, symlinks=True)
    else:
        root.mkdir()
    _overlay(case, root)
    before = existing_files(root)
    args = [str(a).replace("{root}", str(root)) for a in spec["args"]]
    env = {str(k): str(v).replace("{root}", str(root)) for k, v in (spec.get("env") or {}).items()}
    env.setdefault("CHARTFORGE_REGISTRY_USERNAME", "ci-bot")
    env.setdefault("CHARTFORGE_REGISTRY_PASSWORD", SENTINEL)
    env.setdefault("CHARTFORGE_LOCK_DIR", str(tmp_path / "locks"))
    result = run_cli("-C", str(root), *args, env=env, input_text=spec.get("stdin"))
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == spec.get("exit", 1), result.stderr
    assert result.stderr.startswith("error: "), result.stderr
    for expected in (case / "expected.txt").read_text().splitlines():
        assert expected in result.stderr, f"{expected!r} not in {result.stderr!r}"
    assert SENTINEL not in result.stderr + result.stdout, "the registry password was shown"
    after = existing_files(root)
    assert after == before, "a failed command touched charts/ or values/"
    assert not any(SENTINEL.encode() in data for data in after.values())
    assert not list(root.glob(".chartforge-build-*")), "staging folder left behind"
    assert not list(root.glob(".*.old")), "old generation left behind"
