"""One mistake in a shared macro, one finding: the rule for a helm failure on a line a macro wrote.

After ``atsource.group_findings`` a helm failure is at the author's call site, the macro line as
context (``extra["macro"]``). When one call site fails, that is where the author looks (the mistake
may be the call's arguments). When several call sites fail at the same macro line with the same
cause in one environment, the mistake is the macro's own: the rows become one finding at the
macro line, every call site listed in ``extra["call_sites"]`` (``(called from …)`` in the table),
what saw it merged (``helm``, ``charts``, ``stages``, ``generated``). Causes that differ between
call sites (arguments that differ) stay one finding per call site.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from chartforge.diagnostics import Diagnostic

HELM_STAGES = ("lint", "render")
_MERGED = ("helm", "charts", "stages", "kubernetes_versions", "generated")


def _union(values: Sequence[str]) -> str:
    parts = {part for value in values for part in value.split(", ") if part}
    return ", ".join(sorted(parts))


def merge_macro_findings(diagnostics: Sequence[Diagnostic]) -> list[Diagnostic]:
    """Findings of several call sites at one macro line with one cause → one finding at the macro line."""
    groups: dict[tuple[str, str, str, str], list[Diagnostic]] = {}
    out: list[Diagnostic] = []
    for d in diagnostics:
        macro = dict(d.extra).get("macro", "")
        if d.stage in HELM_STAGES and macro and ":" in macro:
            groups.setdefault((d.environment, macro, d.severity, d.message), []).append(d)
        else:
            out.append(d)
    for (_, macro, _, _), rows in groups.items():
        sites = sorted({f"{r.path}:{r.line}" for r in rows})
        if len(sites) == 1:
            out += rows
            continue
        extras = [dict(r.extra) for r in rows]
        extra = {**extras[0], **{k: _union([e.get(k, "") for e in extras]) for k in _MERGED}}
        extra["charts"] = _union([extra["charts"], *(r.chart for r in rows)])
        del extra["macro"]
        extra["call_sites"] = ", ".join(sites)
        path, _, line = macro.rpartition(":")
        first = rows[0]
        versions = {r.kubernetes_version for r in rows}
        out.append(replace(first, path=path, line=int(line), chart="", extra=tuple(sorted(extra.items())),
                           kubernetes_version=versions.pop() if len(versions) == 1 else ""))  # fmt: skip
    return out
