"""Render findings for people and machines: a grouped table, JSON, JUnit XML.

Every checking stage (lint, validate, policy, check) hands its ``Diagnostic`` list here.
JUnit needs to know what *passed* too, so stages can also pass the objects they checked
as :class:`Checked` records; each becomes a test case, failed when an unwaived error
names it. Output is deterministic: same findings, same bytes.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TextIO

from chartforge.check import CheckResult
from chartforge.diagnostics import Checked, Diagnostic, GroupKey, checked_of, sort_key, summarize
from chartforge.errors import UserError


def group_diagnostics(diagnostics: Iterable[Diagnostic]) -> dict[tuple[str, str, str], list[Diagnostic]]:
    """By (chart, environment, kubernetes_version), groups and members sorted."""
    groups: dict[tuple[str, str, str], list[Diagnostic]] = {}
    for d in diagnostics:
        groups.setdefault((d.chart, d.environment, d.kubernetes_version), []).append(d)
    return {key: sorted(groups[key], key=sort_key) for key in sorted(groups)}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def summary_line(diagnostics: Sequence[Diagnostic]) -> str:
    c = summarize(diagnostics)
    text = f"{_plural(c['error'], 'error')}, {_plural(c['warning'], 'warning')}"
    if c["info"]:
        text += f", {c['info']} info"
    if c["waived"]:
        text += f", {c['waived']} waived"
    return text


def render_table(
    diagnostics: Sequence[Diagnostic],
    stream: TextIO | None = None,
    *,
    title: str = "",
    width: int | None = None,
) -> None:
    """A readable table per chart/environment/version group, then the counts."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    out = stream if stream is not None else sys.stderr
    console = Console(file=out, width=width or (None if out.isatty() else 160), highlight=False)
    if title:
        console.print(title, style="bold")
    styles = {"error": "red", "warning": "yellow", "info": "cyan"}
    for (chart, env, version), members in group_diagnostics(diagnostics).items():
        label = (
            " / ".join(b for b in (chart, env, f"k8s {version}" if version else "") if b) or "all versions"
        )
        table = Table(title=label, title_justify="left", show_lines=False, expand=False)
        for column in ("severity", "code", "where", "field", "message"):
            table.add_column(column, overflow="fold")
        for d in members:
            severity = "waived" if d.waived else d.severity
            where = " ".join(
                b
                for b in (
                    d.path + (f":{d.line}" if d.path and d.line else "") + d.context,
                    "/".join(x for x in (d.kind, d.name) if x),
                )
                if b
            )
            message = d.message + (f" (waived: {d.waiver_reason})" if d.waived and d.waiver_reason else "")
            message += f" [seen by {d.seen_by}]" if d.seen_by else ""
            table.add_row(  # cells are text, not rich markup: "volumeClaimTemplates[data]" must stay
                severity,
                escape(d.code),
                escape(where),
                escape(d.field),
                escape(message),
                style="dim" if d.waived else styles.get(d.severity, ""),
            )
        console.print(table)
    groups = len(group_diagnostics(diagnostics))
    console.print(
        f"{summary_line(diagnostics)} in {_plural(groups, 'group')}" if diagnostics else "no findings"
    )


def describe(result: CheckResult) -> str:
    """What a run covered and found, in one line: ``1 environment(s) × 7 Kubernetes version(s) ×
    helm v3.19.0, v4.0.0, engine kubeconform — 412 checks, 0 errors, 0 warnings``."""
    span = [
        f"{len(result.environments)} environment(s)" if result.environments else "",
        f"{len(result.kubernetes_versions)} Kubernetes version(s)" if result.kubernetes_versions else "",
        f"helm {', '.join(result.helm_versions)}" if result.helm_versions else "",
    ]
    text = " × ".join(b for b in span if b) or "manifests"
    text += f", engine {result.engine}" if result.engine else ""
    text += f", {result.resources} object(s)" if not result.helm_versions else ""
    return f"{text} — {len(result.checked)} checks, {summary_line(result.diagnostics)}"


def render_result(result: CheckResult, *, title: str, stream: TextIO | None = None) -> None:
    """The text report of check, lint, validate and policy: the findings table, then one line."""
    out = stream if stream is not None else sys.stderr
    if result.diagnostics:
        render_table(result.diagnostics, out, title=title)
    print(f"{title}: {describe(result)}", file=out)


def _suite_name(group: GroupKey) -> str:
    stage, *rest = group
    where = "/".join(b for b in rest if b)
    return f"{stage} {where}" if where else stage


