"""Write a chart skeleton to ``sources/charts/<name>/`` and register it, all or nothing.

The skeletons live next to this module (``skeleton/common`` plus ``skeleton/<kind>``, or
``skeleton/library`` alone: a Helm library chart, registered in the catalog and the umbrella but
given no environment section since nothing in it is configured per environment); they are
ordinary chartforge sources built from ``macros/objects.j2`` and ``macros/params.j2``, so a new
chart passes ``chartforge check`` as written. ``@@NAME@@`` in ``chart.yaml`` becomes the chart
name; the templates get it from their Jinja context (``chart.name``).

Nothing is half-written: every registration edit is computed first (a file that does not parse
stops here), the skeleton is written to a hidden folder and renamed into place, then the edited
files replace the originals; if any step fails, or the catalog with the new chart does not load,
every file is put back and the folder removed.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

from chartforge.compile.catalog import load_catalog
from chartforge.compile.chartfiles import chart_files
from chartforge.errors import ChartforgeError, UsageError
from chartforge.scaffold.bundled import global_with_monitoring, macros_mismatch, missing_macros
from chartforge.scaffold.register import catalog_text, environment_text, umbrella_text
from chartforge.yamlio import did_you_mean

Kind = Literal["stateless", "stateful", "library"]
KINDS: tuple[Kind, ...] = ("stateless", "stateful", "library")
SKELETON = Path(__file__).resolve().parent / "skeleton"
NAME = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
MAX_NAME = 40  # <release>-<name>-<component> must fit the 63 characters of a Kubernetes name
RESERVED = {"global", "charts", "templates", "values"}


@dataclass(frozen=True)
class NewChart:
    name: str
    kind: Kind
    created: tuple[str, ...]  # files of the skeleton, relative to the project root
    registered: tuple[str, ...]  # files edited in place
    installed: tuple[str, ...] = ()  # what the skeleton needs and the project lacked (scaffold.bundled)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def check_name(name: str, existing: dict[str, str]) -> None:
    """A chart name Helm and Kubernetes accept, not taken (``existing``: name or alias → chart)."""
    if not NAME.match(name) or len(name) > MAX_NAME:
        raise UsageError(
            f"invalid chart name {name!r}",
            hint=f"lowercase letters, digits and '-', starting with a letter, at most {MAX_NAME} characters",
        )
    if name in RESERVED:
        raise UsageError(f"invalid chart name {name!r}: '{name}' is reserved in values and chart layouts")
    if name in existing:
        taken = existing[name]
        what = "exists" if taken == name else f"is an alias of chart '{taken}'"
        raise UsageError(f"chart '{name}' {what} in sources/catalog.yaml", hint="choose another name")


def _skeleton_files(kind: Kind) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    for part in ("common", kind) if kind != "library" else (kind,):
        base = SKELETON / part
        for path in sorted(base.rglob("*")):
            if path.is_file():
                files[path.relative_to(base).as_posix()] = path.read_bytes()
    return files


def new_chart(root: Path, name: str, kind: str) -> NewChart:
    """Create ``sources/charts/<name>/`` from the ``kind`` skeleton and register it everywhere."""
    if kind not in KINDS:
        raise UsageError(f"unknown kind {kind!r}", hint=did_you_mean(kind, KINDS))
    chosen: Kind = "stateful" if kind == "stateful" else "library" if kind == "library" else "stateless"
    catalog = load_catalog(root)
    existing = {alias: c.name for c in catalog.charts for alias in (c.name, *c.aliases)}
    check_name(name, existing)
    sources = catalog.project.sources
    target = sources / "charts" / name
    if target.exists() or target.is_symlink():
        raise UsageError(f"sources/charts/{name} already exists", hint="choose another name or remove it")
    edits: dict[Path, str] = {sources / "catalog.yaml": catalog_text(
        sources / "catalog.yaml", "sources/catalog.yaml", name, catalog.umbrella)}  # fmt: skip
    if catalog.umbrella:
        upath = sources / "charts" / catalog.umbrella / "chart.yaml"
        edits[upath] = umbrella_text(upath, f"sources/charts/{catalog.umbrella}/chart.yaml", name)
    for env in catalog.environments if chosen != "library" else ():  # a library has no values to set
        epath = catalog.env_file(env)
        edits[epath] = environment_text(epath, f"sources/environments/{env}.yaml", name, env)
    files = _skeleton_files(chosen)
    macros = missing_macros(sources)  # a fresh project: what the skeleton needs comes with chartforge
    installed = [f"sources/{rel_name}" for rel_name in macros]
    monitoring = global_with_monitoring(sources) if chosen != "library" else None
    if monitoring is not None:
        installed.append("sources/global.yaml: global.monitoring")
        if (sources / "global.yaml").exists():
            edits[sources / "global.yaml"] = monitoring
        else:
            macros["global.yaml"] = monitoring.encode("utf-8")
    originals = {path: path.read_bytes() for path in edits}
    staging = Path(tempfile.mkdtemp(prefix=f".new-{name}-", dir=target.parent))
    try:
        umask = os.umask(0)
        os.umask(umask)
        staging.chmod(0o777 & ~umask)  # mkdtemp's 0700 would make the chart folder private
        for rel_name, data in files.items():
            out = staging / rel_name
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(data.replace(b"@@NAME@@", name.encode()))
        os.rename(staging, target)
        for rel_name, data in macros.items():
            (sources / rel_name).parent.mkdir(parents=True, exist_ok=True)
            _replace(sources / rel_name, data)
        for path, text in edits.items():
            _replace(path, text.encode("utf-8"))
        try:  # the catalog with the new chart must load and the chart compile (else: roll back)
            fresh = load_catalog(root)
            chart_files(fresh, fresh.chart(name))
        except ChartforgeError as exc:
            refusal = macros_mismatch(exc, sources, chosen)
            if refusal is None:  # the project's macros are chartforge's: not their fault
                raise
            raise refusal from exc
    except BaseException:
        for path, data in originals.items():
            _replace(path, data)
        for rel_name in macros:
            (sources / rel_name).unlink(missing_ok=True)
        shutil.rmtree(target if target.exists() else staging, ignore_errors=True)
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return NewChart(
        name=name, kind=chosen,
        created=tuple(sorted(f"sources/charts/{name}/{f}" for f in files)),
        registered=tuple(p.relative_to(sources.parent).as_posix() for p in edits if p.name != "global.yaml"),
        installed=tuple(installed),
    )  # fmt: skip


def _replace(path: Path, data: bytes) -> None:
    """Write ``path`` atomically (a temporary file next to it, then rename)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, path.stat().st_mode & 0o777 if path.exists() else 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
