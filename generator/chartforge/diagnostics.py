"""Findings as data: every stage that checks something returns ``Diagnostic`` records.

A run collects diagnostics across every chart × environment × Kubernetes version before
deciding the exit code, so one run shows every problem.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any, Literal

Severity = Literal["error", "warning", "info"]
SEVERITY_ORDER: dict[str, int] = {"info": 0, "warning": 1, "error": 2}


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One finding.

    ``code`` is a stable identifier (``CF-VALIDATE-SCHEMA``, ``PSS-RUN-AS-NON-ROOT``…) that
    waivers refer to, registered in ``chartforge.codes`` (docs/diagnostics.md). The location fields are optional; set the ones that apply.
    """

    severity: Severity
    code: str
    message: str
    stage: str = ""
    chart: str = ""
    environment: str = ""
    kubernetes_version: str = ""
    path: str = ""
    line: int | None = None
    kind: str = ""
    name: str = ""
    field: str = ""
    waived: bool = False
    waiver_reason: str = ""
    extra: tuple[tuple[str, str], ...] = dataclasses.field(default=(), compare=False)

    @property
    def location(self) -> str:
        bits = [b for b in (self.chart, self.environment, self.kubernetes_version) if b]
        where = "/".join(bits)
        obj = "/".join(b for b in (self.kind, self.name) if b)
        loc = self.path + (f":{self.line}" if self.path and self.line else "")
        loc += self.context
        return " ".join(b for b in (where, loc, obj, self.field) if b)

    @property
    def context(self) -> str:
        """`` (in macro sources/macros/k8s.j2:12) (generated charts/c/templates/x.yaml:40)`` or empty
        (``(called from A:7, B:7)`` for a macro's own mistake, found at the macro line)."""
        more = dict(self.extra)
        macro = f" (in macro {more['macro']})" if more.get("macro") else ""
        macro = f" (called from {more['call_sites']})" if more.get("call_sites") else macro
        return macro + (f" (generated {more['generated']})" if more.get("generated") else "")

    @property
    def seen_by(self) -> str:
        """Who reported a grouped helm finding: ``helm v3.17.2, v4.1.4; charts a, b; lint, render``."""
        more = dict(self.extra)
        if "stages" not in more:
            return ""
        return "; ".join(b for b in (f"helm {more.get('helm', '')}".strip(),
                                      f"charts {more.get('charts', '')}".strip(), more["stages"]) if b)  # fmt: skip

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["extra"] = dict(self.extra)
        return data


def sort_key(d: Diagnostic) -> tuple[Any, ...]:
    """The order findings are listed in within a chart × environment × version group."""
    return (d.path, d.line or 0, d.kind, d.name, d.field, -SEVERITY_ORDER[d.severity], d.code, d.message)


def summarize(diagnostics: Iterable[Diagnostic]) -> dict[str, int]:
    """Counts by severity (unwaived), waived findings apart, and the total."""
    counts = {"error": 0, "warning": 0, "info": 0, "waived": 0, "total": 0}
    for d in diagnostics:
        counts["total"] += 1
        counts["waived" if d.waived else d.severity] += 1
    return counts


def findings_to_dict(diagnostics: Iterable[Diagnostic]) -> dict[str, Any]:
    """``{"diagnostics": [...], "summary": {...}}``, in table order (by chart, environment, version)."""
    found = list(diagnostics)
    ordered = sorted(found, key=lambda d: (d.chart, d.environment, d.kubernetes_version, *sort_key(d)))
    return {"diagnostics": [d.to_dict() for d in ordered], "summary": summarize(found)}


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    """True when at least one unwaived error is present."""
    return any(d.severity == "error" and not d.waived for d in diagnostics)


GroupKey = tuple[str, str, str, str]  # stage, chart, environment, kubernetes_version


@dataclass(frozen=True, order=True)
class Checked:
    """One object a stage checked (a JUnit test case), whether or not it had findings."""

    stage: str
    chart: str = ""
    environment: str = ""
    kubernetes_version: str = ""
    path: str = ""
    kind: str = ""
    name: str = ""

    @property
    def group(self) -> GroupKey:
        return (self.stage, self.chart, self.environment, self.kubernetes_version)

    @property
    def case_name(self) -> str:
        obj = "/".join(b for b in (self.kind, self.name) if b)
        if obj and self.path:
            return f"{obj} ({self.path})"
        return obj or self.path or self.stage


def checked_of(diagnostic: Diagnostic) -> Checked:
    """The test case a finding belongs to: the object it was found on, else its own location.

    A helm finding moved to its ``sources/`` line (one per mistake, ``atsource.group_findings``) is
    its own case, named ``file:line``: two mistakes in one template never share a case.
    """
    d = diagnostic
    extra = dict(d.extra)
    path = extra.get("checked", d.path)  # the object's path when the finding was moved to sources/
    if "checked" not in extra and d.line is not None and d.path.startswith("sources/"):
        path = f"{d.path}:{d.line}"
    return Checked(d.stage, d.chart, d.environment, d.kubernetes_version, path, d.kind, d.name)
