"""The umbrella's ``helm lint`` with unselected sub-charts as stubs, when that provably changes nothing.

``helm lint`` of an umbrella renders every sub-chart: on a 200-chart catalog one ``--changed-since``
lint of the umbrella costs as much as rendering the whole catalog. What a sub-chart ``s`` adds to
that lint is only a failure: its values failing its schema, or its templates failing to render (the
lint rules themselves run on the umbrella's own files and templates). So when ``s`` is known to
add nothing, the umbrella can be linted with ``s`` replaced by a *stub*: its ``Chart.yaml`` and
``values.yaml`` only, so the umbrella's dependency check, conditions, tags and the values every
chart receives (globals included) are those of the full tree, with no template and no schema.

The stubbed lint reports exactly what the full lint reports when, for every stub ``s``:

- **``s`` renders clean in this context**: an earlier full lint of the umbrella (same helm, same
  environment) reported no error and no warning while ``s`` had the same files, the same values
  section, ``global`` and ``tags`` in the values file and in the umbrella's ``values.yaml``, and
  the same dependency entry (:func:`fact_key`; a cache entry written by :func:`record_clean`);
- **``s`` is self-contained**: every named template it includes is one it defines, no other chart
  of the tree defines one of its names (helm's named templates are global to the whole tree: a
  sibling's ``define`` could otherwise change what ``s`` renders), and it has no sub-charts;
- **nothing crosses the boundary**: no chart kept in full (the selected ones, the umbrella) and no
  values file includes a template ``s`` defines; no chart includes a template by a computed name
  (``include (print $.Template.BasePath "/x.yaml")`` names a file of the same chart and is fine),
  reads ``.Subcharts``, or changes shared data in place (``set``, ``unset``, ``merge`` … on
  anything but a ``dict`` it made itself), since render order would then matter.

Anything else, or a missing fact, lints the full tree as before. ``.Capabilities`` needs no rule:
the stubbed and the full lint run with the same helm and flags.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chartforge.compile.catalog import Catalog
from chartforge.resultcache import ResultCache, cell_key
from chartforge.stubcharts import keep
from chartforge.tools import Helm

_ACTION = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_COMMENT = re.compile(r"/\*.*?\*/", re.DOTALL)
_CALL = re.compile(r"\b(include|template|block)\s+(\"((?:[^\"\\]|\\.)*)\"|\S+)")
_DEFINE = re.compile(r"\b(?:define|block)\s+\"((?:[^\"\\]|\\.)*)\"")
_OWN_FILE = re.compile(r"^\(\s*print\s+\$?\.Template\.BasePath\s+\"[^\"]*\"\s*\)")
_MUTATE = re.compile(
    r"\b(set|unset|merge|mergeOverwrite|mustMerge|mustMergeOverwrite)\s+(\(\s*dict\b|\$\w+|\S+)"
)
# a dict made here: ``dict …``, or one merged into a new ``dict`` (``merge`` returns its first argument)
_LOCAL_DICT = re.compile(r"(\$\w+)\s*:?=\s*\(?\s*(?:(?:must)?[mM]erge(?:Overwrite)?\s+\(\s*)?dict\b")
_STRING = re.compile(r"\"(?:[^\"\\]|\\.)*\"|`[^`]*`")  # words in a message are not calls
_VOLATILE = re.compile(  # a function call whose output can change between two renderings (``.Values.now`` is a field)
    rb"(?<![.\w$])(rand\w*|shuffle|uuidv4|now|date\w*|unixEpoch|ago|htpasswd|bcrypt|derivePassword|gen[A-Z]\w*|"
    rb"getHostByName|env|expandenv)\b"
)
_ACTION_B, _COMMENT_B, _STRING_B = (
    re.compile(p.pattern.encode(), p.flags & re.DOTALL) for p in (_ACTION, _COMMENT, _STRING)
)


@dataclass(frozen=True)
class Refs:
    """Named templates one chart defines and includes; ``opaque`` when that cannot be told statically."""

    defines: frozenset[str]
    includes: frozenset[str]
    opaque: bool


def text_refs(texts: Iterable[str]) -> Refs:
    defines: set[str] = set()
    includes: set[str] = set()
    opaque = False
    for text in texts:
        local = set(_LOCAL_DICT.findall(text))
        for match in _ACTION.finditer(text):
            action = _COMMENT.sub("", match.group(1))
            defines.update(_DEFINE.findall(action))
            for call in _CALL.finditer(action):
                if call.group(3) is not None:
                    includes.add(call.group(3))
                elif not _OWN_FILE.match(action[call.start(2) :]):
                    opaque = True  # a computed name: it could be anybody's template
            code = _STRING.sub('""', action)
            opaque = opaque or "Subcharts" in code
            for mutate in _MUTATE.finditer(code):
                target = mutate.group(2)
                opaque = opaque or not (target.startswith("(") or target in local)
    return Refs(frozenset(defines), frozenset(includes), opaque)


@dataclass(frozen=True)
class Scan:
    """One read of a chart's files: their digest, named templates, and whether its output can vary."""

    digest: str  # every file (sub-charts linked under ``charts/`` included), by relative path and content
    refs: Refs  # its files but its sub-charts'
    stable: bool  # no template action calls a function whose output can change between two renderings


