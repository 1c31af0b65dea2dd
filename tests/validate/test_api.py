"""validate_jobs: many chart × environment batches, one engine run per version set."""

from __future__ import annotations

from pathlib import Path

import pytest

from chartforge.validate import Job, parse_manifest_text, validate_jobs
from chartforge.validate.builtin import BuiltinEngine
from chartforge.validate.engine import Engine
from chartforge.validate.kubeconform import KubeconformEngine
from tests.validate.conftest import CRD_DIR

RENDERED = {
    ("api", "staging"): "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: '1'}\n",
    (
        "api",
        "production",
    ): "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg}\ndata: {a: 1}\n---\nkind: [\n",
    ("web", "production"): (
        "apiVersion: flowcontrol.apiserver.k8s.io/v1beta3\nkind: FlowSchema\nmetadata: {name: cfg}\n"
        "spec: {priorityLevelConfiguration: {name: x}}\n"
    ),
}


def jobs() -> list[Job]:
    return [
        Job(parse_manifest_text(text, f"<helm template {chart} {env}>"), ["1.31", "1.32"], chart, env)
        for (chart, env), text in RENDERED.items()
    ] + [Job(parse_manifest_text(RENDERED[("web", "production")]), ["1.37"], "web", "development")]


def outcome(engine: Engine, cache: Path) -> list[list[tuple[str, str, str, frozenset[str]]]]:
    reports = validate_jobs(jobs(), engine=engine, crd_dir=CRD_DIR, cache_root=cache)
    return [[(rep.chart, r.kubernetes_version, r.status, r.paths) for r in rep.results] for rep in reports]


EXPECTED = [
    [("api", "1.31", "valid", frozenset()), ("api", "1.32", "valid", frozenset())],
    [("api", "1.31", "invalid", frozenset({"/data/a"})), ("api", "1.32", "invalid", frozenset({"/data/a"})),
     ("api", "1.31", "unparsable", frozenset({""})), ("api", "1.32", "unparsable", frozenset({""}))],
    [("web", "1.31", "valid", frozenset()), ("web", "1.32", "no-schema", frozenset({""}))],
    [("web", "1.37", "no-schema", frozenset({""}))],
]  # fmt: skip


def test_jobs_builtin(schema_cache: Path) -> None:
    assert outcome(BuiltinEngine(), schema_cache) == EXPECTED


@pytest.mark.kubeconform
def test_jobs_kubeconform(schema_cache: Path, kubeconform_bin: str) -> None:
    assert outcome(KubeconformEngine(kubeconform_bin), schema_cache) == EXPECTED


def test_reports_carry_chart_and_environment(schema_cache: Path) -> None:
    reports = validate_jobs(jobs(), engine="builtin", crd_dir=CRD_DIR, cache_root=schema_cache)
    assert [(r.chart, r.environment, r.kubernetes_versions) for r in reports] == [
        ("api", "staging", ("1.31", "1.32")), ("api", "production", ("1.31", "1.32")),
        ("web", "production", ("1.31", "1.32")), ("web", "development", ("1.37",)),
    ]  # fmt: skip
    diags = reports[1].to_diagnostics()
    assert {(d.chart, d.environment) for d in diags} == {("api", "production")}
    assert {c.environment for c in reports[3].checked()} == {"development"}
