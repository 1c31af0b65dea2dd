"""The policy corpus: each negative case folder violates exactly the checks in its expected.txt.

``expected.txt`` holds one ``CODE FIELD`` line per expected finding; the run must report exactly
those (code, field) pairs — the cases are the clean base workload with one thing broken, so
anything more is a false positive and anything less a missed violation. Positive cases must
produce no finding at all. A ``values.yaml`` next to a manifest is scanned as its values.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chartforge.manifests import load_manifests
from chartforge.policy import run_policy
from chartforge.yamlio import load_yaml
from tests.policy.conftest import case_dirs

NEGATIVE = case_dirs("negative")
POSITIVE = case_dirs("positive")


def _run(case: Path) -> list[tuple[str, str]]:
    values_file = case / "values.yaml"
    values = load_yaml(values_file) if values_file.exists() else None
    diagnostics = run_policy(
        load_manifests([case / "manifest.yaml"]),
        chart="web",
        environment="production",
        kubernetes_version="1.34",
        values=values,
        values_path=str(values_file),
    )
    for d in diagnostics:
        assert d.stage == "policy" and d.chart == "web" and d.environment == "production"
        assert d.kind and d.name and d.field, f"finding without a location: {d}"
        assert d.path.startswith("web/templates/") or d.kind == "Values", d.path
    return sorted((d.code, d.field) for d in diagnostics)


@pytest.mark.parametrize("case", NEGATIVE, ids=[p.name for p in NEGATIVE])
def test_negative_case(case: Path) -> None:
    expected = sorted(
        (code, field)
        for code, _, field in (
            line.partition(" ") for line in (case / "expected.txt").read_text().splitlines()
        )
        if code
    )
    assert expected, f"{case.name}/expected.txt is empty"
    assert _run(case) == expected


@pytest.mark.parametrize("case", POSITIVE, ids=[p.name for p in POSITIVE])
def test_positive_case(case: Path) -> None:
    assert _run(case) == []


def test_every_check_has_a_negative_case() -> None:
    from chartforge.policy import CHECKS

    covered = {
        line.split(" ")[0] for case in NEGATIVE for line in (case / "expected.txt").read_text().splitlines()
    }
    assert set(CHECKS) - covered == set()
