"""Catalog mode: every chart of the catalog against its last published (or committed) version.

``chartforge check --against oci://REGISTRY/NS`` (or ``--against git:REF``) packages the local
charts, fetches the newest released archive of each, and reports, per chart:

- **CF-REL-001** the content changed but the version did not (the registry would refuse the
  push): names ``sources/charts/<chart>/chart.yaml`` and the version to use;
- **CF-REL-002** the version was bumped less than the change requires (``semver``);
- **CF-REL-003** the version is lower than the released one;
- every ``upgrade-check`` finding (**CF-UPG-…**) between the released and the local umbrella,
  rendered for every environment — findings a declared break covers are waived with its summary.

The umbrella is rendered as it is installed (with ``values/<env>.yaml``); each object is
attributed to the sub-chart whose template produced it. The released side is rendered with the
same values, pruned to the keys its schema declares (values the old chart never knew of are not
what its users had); with ``git:REF`` the values files committed at REF are used.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

from chartforge import codes
from chartforge.compat.baseline import Baseline, Released
from chartforge.compat.bump import bumped, level_between, satisfies
from chartforge.compat.charts import ChartInput, file_reasons, render, tgz_input
from chartforge.compat.semver import Reason, SemverResult, compare_schemas
from chartforge.compat.upgrade import upgrade_check
from chartforge.compile.declared import Declared, early_alias_removals, load_declared, parse_version
from chartforge.diagnostics import Checked, Diagnostic
from chartforge.errors import UsageError
from chartforge.package import PackageResult, package_charts
from chartforge.tools import Helm
from chartforge.yamlio import did_you_mean, line_of, load_yaml

CODES = {code: c.summary for code, c in codes.CODES.items() if code.startswith("CF-REL-")}


@dataclass(frozen=True)
class CompatResult:
    diagnostics: tuple[Diagnostic, ...]
    checked: tuple[Checked, ...]
    against: str
    required: Mapping[str, SemverResult]  # chart → what its change needs (released charts only)
    released: Mapping[str, Released]  # chart → its last release (released charts only)


def prune(values: Any, schema: Mapping[str, Any]) -> Any:
    """``values`` minus the keys a closed schema object does not declare (what the old chart accepted)."""
    if not isinstance(values, dict) or not isinstance(schema, Mapping):
        return values
    props = schema.get("properties") or {}
    closed = schema.get("additionalProperties", True) is False
    return {k: prune(v, props.get(k, {})) for k, v in values.items() if not closed or k in props}


def _chart_of(source: str, umbrella: str) -> str:
    parts = source.split("/")
    return parts[2] if len(parts) > 3 and parts[1] == "charts" else umbrella


@dataclass(frozen=True)
class _Project:
    """What catalog mode needs of a project: its packaged charts, values files, and sources (optional)."""

    root: Path
    package: PackageResult
    environments: tuple[str, ...]

    @property
    def tops(self) -> list[str]:
        """Charts no other chart embeds (the umbrella): installed as they are, rendered per environment."""
        embedded = {d for c in self.package.charts for d in c.dependencies}
        return [c.name for c in self.package.charts if c.name not in embedded]

    def values_file(self, env: str) -> Path:
        return self.root / "values" / f"{env}.yaml"

    def source(self, chart: str) -> tuple[str, int | None]:
        """``sources/charts/<chart>/chart.yaml`` and its version line (``charts/<chart>/Chart.yaml`` without sources)."""
        src = self.root / "sources" / "charts" / chart / "chart.yaml"
        path = src if src.is_file() else self.root / "charts" / chart / "Chart.yaml"
        line = line_of(load_yaml(path), "version") if path.is_file() else None
        return path.relative_to(self.root).as_posix(), line

    def declared(self, chart: str) -> Declared:
        src = self.root / "sources" / "charts" / chart
        return load_declared(src, self.root) if (src / "chart.yaml").is_file() else Declared()


def _waiver(declared: Declared, old: str, new: str) -> Any:
    crossing = declared.breaks_between(old, new) if level_between(old, new) == "major" else []

    def waive(d: Diagnostic) -> str | None:
        found = next((b for b in crossing if b.covers(d.code)), None)
        return f"declared break {found.version}: {found.summary}" if found else None

    return waive


def _values_file(tmp: Path, name: str, data: Any) -> Path:
    path = tmp / name
    path.write_text(yaml.safe_dump(data, sort_keys=True), encoding="utf-8")
    return path


def _upgrade_findings(
    project: _Project, umbrella: str, helm: Helm, old: ChartInput, new: ChartInput, released: Released,
    versions: Mapping[str, tuple[str, str]], tmp: Path,
) -> Iterator[Diagnostic]:  # fmt: skip
    for env in project.environments:
        current = yaml.safe_load(project.values_file(env).read_text(encoding="utf-8")) or {}
        old_file = released.values.get(env) if released.values else None
        old_values = yaml.safe_load(old_file.read_text()) if old_file else prune(current, old.schema)
        before = render(helm, old, values_files=[_values_file(tmp, f"old-{umbrella}-{env}.yaml", old_values or {})],
                        release=umbrella, namespace=umbrella)  # fmt: skip
        after = render(
            helm, new, values_files=[project.values_file(env)], release=umbrella, namespace=umbrella
        )
        for d in upgrade_check(before, after, environment=env):
            chart = _chart_of(d.path, umbrella)
            if chart in versions:
                reason = _waiver(project.declared(chart), *versions[chart])(d)
                d = replace(d, waived=bool(reason), waiver_reason=reason or "")
            yield replace(d, chart=chart)


def compare_catalog(
    root: Path, baseline: Baseline, helm: Helm, *, environments: Sequence[str] = (),
    package: PackageResult | None = None,
) -> CompatResult:  # fmt: skip
    """Every packaged chart of ``root/charts`` against ``baseline``; see the module docstring.

    Works on a project with ``sources/`` (findings name ``sources/charts/<chart>/chart.yaml``, declared
    breaks apply) and on one with only ``charts/`` and ``values/``. Never raises on findings.
    """
    diagnostics: list[Diagnostic] = []
    checked: list[Checked] = []
    required: dict[str, SemverResult] = {}
    values_dir = root / "values"
    found_envs = sorted(p.stem for p in values_dir.glob("*.yaml")) if values_dir.is_dir() else []
    for env in environments:
        if env not in found_envs:
            raise UsageError(f"unknown environment '{env}'", hint=did_you_mean(env, found_envs))
    with tempfile.TemporaryDirectory(prefix="chartforge-compat-") as scratch:
        tmp = Path(scratch)
        project = _Project(root, package or package_charts(root / "charts", tmp / "local"),
                           tuple(environments or found_envs))  # fmt: skip
        names = [c.name for c in project.package.charts]
        released = {n: baseline.latest(n) for n in names}
        versions = {
            n: (r.version, project.package.get(n).version) for n, r in released.items() if r is not None
        }
        inputs = {n: (tgz_input(r.archive, r.origin), tgz_input(project.package.get(n).path.read_bytes(), f"local {n}"))
                  for n, r in released.items() if r is not None}  # fmt: skip
        findings: list[Diagnostic] = []
        for top in project.tops:
            rel_top = released[top]
            if rel_top is not None:
                old, new = inputs[top]
                findings += _upgrade_findings(project, top, helm, old, new, rel_top, versions, tmp)
        diagnostics += findings
        for name in names:
            path, line = project.source(name)
            checked.append(Checked("compat", name, "", "", path, "Chart", name))
            rel = released[name]
            if rel is None:
                continue
            old, new = inputs[name]
            embedded = set(project.package.get(name).dependencies)
            mine = [d for d in findings if d.chart == name or d.chart in embedded]
            content = compare_schemas(old.schema, new.schema) + file_reasons(old, new)
            upgrade = [
                Reason("major", f"{d.kind}/{d.name} {d.field}", f"{d.code} ({d.environment})") for d in mine
            ]
            result = SemverResult.of(content + upgrade)
            required[name] = result
            chart_changed = (
                bool(content) or versions[name][0] != versions[name][1]
            )  # not values/<env>.yaml alone
            if chart_changed:
                diagnostics += _version_findings(name, rel, versions[name][1], result, path, line)
            for alias, removable in early_alias_removals(old.schema, new.schema, versions[name][1]):
                message = (
                    f"deprecated alias '{alias}' removed in {versions[name][1]}: it is kept until {removable} "
                    "(compatibility for two major versions); restore its deprecations entry"
                )
                diagnostics.append(
                    Diagnostic(
                        "error",
                        "CF-REL-004",
                        message,
                        stage="compat",
                        chart=name,
                        path=path,
                        line=line,
                        kind="Chart",
                        name=name,
                        field=alias,
                    )
                )
    done = {n: r for n, r in released.items() if r is not None}
    return CompatResult(tuple(diagnostics), tuple(checked), baseline.label, required, done)


def _version_findings(
    chart: str, rel: Released, local: str, result: SemverResult, path: str, line: int | None
) -> list[Diagnostic]:
    need = result.required
    why = "; ".join(f"{r.path}: {r.message}" for r in result.reasons[:3]) + (
        " …" if len(result.reasons) > 3 else ""
    )
    base: dict[str, Any] = {"stage": "compat", "chart": chart, "path": path, "line": line,
                            "kind": "Chart", "name": chart, "field": "version"}  # fmt: skip
    if parse_version(local) < parse_version(rel.version):
        message = f"version {local} is lower than the released {rel.version} ({rel.origin})"
        return [Diagnostic("error", "CF-REL-003", message, **base)]
    if need == "none" or satisfies(rel.version, local, need):
        return []
    to = bumped(rel.version, need)
    extra = (("version", to), ("required", need))
    if local == rel.version:
        message = (
            f"content changed since {rel.origin} but the version is still {local}: use {to} ({need}: {why})"
        )
        return [Diagnostic("error", "CF-REL-001", message, extra=extra, **base)]
    kind = level_between(rel.version, local)
    message = f"{rel.version} → {local} is a {kind} bump but the change is {need}: use {to} ({why})"
    return [Diagnostic("error", "CF-REL-002", message, extra=extra, **base)]


__all__ = ["CODES", "CompatResult", "compare_catalog", "prune"]
