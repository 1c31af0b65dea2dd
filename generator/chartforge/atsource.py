"""Findings at the ``sources/`` line that produced them, and one finding per mistake.

``at_sources`` is a function over diagnostics (after lint, render, validate and policy ran):

- a helm failure (lint or render) names ``charts/<c>/templates/x.yaml:L:C``; through the build's
  line map (``compile.linemap``) it becomes the template line in ``sources/`` (the author's call
  site when a macro wrote the line, the macro's line in ``extra["macro"]``), the generated
  location kept in ``extra["generated"]``, helm's noise (helm 4's ``level=INFO …symbolic link``
  lines, ``Use --debug …``) dropped and its message reduced to the cause;
- a validate or policy finding on a rendered object (located by its ``# Source:`` template) is
  moved to the source template, at the line of the object's ``kind:`` or of the field's key;
- ``group_findings`` then merges the rows one mistake makes (helm 3 and helm 4, the sub-chart
  and the umbrella, lint and render, every Kubernetes version of an environment) into one,
  keeping who saw it in ``extra`` (``helm``, ``charts``, ``stages``, ``kubernetes_versions``);
- ``macrofindings`` then makes the findings of several call sites of one broken macro line one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from chartforge.compile.linemap import LineMap
from chartforge.diagnostics import SEVERITY_ORDER, Diagnostic
from chartforge.helmerrors import clean, template_failure
from chartforge.macrofindings import merge_macro_findings

HELM_STAGES = ("lint", "render")
_RENDERED = re.compile(r"^(?:[\w.-]+/charts/)*(?P<chart>[\w.-]+)/(?P<rest>templates/.+)$")
_KEYS = re.compile(r"[^./\[\]]+")
_MERGED = ("helm", "charts", "stages", "kubernetes_versions")


def at_sources(diagnostics: Iterable[Diagnostic], root: Path) -> list[Diagnostic]:
    """Every finding located in ``sources/`` where the line map knows it, then grouped."""
    line_map = LineMap(root)
    return merge_macro_findings(group_findings([_locate(d, line_map, root) for d in diagnostics]))


def _locate(d: Diagnostic, line_map: LineMap, root: Path) -> Diagnostic:
    if d.path.startswith("sources/"):
        return d  # already located (a merged shard report)
    if d.stage in HELM_STAGES:
        failure = template_failure(d.message)
        if failure is None:
            return replace(d, message=clean(d.message) or d.message)
        generated = f"{failure.generated}:{failure.line}"
        extra = {**dict(d.extra), "generated": generated}
        origin = line_map.origin(failure.generated, failure.line)
        path, line = failure.generated, failure.line
        if origin is not None:
            path, line = origin.path, origin.line
            if origin.macro:
                extra["macro"] = origin.macro
        extra.setdefault("charts", d.chart)  # the chart helm linted or rendered (the umbrella, maybe)
        return replace(
            d, path=path, line=line, message=failure.cause, chart=failure.chart, extra=tuple(extra.items())
        )
    match = _RENDERED.match(d.path) if d.line is None else None
    if match is None:
        return d
    generated = f"charts/{match.group('chart')}/{match.group('rest')}"
    at = _object_line(root / generated, d.kind, d.field)
    origin = line_map.origin(generated, at) if at else None
    if origin is None:
        return d
    extra = {**dict(d.extra), "generated": f"{generated}:{at}", "checked": d.path}  # its JUnit case
    if origin.macro:
        extra["macro"] = origin.macro
    return replace(d, path=origin.path, line=origin.line, extra=tuple(extra.items()))


def _object_line(path: Path, kind: str, field: str) -> int | None:
    """The generated line of the object's ``kind:``, or of the field's last key after it."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    start = next((i for i, text in enumerate(lines) if kind and text.strip() == f"kind: {kind}"), None)
    if start is None:
        return None
    at = start
    for key in _KEYS.findall(field):  # "/spec/ports/0/port", "data[PASSWORD]", "spec.template.spec…"
        if key.isdigit():
            continue
        found = next((k for k in range(at, len(lines)) if _has_key(lines[k], key)), None)
        at = found if found is not None else at
    return at + 1


def _has_key(text: str, key: str) -> bool:
    text = text.strip().removeprefix("- ")
    return text.startswith((f"{key}:", f'"{key}":', f"'{key}':"))


def _key(d: Diagnostic) -> tuple[object, ...]:
    if d.stage in HELM_STAGES:
        return ("helm", d.environment, d.path, d.line, d.message)
    return (d.stage, d.code, d.chart, d.environment, d.kubernetes_version, d.path, d.line, d.kind, d.name,
            d.field, d.message, d.waived)  # fmt: skip


def _union(values: Iterable[str]) -> str:
    seen: list[str] = []
    for value in values:
        for part in value.split(", "):
            if part and part not in seen:
                seen.append(part)
    return ", ".join(sorted(seen))


def _seen(d: Diagnostic) -> dict[str, str]:
    extra = dict(d.extra)
    return {
        "helm": extra.get("helm", ""),
        "charts": extra.get("charts", d.chart),
        "stages": extra.get("stages", d.stage),
        "kubernetes_versions": extra.get("kubernetes_versions", d.kubernetes_version),
    }


def group_findings(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """One finding per cause: helm failures with the same source line and cause in one environment
    are merged (the most severe row kept, lint's before render's), the others left as they are."""
    groups: dict[tuple[object, ...], list[Diagnostic]] = {}
    for d in diagnostics:
        groups.setdefault(_key(d), []).append(d)
    out: list[Diagnostic] = []
    for key, rows in groups.items():
        if key[0] != "helm":
            out += rows
            continue
        first = sorted(rows, key=lambda r: (-SEVERITY_ORDER[r.severity], HELM_STAGES.index(r.stage)))[0]
        extra = {**dict(first.extra), **{k: _union(_seen(r)[k] for r in rows) for k in _MERGED}}
        versions = {r.kubernetes_version for r in rows}
        version = versions.pop() if len(versions) == 1 else ""
        out.append(replace(first, kubernetes_version=version, kind="", name="", extra=tuple(extra.items())))
    return out
