"""Each chart's compile kept between builds (compile/chartcache.py): an incremental build is a clean build."""

from __future__ import annotations

import marshal
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from chartforge.compile import chartcache
from chartforge.compile.build import build
from chartforge.compile.linemap import read_line_map
from tests.conftest import CASES, copy_tree

BASE = CASES / "build" / "base"


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes()
            for top in ("charts", "values") for p in sorted((root / top).rglob("*")) if p.is_file()}  # fmt: skip


def clean(root: Path, fresh: Path) -> tuple[dict[str, bytes], dict[str, object]]:
    """The tree and line map a build gives from ``root``'s sources with nothing kept (no .chartforge/)."""
    shutil.rmtree(fresh, ignore_errors=True)
    shutil.copytree(root / "sources", fresh / "sources")
    build(fresh)
    return tree_bytes(fresh), read_line_map(fresh)


def _replace(rel: str, old: str, new: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        path = root / rel
        text = path.read_text()
        if old in text:
            path.write_text(text.replace(old, new, 1))
        else:  # undo an earlier draw
            path.write_text(text.replace(new, old, 1))

    return change


def _toggle(rel: str, text: str) -> Callable[[Path], None]:
    def change(root: Path) -> None:
        path = root / rel
        if path.exists():
            path.unlink()
        else:
            path.write_text(text)

    return change


EDITS: list[Callable[[Path], None]] = [
    _replace("sources/charts/alpha/templates/configmap.yaml.j2", "kind: ConfigMap", "kind: ConfigMap\n# edited"),
    _replace("sources/charts/beta/templates/configmap.yaml.j2", "data:", "data:\n  extra: \"1\""),
    _replace("sources/macros/k8s.j2", "app.kubernetes.io/name", "app.kubernetes.io/component"),
    _replace("sources/environments/production.yaml", "replicaCount: 3", "replicaCount: 6"),
    _replace("sources/charts/beta/parameters.yaml", "default: 2", "default: 4"),
    _replace("sources/charts/alpha/chart.yaml", "version: ", "version: 1"),
    _replace("sources/catalog.yaml", "name: demo", "name: demo2"),
    _replace("sources/global.yaml", "description:", "description: Edited."),
    _toggle("sources/charts/alpha/templates/extra.yaml.j2", "kind: List\n# [[ chart.name ]] [[ chart.version ]]\n"),
    _toggle("sources/macros/more.j2", "[% macro more() %]more[% endmacro %]\n"),
]  # fmt: skip


@pytest.mark.parametrize("seed", range(3))
def test_incremental_builds_after_random_edits_equal_clean_builds(tmp_path: Path, seed: int) -> None:
    root = copy_tree(BASE, tmp_path / "project")
    build(root)
    draw = random.Random(seed)
    alone = draw.sample(EDITS, len(EDITS))  # each edit once on its own (a catalog edit recompiles all)
    for edits in [*([e] for e in alone), *(draw.sample(EDITS, draw.randint(2, 3)) for _ in range(4))]:
        for edit in edits:
            edit(root)
        build(root)
        tree, line_map = clean(root, tmp_path / "fresh")
        assert tree_bytes(root) == tree
        assert read_line_map(root) == line_map
        assert build(root, check=True).clean


def test_unchanged_charts_are_taken_from_the_cache(tmp_path: Path) -> None:
    """White box: a marker put into beta's entry shows up when only alpha changed, and goes with beta's edit."""
    root = copy_tree(BASE, tmp_path / "project")
    build(root)
    entry_path = root / chartcache.DIRECTORY / "beta.bin"
    entry = marshal.loads(entry_path.read_bytes())
    files, deps = entry["files"]
    assert "macros/k8s.j2" in {name for name, _ in deps}  # the macro it imports is recorded
    entry["files"] = ({**files, "values.yaml": files["values.yaml"] + "# FROM CACHE\n"}, deps)
    entry_path.write_bytes(marshal.dumps(entry))
    _replace("sources/charts/alpha/templates/configmap.yaml.j2", "kind: ConfigMap", "kind: ConfigMap\n# x")(
        root
    )
    build(root)
    assert (root / "charts/beta/values.yaml").read_text().endswith("# FROM CACHE\n")
    _replace("sources/macros/k8s.j2", "app.kubernetes.io/name", "app.kubernetes.io/component")(root)
    build(root)  # a macro beta loads changed: compiled again
    assert "FROM CACHE" not in (root / "charts/beta/values.yaml").read_text()


def test_a_damaged_entry_is_compiled_again(tmp_path: Path) -> None:
    root = copy_tree(BASE, tmp_path / "project")
    build(root)
    first = tree_bytes(root)
    for i, entry in enumerate(sorted((root / chartcache.DIRECTORY).glob("*.bin"))):
        entry.write_bytes(b"" if i % 2 else marshal.dumps({"key": b"x", "files": 3}))
    shutil.rmtree(root / "charts")
    build(root)
    assert tree_bytes(root) == first
