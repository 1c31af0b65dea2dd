"""Stage 4 — write ``charts/`` and ``values/`` atomically and deterministically; ``--check`` drift.

The whole output tree is first compiled in memory (path → bytes), so ``--check`` is a pure
comparison and two builds of the same sources are byte-identical by construction. Writing
stages the tree in a temporary directory beside the targets, then swaps both directories
under a journal (:mod:`chartforge.compile.swap`): a failure at any point leaves the previous
``charts/`` and ``values/``, and a kill is rolled back by the next run.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from chartforge.compile.catalog import Catalog, load_catalog
from chartforge.compile.chartfiles import chart_files
from chartforge.compile.envvalues import environment_values
from chartforge.compile.linemap import chart_line_maps, write_line_map
from chartforge.compile.schemaerrors import sorted_errors
from chartforge.compile.sourcetree import sources_files
from chartforge.compile.swap import TREES, build_lock, recover, replace_trees
from chartforge.compile.umbrellaschema import EDITOR_SCHEMA, editor_schema_json
from chartforge.errors import ValuesError, ValuesErrors, raise_all

OUTPUT_DIRS = TREES
STAMP = Path(".chartforge") / "build-stamp.json"
_CODE = Path(__file__).resolve().parents[1]  # the whole chartforge package
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

    def to_dict(self) -> dict[str, object]:
        """The ``--output json`` form."""
        return {
            "clean": self.clean,
            "written": self.written,
            "files": len(self.files),
            "changes": [{"path": c.path, "change": c.kind} for c in self.changes],
        }


def compile_tree(catalog: Catalog, charts: Collection[str] | None = None) -> dict[str, bytes]:
    """Everything ``build`` writes (``charts``: only those charts, and ``values/``), sorted by path."""
    tree: dict[str, bytes] = {}
    for chart in (c for c in catalog.charts if charts is None or c.name in charts):
        for rel, text in chart_files(catalog, chart).items():
            tree[f"charts/{chart.name}/{rel}"] = text.encode("utf-8")
    problems: list[ValuesError] = []  # every environment's values errors at once, by file and line
    for env in catalog.environments:
        try:
            tree[f"values/{env}.yaml"] = environment_values(catalog, env).encode("utf-8")
        except ValuesErrors as exc:
            problems += exc.errors
        except ValuesError as exc:
            problems.append(exc)
    raise_all(sorted_errors(problems))
    if catalog.environments:  # for editors of values/<env>.yaml (umbrellaschema)
        tree[f"values/{EDITOR_SCHEMA}"] = editor_schema_json(catalog).encode("utf-8")
    return dict(sorted(tree.items()))


def existing_files(root: Path, prefixes: Sequence[str] = OUTPUT_DIRS) -> dict[str, bytes]:
    """Every file (and symlink) under ``root/<prefix>`` for each prefix, as ``{relative path: bytes}``."""
    found: dict[str, bytes] = {}
    for prefix in prefixes:
        base = root / prefix
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


def _digest(files: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for rel in sorted(files):
        h.update(rel.encode() + b"\0" + hashlib.sha256(files[rel]).digest())
    return h.hexdigest()


def _inputs_digest(root: Path) -> str:
    """Everything a build reads: sources/ and the compiler's own code."""
    sources = root / "sources"
    files = {f"sources/{p.relative_to(sources).as_posix()}": p.read_bytes()
             for p in sources_files(sources, sources, root=root)}  # fmt: skip
    files.update({f"code/{p.relative_to(_CODE).as_posix()}": p.read_bytes() for p in _CODE.rglob("*.py")})
    return _digest(files)


def _stamp_matches(root: Path, inputs: str, have: dict[str, bytes]) -> tuple[str, ...] | None:
    """The file list of the last build when neither its inputs nor its outputs changed since."""
    try:
        stamp = json.loads((root / STAMP).read_text())
    except (OSError, ValueError):
        return None
    if stamp.get("inputs") == inputs and stamp.get("outputs") == _digest(have):
        return tuple(stamp.get("files", ()))
    return None


def _write_stamp(root: Path, inputs: str, tree: dict[str, bytes]) -> None:
    path = root / STAMP
    path.parent.mkdir(exist_ok=True)
    (path.parent / ".gitignore").write_text("*\n")
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"inputs": inputs, "outputs": _digest(tree), "files": list(tree)}))
    os.replace(tmp, path)


def build(root: Path | str = ".", *, check: bool = False, catalog: Catalog | None = None) -> BuildResult:
    """Compile ``sources/`` into ``charts/`` and ``values/`` (or, with ``check``, only compare).

    Any error is raised before a single output file is touched. A rebuild whose sources,
    compiler and outputs are all unchanged since the last build (``.chartforge/build-stamp.json``,
    keyed by content digests, never by mtimes) is a no-op that skips compiling.
    """
    root = Path(root).resolve()
    with build_lock(root):
        recover(root)
        return _build(root, check=check, catalog=catalog)


def _build(root: Path, *, check: bool, catalog: Catalog | None) -> BuildResult:
    have = existing_files(root)
    inputs = _inputs_digest(root) if (root / "sources").is_dir() else ""
    unchanged = _stamp_matches(root, inputs, have) if inputs else None
    if unchanged is not None:
        return BuildResult(root, unchanged, (), False)
    catalog = catalog or load_catalog(root)
    tree = compile_tree(catalog)
    changes = diff_trees(tree, have)
    written = False
    if changes and not check:
        replace_trees(root, tree)
        written = True
    if not changes or written:
        write_line_map(root, chart_line_maps(catalog, tree))  # findings in charts/ point at sources/
        _write_stamp(root, inputs, tree)
    return BuildResult(root, tuple(tree), changes, written)
