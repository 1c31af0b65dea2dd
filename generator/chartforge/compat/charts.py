"""Charts as ``semver`` and ``upgrade-check`` see them: a ``values.schema.json``, a chart directory or a
packaged ``.tgz``; their files, their schema, and their rendering with ``helm template``."""

from __future__ import annotations

import io
import json
import shutil
import tarfile
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chartforge import helm as helmcmd
from chartforge.compat.objects import Rendering
from chartforge.compat.semver import Reason, SemverResult, compare_schemas
from chartforge.compat.upgrade import upgrade_check
from chartforge.compile.umbrellaschema import nest
from chartforge.errors import UserError
from chartforge.tools import Helm


@dataclass(frozen=True)
class ChartInput:
    """What one side of a comparison holds: files by path inside the chart (sub-charts under charts/)."""

    label: str
    path: Path
    files: dict[str, bytes]
    kind: str  # "schema" | "dir" | "tgz"
    archive: bytes = b""  # the packaged chart as it is, for helm (kind "tgz")

    @property
    def schema(self) -> dict[str, Any]:
        """The values schema as helm applies it: the chart's own with each sub-chart's nested under its
        key (helm checks a sub-chart's section against the sub-chart's schema), so a breaking change
        of a sub-chart is one of the chart that embeds it."""
        return self._nested(depth=8)

    def _nested(self, depth: int) -> dict[str, Any]:
        if depth == 0:  # a file:// cycle: no chart nests this deep
            raise UserError("dependencies nest more than 8 levels deep (a cycle?)", path=self.label)
        subs = {key: sub._nested(depth - 1) for key, sub in self.subcharts().items()}
        subs = {key: found for key, found in subs.items() if found}
        return nest(self.own_schema, subs) if subs else self.own_schema

    def subcharts(self) -> dict[str, ChartInput]:
        """Each dependency by its values key: under ``charts/`` (a directory or a packaged ``.tgz``), or
        at its ``file://`` path beside a chart directory."""
        found: dict[str, ChartInput] = {}
        for dep in self.chart_yaml.get("dependencies") or []:
            if not isinstance(dep, dict) or not dep.get("name"):
                continue
            name = str(dep["name"])
            key = str(dep.get("alias") or name)
            prefix = f"charts/{name}/"
            inner = {p[len(prefix) :]: b for p, b in self.files.items() if p.startswith(prefix)}
            if inner:
                found[key] = ChartInput(f"{self.label}/{prefix}", self.path / prefix, inner, self.kind)
                continue
            for path, data in sorted(self.files.items()):
                if path.startswith(f"charts/{name}-") and path.endswith(".tgz") and path.count("/") == 1:
                    sub = tgz_input(data, f"{self.label}/{path}")
                    if sub.name == name:
                        found[key] = sub
                        break
            repo = str(dep.get("repository", ""))
            if key not in found and self.kind == "dir" and repo.startswith("file://"):
                where = (self.path / repo[len("file://") :]).resolve()
                if (where / "Chart.yaml").is_file():
                    found[key] = load_input(where)
        return found

    @property
    def own_schema(self) -> dict[str, Any]:
        raw = self.files.get("values.schema.json")
        if raw is None:
            return {}
        try:
            found = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise UserError(
                f"invalid JSON: {exc.msg}", path=f"{self.label}/values.schema.json", line=exc.lineno
            ) from exc
        if not isinstance(found, dict):
            raise UserError(
                "a JSON schema must be an object", path=f"{self.label}/values.schema.json", line=1
            )
        return found

    @property
    def chart_yaml(self) -> dict[str, Any]:
        raw = self.files.get("Chart.yaml")
        data = yaml.safe_load(raw) if raw else None
        return data if isinstance(data, dict) else {}

    @property
    def name(self) -> str:
        return str(self.chart_yaml.get("name", ""))

    @property
    def version(self) -> str:
        return str(self.chart_yaml.get("version", ""))


def _tgz_files(data: bytes, label: str) -> dict[str, bytes]:
    files: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for member in tar.getmembers():
                if member.isfile():
                    handle = tar.extractfile(member)
                    if handle is not None:
                        files[member.name.split("/", 1)[1] if "/" in member.name else member.name] = (
                            handle.read()
                        )
    except (tarfile.TarError, OSError) as exc:
        raise UserError(f"not a packaged chart (.tgz): {exc}", path=label) from exc
    return files


def tgz_input(data: bytes, label: str) -> ChartInput:
    return ChartInput(label, Path(label), _tgz_files(data, label), "tgz", data)