def _case(parent: ET.Element, checked: Checked, findings: list[Diagnostic]) -> tuple[bool, bool]:
    """Add one test case; return (failed, skipped)."""
    classname = ".".join(b.replace(".", "_") for b in checked.group if b) or "chartforge"
    case = ET.SubElement(parent, "testcase", {"classname": classname, "name": checked.case_name})
    errors = [d for d in findings if d.severity == "error" and not d.waived]
    notes = [d for d in findings if d not in errors]
    lines = [f"{d.code} {d.field or '-'}: {d.message}" for d in errors]
    if errors:
        first = errors[0]
        message = f"{first.field}: {first.message}" if first.field else first.message
        if len(errors) > 1:
            message += f" (+{len(errors) - 1} more)"
        failure = ET.SubElement(case, "failure", {"message": message, "type": first.code})
        failure.text = "\n".join(lines)
    elif findings and all(d.waived for d in findings):
        reason = "; ".join(sorted({f"{d.code}: {d.waiver_reason or 'waived'}" for d in findings}))
        ET.SubElement(case, "skipped", {"message": f"waived: {reason}"})
    if notes:
        out = ET.SubElement(case, "system-out")
        out.text = "\n".join(
            f"{'waived' if d.waived else d.severity} {d.code} {d.field or '-'}: {d.message}" for d in notes
        )
    return bool(errors), bool(findings) and not errors and all(d.waived for d in findings)


def _lint_runs_reported_at_source(diagnostics: Sequence[Diagnostic]) -> set[tuple[str, str, str]]:
    """(chart, environment, helm version) of every helm lint run whose finding was moved to the
    ``sources/`` line it comes from (``atsource``): that finding is the run's failing case."""
    runs: set[tuple[str, str, str]] = set()
    for d in diagnostics:
        extra = dict(d.extra)
        if (
            "checked" in extra
            or not d.path.startswith("sources/")
            or "lint" not in extra.get("stages", d.stage)
        ):
            continue
        for chart in extra.get("charts", d.chart).split(", "):
            for helm in extra.get("helm", "").split(", "):
                runs.add((chart, d.environment, helm))
    return runs


def _lint_run(checked: Checked) -> tuple[str, str, str] | None:
    """(chart, environment, helm version) of a helm lint run's case (``checklint``), else None."""
    if checked.stage != "lint" or checked.kind != "Chart" or " (helm " not in checked.name:
        return None
    return checked.chart, checked.environment, checked.name.rsplit(" (helm ", 1)[1].rstrip(")")


def to_junit(
    diagnostics: Sequence[Diagnostic], checked: Iterable[Checked] = (), *, name: str = "chartforge"
) -> str:
    """JUnit XML: a test suite per stage × chart/env/version, a test case per checked object.

    A helm lint run whose finding is reported at its ``sources/`` line has no case of its own: the
    finding's case (named ``file:line``) is its failure, never beside a passing case for the run."""
    at_source = _lint_runs_reported_at_source(diagnostics)
    findings: dict[Checked, list[Diagnostic]] = {c: [] for c in checked if _lint_run(c) not in at_source}
    for d in diagnostics:
        findings.setdefault(checked_of(d), []).append(d)
    suites: dict[GroupKey, list[Checked]] = {}
    for c in sorted(findings):
        suites.setdefault(c.group, []).append(c)
    root = ET.Element("testsuites", {"name": name})
    totals = [0, 0, 0]
    for group in sorted(suites):
        suite = ET.SubElement(root, "testsuite", {"name": _suite_name(group)})
        counts = [0, 0, 0]
        for c in suites[group]:
            failed, skipped = _case(suite, c, sorted(findings[c], key=sort_key))
            counts[0] += 1
            counts[1] += failed
            counts[2] += skipped
        suite.attrib.update(
            {"tests": str(counts[0]), "failures": str(counts[1]), "errors": "0", "skipped": str(counts[2])}
        )
        totals = [a + b for a, b in zip(totals, counts, strict=True)]
    root.attrib.update(
        {"tests": str(totals[0]), "failures": str(totals[1]), "errors": "0", "skipped": str(totals[2])}
    )
    ET.indent(root)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(
    path: Path,
    diagnostics: Sequence[Diagnostic],
    checked: Iterable[Checked] = (),
    *,
    name: str = "chartforge",
) -> None:
    """Write :func:`to_junit` output to ``path`` (parent directories created)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(to_junit(diagnostics, checked, name=name), encoding="utf-8")
    except OSError as exc:
        raise UserError(
            f"cannot write the JUnit report: {exc.strerror or exc}", path=path, key="--junit"
        ) from exc