def scan_chart(chart_dir: Path) -> Scan:
    """Every file of a chart (templates, values, ``files/`` read through ``tpl``), read once."""
    h = hashlib.sha256()
    texts, stable = [], True
    for folder, _, files in sorted(os.walk(chart_dir, followlinks=True)):
        own = Path(folder).relative_to(chart_dir).parts[:1] != ("charts",)  # sub-charts: scanned on their own
        for name in sorted(files):
            path = Path(folder) / name
            data = path.read_bytes()
            h.update(path.relative_to(chart_dir).as_posix().encode() + b"\0" + hashlib.sha256(data).digest())
            if own:
                texts.append(data.decode("utf-8", "replace"))
            actions = (_STRING_B.sub(b"", _COMMENT_B.sub(b"", a.group(1))) for a in _ACTION_B.finditer(data))
            stable = stable and not any(_VOLATILE.search(action) for action in actions)
    return Scan(h.hexdigest(), text_refs(texts), stable)


def _sections(data: Any, key: str) -> str:
    data = data if isinstance(data, Mapping) else {}
    return json.dumps([data.get(key), data.get("global"), data.get("tags")], sort_keys=True, default=str)


def _load(path: Path) -> Any:
    try:
        return yaml.load(
            path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        )
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None


def _dependency(umbrella_meta: Any, name: str) -> tuple[str, Any] | None:
    """(the values key, the ``Chart.yaml`` entry) of one dependency of the umbrella."""
    deps = umbrella_meta.get("dependencies") if isinstance(umbrella_meta, Mapping) else None
    for dep in deps if isinstance(deps, list) else []:
        if isinstance(dep, Mapping) and dep.get("name") == name:
            return str(dep.get("alias") or name), dict(dep)
    return None


