"""Many lint targets in few ``helm lint`` processes, with exactly the findings of one call per target.

``helm lint`` takes several chart paths but one set of values files, and prints one
``==> Linting PATH`` section per chart. Targets (chart × environment) whose values files have the
same content therefore share one process per helm binary: :func:`group_targets` groups them
(a chart with the same values in two environments is linted once and its section read for
both), :func:`lint_batch` runs one group and cuts the output into per-chart sections, each parsed
by :func:`chartforge.lint.parse_lint_output` as if it were a call of its own.

Exactness comes first. A section is trusted only when the output can be attributed without
doubt: every path has its section in order, helm's summary line is there, no finding line is
outside a section, and helm's count of failed charts equals the number of sections with an
error. Otherwise the charts concerned are linted again one call each (:func:`chartforge.lint.lint_chart`),
so a failure helm reports without a finding line still gets the one-call message.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from chartforge import helm as helmcmd
from chartforge.diagnostics import Diagnostic
from chartforge.lint import LintTarget, lint_chart, parse_lint_output
from chartforge.tools import Helm

_HEADER = re.compile(r"^==> Linting (.*)$")
_SUMMARY = re.compile(r"^(?:Error: )?(\d+) chart\(s\) linted, (\d+) chart\(s\) failed$")
_FINDING_START = re.compile(r"^\[(INFO|WARNING|ERROR)\]")


@dataclass(frozen=True)
class Batch:
    """Targets one ``helm lint`` process checks: same helm, values files of the same content."""

    helm: Helm
    targets: tuple[LintTarget, ...]

    @property
    def chart_dirs(self) -> tuple[Path, ...]:
        return tuple(dict.fromkeys(t.chart_dir for t in self.targets))


def group_targets(runs: Sequence[tuple[Helm, LintTarget]], workers: int) -> list[Batch]:
    """Runs grouped by helm and values content, each group cut into at most ``workers`` batches."""
    groups: dict[tuple[str, str], list[LintTarget]] = {}
    helms: dict[str, Helm] = {}
    for helm, target in runs:
        digest = hashlib.sha256(target.values_file.read_bytes()).hexdigest()
        groups.setdefault((helm.path, digest), []).append(target)
        helms[helm.path] = helm
    batches = []
    for (path, _), targets in groups.items():
        dirs = list(dict.fromkeys(t.chart_dir for t in targets))
        size = max(1, math.ceil(len(dirs) / max(1, workers)))
        for start in range(0, len(dirs), size):
            chunk = set(dirs[start : start + size])
            batches.append(Batch(helms[path], tuple(t for t in targets if t.chart_dir in chunk)))
    return batches


def _sections(stdout: str, dirs: Sequence[Path]) -> dict[Path, str] | None:
    """``==> Linting PATH`` sections keyed by chart dir; None when they are not exactly ``dirs`` in order."""
    found: list[tuple[str, list[str]]] = []
    for line in stdout.splitlines():
        header = _HEADER.match(line)
        if header:
            found.append((header.group(1), []))
        elif found:
            found[-1][1].append(line)
        elif _FINDING_START.match(line.strip()):
            return None  # a finding before the first section: nobody's to attribute
    if [name for name, _ in found] != [str(d) for d in dirs]:
        return None
    return {d: "\n".join(lines) for d, (_, lines) in zip(dirs, found, strict=True)}


def lint_batch(batch: Batch, *, strict: bool = True) -> dict[LintTarget, list[Diagnostic]]:
    """Every target's findings, exactly as :func:`chartforge.lint.lint_chart` would report them."""
    dirs = batch.chart_dirs
    if len(dirs) == 1 and len(batch.targets) == 1:
        return {batch.targets[0]: lint_chart(batch.helm, batch.targets[0], strict=strict)}
    done = helmcmd.lint_many(batch.helm, dirs, values_files=[batch.targets[0].values_file], strict=strict)
    sections = _sections(done.stdout, dirs)
    summary = [
        m for line in (done.stdout + "\n" + done.stderr).splitlines() if (m := _SUMMARY.match(line.strip()))
    ]
    stray = any(_FINDING_START.match(line.strip()) for line in done.stderr.splitlines())
    if sections is None or stray or len(summary) != 1 or int(summary[0].group(1)) != len(dirs):
        return {t: lint_chart(batch.helm, t, strict=strict) for t in batch.targets}
    out = {t: parse_lint_output(sections[t.chart_dir], t, batch.helm, strict=strict) for t in batch.targets}
    failing = {t.chart_dir for t, found in out.items() if any(d.severity == "error" for d in found)}
    if int(summary[0].group(2)) != len(failing) or (done.returncode != 0) != bool(failing):
        # helm failed a chart without a finding line (or counted differently): one call each for
        # the charts whose failure cannot be told from their section
        for target in [t for t in batch.targets if t.chart_dir not in failing]:
            out[target] = lint_chart(batch.helm, target, strict=strict)
    return out
