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
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal

from chartforge.compile import uptodate
from chartforge.compile.catalog import Catalog, load_catalog
from chartforge.compile.chartcache import VALUES, ChartCache
from chartforge.compile.chartfiles import chart_files
from chartforge.compile.envvalues import environment_values
from chartforge.compile.linemap import chart_line_maps, write_line_map
from chartforge.compile.schemaerrors import sorted_errors
from chartforge.compile.sourcetree import sources_files
from chartforge.compile.swap import TREES, build_lock, recover, replace_trees
from chartforge.compile.umbrellaschema import EDITOR_SCHEMA, editor_schema_json
from chartforge.errors import ValuesError, ValuesErrors, raise_all
from chartforge.privatefile import write_private

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


def compile_tree(
    catalog: Catalog, charts: Collection[str] | None = None, *, cache: ChartCache | None = None
) -> dict[str, bytes]:
    """Everything ``build`` writes (``charts``: only those charts, and ``values/``), sorted by path;
    with ``cache``, each chart's files and each environment's values reused while unchanged."""
    tree: dict[str, bytes] = {}
    for chart in (c for c in catalog.charts if charts is None or c.name in charts):
        files = (
            cache.get(chart.name, "files", partial(chart_files, catalog, chart))
            if cache is not None
            else chart_files(catalog, chart)
        )
        for rel, text in files.items():
            tree[f"charts/{chart.name}/{rel}"] = text.encode("utf-8")
    problems: list[ValuesError] = []  # every environment's values errors at once, by file and line
    for env in catalog.environments:
        try:
            text = (
                cache.get(VALUES, env, partial(environment_values, catalog, env))
                if cache is not None
                else environment_values(catalog, env)
            )
            tree[f"values/{env}.yaml"] = text.encode("utf-8")
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


def _inputs(root: Path) -> tuple[str, uptodate.Recorder]:
    """The digest of everything a build reads (sources/ and the compiler's own code), and the
    metadata of those files and folders, recorded before they are listed and read."""
    record = uptodate.Recorder(str(root))
    walked = record.walk("sources")
    code = [p for p in record.walk(str(_CODE), skip={"__pycache__"}) if p.endswith(".py")]
    sources = root / "sources"
    listed = [p.relative_to(root).as_posix() for p in sources_files(sources, sources, root=root)]
    record.valid &= set(listed) == set(walked)  # else sources/ changed while it was listed
    record.files([*listed, *code, *uptodate.library_files()])
    files = {rel: (root / rel).read_bytes() for rel in listed}
    files.update({f"code/{Path(p).relative_to(_CODE).as_posix()}": Path(p).read_bytes() for p in code})
    return _digest(files), record


def _outputs(root: Path, contents: Mapping[str, bytes] | None = None) -> tuple[uptodate.Recorder, list[str]]:
    """The metadata of charts/ and values/ (with ``contents``: what was just written there)."""
    record = uptodate.Recorder(str(root))
    found = [f for top in OUTPUT_DIRS if (root / top).is_dir() for f in record.walk(top)]
    record.files(found, contents)
    return record, found


def _stamp_matches(root: Path, inputs: str, have: dict[str, bytes]) -> tuple[str, ...] | None:
    """The file list of the last build when neither its inputs nor its outputs changed since."""
    try:
        stamp = json.loads((root / STAMP).read_text())
    except (OSError, ValueError):
        return None
    if stamp.get("inputs") == inputs and stamp.get("outputs") == _digest(have):
        return tuple(stamp.get("files", ()))
    return None


def _write_stamps(root: Path, inputs: str, tree: Mapping[str, bytes], *fast: uptodate.Recorder) -> None:
    """The content stamp, then the metadata one (:mod:`chartforge.compile.uptodate`: the content
    stamp, then ``fast``, which recorded the inputs and exactly the files of ``tree``)."""
    content = json.dumps({"inputs": inputs, "outputs": _digest(dict(tree)), "files": sorted(tree)})
    write_private(root / STAMP, content)
    stamp = uptodate.Recorder(str(root))
    stamp.record(STAMP.as_posix(), content.encode())  # deleting the content stamp forces a compile
    text = uptodate.stamp_text([stamp, *fast])
    if text is not None:
        write_private(root / uptodate.FILE, text)


def build(root: Path | str = ".", *, check: bool = False, catalog: Catalog | None = None) -> BuildResult:
    """Compile ``sources/`` into ``charts/`` and ``values/`` (or, with ``check``, only compare).

    Any error is raised before a single output file is touched. A rebuild whose sources,
    compiler and outputs are all unchanged since the last build is a no-op that skips compiling:
    decided from file metadata when every recorded size, time and inode is unchanged
    (:mod:`chartforge.compile.uptodate`), else by content digests
    (``.chartforge/build-stamp.json``).
    """
    root = Path(root).resolve()
    with build_lock(root):
        recover(root)
        unchanged = uptodate.up_to_date(str(root))
        if unchanged is not None:
            return BuildResult(root, tuple(unchanged), (), False)
        return _build(root, check=check, catalog=catalog)


def _build(root: Path, *, check: bool, catalog: Catalog | None) -> BuildResult:
    inputs = _inputs(root) if (root / "sources").is_dir() else None
    before, found = _outputs(root)
    have = existing_files(root)
    before.valid &= set(found) == set(have)
    unchanged = _stamp_matches(root, inputs[0], have) if inputs else None
    if inputs and unchanged is not None:
        if list(unchanged) == sorted(have):
            _write_stamps(root, inputs[0], have, inputs[1], before)  # metadata changed, content did not
        return BuildResult(root, unchanged, (), False)
    catalog = catalog or load_catalog(root)
    cache = ChartCache(catalog)
    tree = compile_tree(catalog, cache=cache)
    changes = diff_trees(tree, have)
    written = False
    if changes and not check:
        uptodate.forget(str(root))
        replace_trees(root, tree)
        written = True
        before, found = _outputs(root, tree)
        before.valid &= set(found) == set(tree) and existing_files(root) == tree  # read back: no edit since
    if not changes or written:
        write_line_map(root, chart_line_maps(catalog, tree, cache))  # findings in charts/ point at sources/
        if inputs:
            _write_stamps(root, inputs[0], tree, inputs[1], before)
    cache.save()
    return BuildResult(root, tuple(tree), changes, written)
