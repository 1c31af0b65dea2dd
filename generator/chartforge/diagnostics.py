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