class Stubber:
    """Facts and stubbed umbrellas for one check run over an assembled catalog."""

    def __init__(self, catalog: Catalog, assembled: Path, cache: ResultCache, scratch: Path) -> None:
        self.catalog, self.assembled, self.cache, self.scratch = catalog, assembled, cache, scratch
        self.umbrella = assembled / catalog.umbrella
        self._scans: dict[str, Scan] = {}
        self._refs: dict[str, Refs] = {}
        self._contained: dict[str, bool] = {}
        self._meta = _load(self.umbrella / "Chart.yaml")
        self._defaults = _load(self.umbrella / "values.yaml")
        self._trees: dict[tuple[str, ...], Path] = {}
        self._lock = threading.Lock()
        self._parsed: dict[str, Any] = {}  # by content

    def _values(self, path: Path) -> Any:
        """A values file, parsed once per run (one fact per sub-chart reads it)."""
        try:
            digest = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError:
            return None
        if digest not in self._parsed:
            self._parsed[digest] = _load(path)
        return self._parsed[digest]

    def scan(self, name: str) -> Scan:
        if name not in self._scans:
            self._scans[name] = scan_chart(self.assembled / name)
        return self._scans[name]

    @property
    def refs(self) -> dict[str, Refs]:
        if len(self._refs) < len(self.catalog.charts):
            self._refs = {c.name: self.scan(c.name).refs for c in self.catalog.charts}
        return self._refs

    def self_contained(self, name: str) -> bool:
        if name not in self._contained:
            spec = next(c for c in self.catalog.charts if c.name == name)
            own, refs = self.refs[name], self.refs
            self._contained[name] = not (
                spec.dependencies or spec.is_umbrella or own.opaque or not own.includes <= own.defines
            ) and not any(own.defines & r.defines for other, r in refs.items() if other != name)
        return self._contained[name]

    def fact_key(
        self,
        helm: Helm,
        env: str,
        values_file: Path,
        name: str,
        what: Sequence[str] = ("helm lint --strict",),
    ) -> str | None:
        """The cache key of a fact about sub-chart ``name`` in this umbrella (``what``: which fact), or None.

        By default "``name`` adds nothing to this umbrella lint"; :mod:`chartforge.renderstub` keys
        "``name`` renders to these documents" the same way, with the Kubernetes versions added."""
        entry = _dependency(self._meta, name)
        if entry is None:
            return None
        key, dep = entry
        return cell_key(
            "umbrella-stub", *what, helm.version, env, self.catalog.umbrella, name,
            self.scan(name).digest, json.dumps(dep, sort_keys=True, default=str),
            _sections(self._values(values_file), key), _sections(self._defaults, key),
        )  # fmt: skip

    def record_clean(self, helm: Helm, env: str, values_file: Path) -> None:
        """After a full umbrella lint without errors or warnings: each self-contained sub-chart rendered clean."""
        if self.cache.root is None:
            return
        for dep in next(c for c in self.catalog.charts if c.is_umbrella).dependencies:
            if self.self_contained(dep.name) and (key := self.fact_key(helm, env, values_file, dep.name)):
                self.cache.put_payload(key, True)

    def stubs_of(
        self, selected: Sequence[str], values_file: Path, eligible: Callable[[str], bool] | None = None
    ) -> list[str] | None:
        """The unselected sub-charts (``eligible``: those it accepts, the others kept in full), when stubbing
        them cannot change what the kept charts render; else None."""
        umbrella = next(c for c in self.catalog.charts if c.is_umbrella)
        stubs = [
            d.name
            for d in umbrella.dependencies
            if d.name not in selected and (not eligible or eligible(d.name))
        ]
        if not stubs or self.cache.root is None or umbrella.name not in selected:
            return None
        stub_defines = frozenset().union(*(self.refs[s].defines for s in stubs))
        kept = [c.name for c in self.catalog.charts if c.name not in stubs]
        values = text_refs(
            p.read_text(encoding="utf-8") for p in (values_file, self.umbrella / "values.yaml")
        )
        for refs in (*(self.refs[k] for k in kept), values):
            if refs.opaque or refs.includes & stub_defines:
                return None
        return stubs if all(self.self_contained(name) for name in stubs) else None

    def stubbed(self, selected: Sequence[str], helm: Helm, env: str, values_file: Path) -> Path | None:
        """An umbrella directory with every unselected sub-chart stubbed, or None when that is not exact."""
        stubs = self.stubs_of(selected, values_file)
        if stubs is None:
            return None
        for name in stubs:
            key = self.fact_key(helm, env, values_file, name)
            if key is None or self.cache.get_payload(key) is not True:
                return None
        made = {
            name: keep(self.cache, f"lint-{self.scan(name).digest}", self.assembled / name) for name in stubs
        }
        return self.tree(stubs, {n: p for n, p in made.items() if p is not None})

    def tree(self, stubs: Sequence[str], made: Mapping[str, Path] | None = None, tag: str = "") -> Path:
        """The umbrella with ``stubs`` as stub charts: ``Chart.yaml`` and ``values.yaml``, or ``made[name]``."""
        with self._lock:  # renderings build their trees in the check's threads
            if (tag, *stubs) in self._trees:
                return self._trees[tag, *stubs]
            root = self.scratch / f"stubbed-{len(self._trees)}"
            top = self._trees[tag, *stubs] = root / self.catalog.umbrella
            top.mkdir(parents=True)
            for item in self.umbrella.iterdir():
                if item.name != "charts":
                    os.symlink(item.resolve(), top / item.name)
            (top / "charts").mkdir()
            for dep in next(c for c in self.catalog.charts if c.is_umbrella).dependencies:
                if made is not None and dep.name in made:
                    os.symlink(made[dep.name], top / "charts" / dep.name)
                elif dep.name in stubs:
                    stub = root / ".stubs" / dep.name
                    stub.mkdir(parents=True)
                    for keep in ("Chart.yaml", "values.yaml"):
                        if (self.assembled / dep.name / keep).is_file():
                            shutil.copyfile(self.assembled / dep.name / keep, stub / keep)
                    os.symlink(stub, top / "charts" / dep.name)
                else:
                    os.symlink((self.assembled / dep.name).resolve(), top / "charts" / dep.name)
            return top
