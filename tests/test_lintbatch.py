"""lintbatch: several charts per ``helm lint`` process, findings identical to one call per chart (real helm 3 and 4)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from chartforge import codes
from chartforge.compile.assemble import assemble
from chartforge.compile.build import build
from chartforge.compile.catalog import load_catalog
from chartforge.lint import LintTarget, lint_chart
from chartforge.lintbatch import Batch, group_targets, lint_batch
from chartforge.tools import Helm, find_helms
from tests.conftest import CASES, copy_tree, require_tool

pytestmark = pytest.mark.helm


@pytest.fixture
def charts(tmp_path: Path) -> Path:
    """Copies of the base case's chart ``alpha``: clean, with an info, an error, a broken Chart.yaml."""
    require_tool("helm")
    root = copy_tree(CASES / "build" / "base", tmp_path / "project")
    build(root)
    out = tmp_path / "charts"
    with assemble(load_catalog(root)) as assembled:
        for name in ("clean", "info", "error", "broken", "clean2"):
            shutil.copytree(assembled / "alpha", out / name)
    chart_yaml = out / "info" / "Chart.yaml"
    chart_yaml.write_text(
        "".join(line for line in chart_yaml.read_text().splitlines(True) if "icon:" not in line)
    )
    (out / "error" / "templates" / "zz.yaml").write_text("{{ .Values.nope.x }}\n")
    (out / "broken" / "Chart.yaml").write_text((out / "broken" / "Chart.yaml").read_text() + "garbage: [\n")
    (out / "values.yaml").write_text("{}\n")
    return out


def helms() -> list[Helm]:
    found = find_helms()
    assert len(found) == 2, "helm 3 and helm 4 are both installed (ci/install.sh)"
    return found


def counting(helm: Helm, log: Path, tmp: Path) -> Helm:
    """The same real helm behind a wrapper that logs each invocation."""
    wrapper = tmp / f"helm-{helm.major}"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {log}\nexec {helm.path} "$@"\n')
    wrapper.chmod(0o755)
    return Helm(str(wrapper), helm.version)


def targets(charts: Path, names: list[str], env: str = "development") -> list[LintTarget]:
    return [LintTarget(n, env, charts / n, charts / "values.yaml") for n in names]


def test_batched_findings_equal_one_call_per_chart(charts: Path) -> None:
    names = ["clean", "info", "error", "broken", "clean2"]
    for helm in helms():
        batch = Batch(helm, tuple(targets(charts, names)))
        got = lint_batch(batch)
        for target in batch.targets:
            assert got[target] == lint_chart(helm, target), (helm.version, target.chart)
        assert any(d.severity == "info" for d in got[batch.targets[1]])
        assert any(d.severity == "error" for d in got[batch.targets[2]])
        assert got[batch.targets[0]] == [] and got[batch.targets[4]] == []


def test_one_process_for_every_chart_with_the_same_values(charts: Path, tmp_path: Path) -> None:
    for helm in helms():
        log = tmp_path / f"calls-{helm.major}.log"
        wrapped = counting(helm, log, tmp_path)
        found = lint_batch(Batch(wrapped, tuple(targets(charts, ["clean", "info", "error", "clean2"]))))
        assert sum(len(v) for v in found.values()) >= 2
        assert len(log.read_text().splitlines()) == 1, "one helm lint for the four charts"


def test_a_failure_without_a_finding_line_falls_back_to_one_call(charts: Path, tmp_path: Path) -> None:
    # a chart directory without Chart.yaml: helm fails it with no [ERROR] line in its section
    (charts / "empty").mkdir()
    for helm in helms():
        log = tmp_path / f"calls-{helm.major}.log"
        wrapped = counting(helm, log, tmp_path)
        batch = Batch(wrapped, tuple(targets(charts, ["clean", "empty", "info"])))
        got = lint_batch(batch)
        assert [d.code for d in got[batch.targets[1]]] == [codes.LINT_FAILED]
        for target in batch.targets:
            assert got[target] == lint_chart(wrapped, target)
        calls = log.read_text().splitlines()
        # the batch, again one call for each chart without an error line (helm counted a failure
        # none of their sections shows), then the three comparison calls
        assert len(calls) == 1 + 3 + 3


def test_groups_by_helm_and_values_content(charts: Path, tmp_path: Path) -> None:
    same = tmp_path / "same.yaml"
    same.write_text("{}\n")
    other = tmp_path / "other.yaml"
    other.write_text("replicaCount: 2\n")
    h3, h4 = helms()
    runs = [
        (h, LintTarget(c, env, charts / c, values))
        for h in (h3, h4)
        for c, env, values in [
            ("clean", "development", charts / "values.yaml"),
            ("clean", "production", same),  # same content in another environment: linted once
            ("info", "development", charts / "values.yaml"),
            ("info", "production", other),
        ]
    ]
    batches = group_targets(runs, workers=1)
    assert len(batches) == 4  # per helm: {clean×2 envs, info×development} and {info×production}
    first = next(b for b in batches if b.helm == h3 and len(b.targets) == 3)
    assert first.chart_dirs == (charts / "clean", charts / "info")
    split = group_targets(runs, workers=2)
    assert len(split) == 6 and sorted(len(b.chart_dirs) for b in split) == [1, 1, 1, 1, 1, 1]
