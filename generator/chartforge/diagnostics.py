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
        return " ".join(b for b in (where, loc, obj, self.field) if b)

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
    d = diagnostic
    return Checked(d.stage, d.chart, d.environment, d.kubernetes_version, d.path, d.kind, d.name)
