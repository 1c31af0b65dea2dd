"""Stage 5 — ``helm lint --strict`` per chart × environment × helm major, findings as data."""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import takewhile
from pathlib import Path

from chartforge import codes
from chartforge import helm as helmcmd
from chartforge.diagnostics import Diagnostic, Severity
from chartforge.tools import Helm

_FINDING = re.compile(r"^\[(INFO|WARNING|ERROR)\]\s+(.*?):\s(.*)$")
_LEVELS: dict[str, Severity] = {"INFO": "info", "WARNING": "warning", "ERROR": "error"}


@dataclass(frozen=True)
class LintTarget:
    chart: str
    environment: str
    chart_dir: Path
    values_file: Path


def parse_lint_output(text: str, target: LintTarget, helm: Helm, *, strict: bool) -> list[Diagnostic]:
    """``[LEVEL] path: message`` lines → diagnostics (``--strict`` turns warnings into errors)."""
    out: list[Diagnostic] = []
    lines = text.splitlines()
    for at, line in enumerate(lines):
        match = _FINDING.match(line.strip())
        if not match:
            continue
        more = takewhile(lambda x: x.startswith((" ", "\t")) and x.strip(), lines[at + 1 :])  # helm 4 wraps
        match = _FINDING.match(" ".join([line.strip(), *(x.strip() for x in more)])) or match
        level, path, message = match.groups()
        severity = _LEVELS[level]
        if strict and severity == "warning":
            severity = "error"
        out.append(
            Diagnostic(
                severity=severity,
                code=codes.lint_code(level),
                message=message.strip(),
                stage="lint",
                chart=target.chart,
                environment=target.environment,
                path=f"charts/{target.chart}/{path}".rstrip("/"),
                extra=(("helm", helm.version),),
            )
        )
    return out


def lint_chart(helm: Helm, target: LintTarget, *, strict: bool = True) -> list[Diagnostic]:
    """Lint one chart with one environment's values; a failure without a finding line is reported too."""
    done = helmcmd.lint(helm, target.chart_dir, values_files=[target.values_file], strict=strict)
    found = parse_lint_output(done.stdout + "\n" + done.stderr, target, helm, strict=strict)
    if done.returncode != 0 and not any(d.severity == "error" for d in found):
        found.append(
            Diagnostic(
                severity="error",
                code=codes.LINT_FAILED,
                message=(done.stderr or done.stdout).strip().splitlines()[-1]
                if (done.stderr or done.stdout)
                else f"helm lint exited {done.returncode}",
                stage="lint",
                chart=target.chart,
                environment=target.environment,
                path=f"charts/{target.chart}",
                extra=(("helm", helm.version),),
            )
        )
    return found
