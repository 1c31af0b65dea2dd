"""The agreement corpus: both engines give the same verdict and name the same field paths.

Every file of ``tests/cases/validate/{valid,invalid}`` is checked on every version it names,
by the built-in engine and by the real kubeconform binary.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest

from chartforge.validate import (
    ResourceResult,
    load_manifests,
    validate_resources,
)
from chartforge.validate.builtin import BuiltinEngine
from chartforge.validate.engine import Engine
from chartforge.validate.kubeconform import KubeconformEngine
from tests.validate.conftest import CRD_DIR, Case, corpus

CASES = corpus()
Outcome = dict[Path, list[ResourceResult]]


def run_corpus(engine: Engine, cache: Path) -> Outcome:
    """Validate the whole corpus with ``engine``: one call per distinct version set."""
    by_versions: dict[tuple[str, ...], list[Case]] = defaultdict(list)
    for case in CASES:
        by_versions[case.versions].append(case)
    outcome: Outcome = defaultdict(list)
    for versions, cases in by_versions.items():
        resources = load_manifests([c.path for c in cases])
        report = validate_resources(resources, versions, engine=engine, crd_dir=CRD_DIR, cache_root=cache)
        for result in report.results:
            outcome[Path(result.resource.file)].append(result)
    return outcome


@pytest.fixture(scope="module")
def builtin(schema_cache: Path) -> Outcome:
    return run_corpus(BuiltinEngine(), schema_cache)


@pytest.fixture(scope="module")
def kubeconform(schema_cache: Path, kubeconform_bin: str) -> Outcome:
    return run_corpus(KubeconformEngine(kubeconform_bin), schema_cache)


def check_expectation(case: Case, results: list[ResourceResult]) -> None:
    assert results, f"{case.id}: no resource parsed"
    assert {r.kubernetes_version for r in results} == set(case.versions)
    for result in results:
        where = f"{result.resource.label} on {result.kubernetes_version}"
        if case.valid:
            assert result.valid, f"{where}: expected valid, got {result.status}: {result.errors}"
        elif case.expect == {"no-schema"}:
            assert result.status == "no-schema", f"{where}: expected no-schema, got {result.status}"
        else:
            assert result.status == "invalid", f"{where}: expected invalid, got {result.status}"
            assert result.paths == case.expect, f"{where}: {sorted(result.paths)} != {sorted(case.expect)}"


def test_corpus_is_big_enough() -> None:
    valid = [c for c in CASES if c.valid]
    invalid = [c for c in CASES if not c.valid]
    assert len(CASES) >= 40 and len(valid) >= 15 and len(invalid) >= 25
    assert all(c.expect for c in invalid), "every invalid case declares '# expect:'"
    assert not any(c.expect for c in valid)
    text = {c.id: c.path.read_text() for c in CASES}
    for marker in ("monitoring.coreos.com", "cert-manager.io", "security.istio.io"):
        assert any(marker in t for i, t in text.items() if i.startswith("valid/")), marker
        assert any(marker in t for i, t in text.items() if i.startswith("invalid/")), marker


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_builtin_engine(case: Case, builtin: Outcome) -> None:
    check_expectation(case, builtin[case.path])


@pytest.mark.kubeconform
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_kubeconform_engine(case: Case, kubeconform: Outcome) -> None:
    check_expectation(case, kubeconform[case.path])


@pytest.mark.kubeconform
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_engines_agree(case: Case, builtin: Outcome, kubeconform: Outcome) -> None:
    ours = [(r.resource.label, r.kubernetes_version, r.status, r.paths) for r in builtin[case.path]]
    theirs = [(r.resource.label, r.kubernetes_version, r.status, r.paths) for r in kubeconform[case.path]]
    assert ours == theirs
