"""Stage 4 — write ``charts/`` and ``values/`` atomically and deterministically; ``--check`` drift.

The whole output tree is first compiled in memory (path → bytes), so ``--check`` is a pure
comparison and two builds of the same sources are byte-identical by construction. Writing
stages the tree in a temporary directory beside the targets, then swaps directories: a
failure at any point leaves the previous ``charts/`` and ``values/`` untouched.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from chartforge.catalog import Catalog, load_catalog
from chartforge.chartfiles import chart_files
from chartforge.envvalues import environment_values

OUTPUT_DIRS = ("charts", "values")
ChangeKind = Literal["added", "modified", "removed"]


@dataclass(frozen=True)
class Change:
    path: str
    kind: ChangeKind


@dataclass(frozen=True)
class BuildResult:
    root: Path
    files: tuple[str, ...]
    changes: tuple[Change, ...]
    written: bool

    @property
    def clean(self) -> bool:
        return not self.changes


def compile_tree(catalog: Catalog) -> dict[str, bytes]:
    """Everything ``build`` writes, as ``{relative path: bytes}``, sorted by path."""
    tree: dict[str, bytes] = {}
    for chart in catalog.charts:
        for rel, text in chart_files(catalog, chart).items():
            tree[f"charts/{chart.name}/{rel}"] = text.encode("utf-8")
    for env in catalog.environments:
        tree[f"values/{env}.yaml"] = environment_values(catalog, env).encode("utf-8")
    return dict(sorted(tree.items()))


def _existing(root: Path) -> dict[str, bytes]:
    found: dict[str, bytes] = {}
    for top in OUTPUT_DIRS:
        base = root / top
        if base.is_dir():
            for path in base.rglob("*"):
                if path.is_file() or path.is_symlink():
                    found[path.relative_to(root).as_posix()] = path.read_bytes()
    return found


def diff_trees(wanted: dict[str, bytes], have: dict[str, bytes]) -> tuple[Change, ...]:
    changes = [Change(p, "added") for p in wanted if p not in have]
    changes += [Change(p, "modified") for p in wanted if p in have and have[p] != wanted[p]]
    changes += [Change(p, "removed") for p in have if p not in wanted]
    return tuple(sorted(changes, key=lambda c: c.path))


def _write_atomically(root: Path, tree: dict[str, bytes]) -> None:
    stage = Path(tempfile.mkdtemp(prefix=".chartforge-build-", dir=root))
    try:
        for rel, data in tree.items():
            target = stage / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
            os.chmod(target, 0o644)
        for top in OUTPUT_DIRS:
            (stage / top).mkdir(exist_ok=True)
        for top in OUTPUT_DIRS:
            old = root / f".{top}.old"
            if old.exists():
                shutil.rmtree(old)
            if (root / top).exists():
                os.replace(root / top, old)
            os.replace(stage / top, root / top)
        for top in OUTPUT_DIRS:
            shutil.rmtree(root / f".{top}.old", ignore_errors=True)
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def build(root: Path | str = ".", *, check: bool = False, catalog: Catalog | None = None) -> BuildResult:
    """Compile ``sources/`` into ``charts/`` and ``values/`` (or, with ``check``, only compare).

    Any error is raised before a single output file is touched.
    """
    root = Path(root).resolve()
    catalog = catalog or load_catalog(root)
    tree = compile_tree(catalog)
    changes = diff_trees(tree, _existing(root))
    written = False
    if changes and not check:
        _write_atomically(root, tree)
        written = True
    return BuildResult(root, tuple(tree), changes, written)