def load_input(path: Path) -> ChartInput:
    """``values.schema.json`` (or any .json), a chart directory, or a packaged ``.tgz``."""
    label = str(path)
    if path.is_dir():
        if not (path / "Chart.yaml").is_file():
            raise UserError("not a chart directory (no Chart.yaml)", path=path)
        files = {
            p.relative_to(path).as_posix(): p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file()
        }
        return ChartInput(label, path, files, "dir")
    if not path.is_file():
        raise UserError("no such file or directory", path=path,
                        hint="pass a values.schema.json, a chart directory or a packaged .tgz")  # fmt: skip
    if path.suffix == ".json":
        return ChartInput(label, path, {"values.schema.json": path.read_bytes()}, "schema")
    if path.name.endswith((".tgz", ".tar.gz")):
        return tgz_input(path.read_bytes(), label)
    raise UserError("unsupported input", path=path, hint="a .json schema, a chart directory or a .tgz")


def _without_versions(chart: dict[str, Any]) -> dict[str, Any]:
    data = {k: v for k, v in chart.items() if k not in ("version",)}
    if isinstance(data.get("dependencies"), list):
        data["dependencies"] = [{k: v for k, v in d.items() if k != "version"} for d in data["dependencies"]]
    annotations = dict(data.get("annotations") or {})
    annotations.pop("artifacthub.io/changes", None)
    data["annotations"] = annotations
    return data


def file_reasons(old: ChartInput, new: ChartInput) -> list[Reason]:
    """Patch-level reasons: files other than the schema that changed (Chart.yaml minus versions)."""
    reasons = []
    for name in sorted(set(old.files) | set(new.files)):
        if name == "values.schema.json" or name.endswith("/values.schema.json"):
            continue
        a, b = old.files.get(name), new.files.get(name)
        if name == "Chart.yaml" or name.endswith("/Chart.yaml"):
            a_yaml = _without_versions(yaml.safe_load(a) or {}) if a else None
            b_yaml = _without_versions(yaml.safe_load(b) or {}) if b else None
            if a_yaml != b_yaml:
                reasons.append(Reason("patch", name, "chart metadata changed"))
            continue
        if name.endswith("README.md"):
            if a != b:
                reasons.append(Reason("patch", name, "documentation changed"))
            continue
        if a != b:
            what = "added" if a is None else "removed" if b is None else "changed"
            reasons.append(Reason("patch", name, f"file {what}"))
    return reasons


def _materialize(chart: ChartInput, into: Path) -> Path:
    """A directory helm can render: the chart, with file:// dependencies placed under charts/."""
    if chart.kind == "tgz":
        target = into / "chart.tgz"
        target.write_bytes(chart.archive)
        return target
    root = into / (chart.name or "chart")
    shutil.copytree(chart.path, root, symlinks=False)
    for dep in chart.chart_yaml.get("dependencies") or []:
        repo = str(dep.get("repository", ""))
        if repo.startswith("file://") and not (root / "charts" / str(dep["name"])).exists():
            (root / "charts").mkdir(exist_ok=True)
            shutil.copytree(
                (chart.path / repo[len("file://") :]).resolve(), root / "charts" / str(dep["name"])
            )
    return root


def render(
    helm: Helm,
    chart: ChartInput,
    *,
    values_files: Sequence[Path] = (),
    release: str = "",
    namespace: str = "default",
) -> Rendering:
    """``helm template`` of the chart (default values plus ``values_files``), parsed."""
    with tempfile.TemporaryDirectory(prefix="chartforge-compat-") as tmp:
        path = _materialize(chart, Path(tmp))
        text = helmcmd.template(helm, path, release=release or chart.name or "release",
                                values_files=values_files, namespace=namespace)  # fmt: skip
    return Rendering.from_text(text, chart.label)


def chart_semver(old: ChartInput, new: ChartInput, *, helm: Helm | None = None) -> SemverResult:
    """Schema reasons + changed files (patch) + upgrade-check findings of the default renderings (major)."""
    reasons = compare_schemas(old.schema, new.schema) + file_reasons(old, new)
    if helm is not None and old.kind != "schema" and new.kind != "schema":
        release = new.name or old.name
        before = render(helm, old, release=release)
        after = render(helm, new, release=release)
        for d in upgrade_check(before, after, chart=release):
            reasons.append(
                Reason("major", f"{d.kind}/{d.name} {d.field}", f"{d.code}: {dict(d.extra)['change']}")
            )
    return SemverResult.of(reasons)
