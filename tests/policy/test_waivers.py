"""Waivers: matching, staleness, and file errors that name file:line."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from chartforge.diagnostics import Diagnostic, has_errors
from chartforge.errors import SourceError
from chartforge.manifests import load_manifests
from chartforge.policy import apply_waivers, load_waivers, run_policy, stale_waivers
from tests.policy.conftest import POLICY_CASES

CASE = POLICY_CASES / "negative" / "image-latest" / "manifest.yaml"


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "waivers.yaml"
    path.write_text(text)
    return path


def diag(code: str = "IMAGE-LATEST", field: str = "spec.x[web].image") -> Diagnostic:
    return Diagnostic(
        severity="error",
        code=code,
        message="m",
        stage="policy",
        chart="web",
        environment="prod",
        kind="Deployment",
        name="web",
        field=field,
    )


def test_waived_finding_stays_in_the_report_with_its_reason(tmp_path: Path) -> None:
    waivers = load_waivers(
        write(
            tmp_path,
            "waivers:\n"
            "  - id: IMAGE-LATEST\n    kind: Deployment\n    name: w*\n    environment: production\n"
            "    field: spec.template.spec.containers[web].image\n    reason: vendor ships latest only\n",
        )
    )
    manifests = load_manifests([CASE])
    found = run_policy(manifests, chart="web", environment="production", waivers=waivers)
    assert [(d.code, d.waived, d.waiver_reason) for d in found] == [
        ("IMAGE-LATEST", True, "vendor ships latest only")
    ]
    assert dict(found[0].extra)["waiver"] == f"{waivers.path}:2"
    assert not has_errors(found)
    assert stale_waivers(waivers, found, environments=["production"]) == []
    # another environment: the waiver does not apply there
    other = run_policy(manifests, chart="web", environment="staging", waivers=waivers)
    assert [(d.code, d.waived) for d in other] == [("IMAGE-LATEST", False)]


def test_unused_waiver_is_reported_stale_with_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "# header\nwaivers:\n"
        "  - {id: IMAGE-LATEST, kind: Deployment, name: web, reason: used}\n"
        "  - {id: PDB-MISSING, kind: StatefulSet, name: db, reason: fixed long ago}\n"
        "  - {id: CKV_K8S_43, kind: Deployment, name: web, reason: digests later}\n"
        "  - {id: PDB-MISSING, kind: StatefulSet, name: db, chart: other, reason: other chart}\n",
    )
    waivers = load_waivers(path)
    diagnostics = apply_waivers([diag()], waivers)
    stale = stale_waivers(waivers, diagnostics, checkov=False, charts=["web"])
    assert [(d.severity, d.code, d.line, d.path) for d in stale] == [
        ("warning", "WAIVER-STALE", 4, str(path))
    ]
    assert "PDB-MISSING" in stale[0].message and "StatefulSet/db" in stale[0].message
    with_checkov = stale_waivers(waivers, diagnostics, checkov=True, charts=["web"])
    assert [d.line for d in with_checkov] == [4, 5]
    assert [d.line for d in stale_waivers(waivers, diagnostics)] == [4, 5, 6]


def test_field_globs_treat_brackets_literally(tmp_path: Path) -> None:
    waivers = load_waivers(
        write(
            tmp_path,
            "waivers:\n  - {id: IMAGE-LATEST, kind: Deployment, name: web, field: 'spec.x[w*', reason: r}\n",
        )
    )
    assert apply_waivers([diag()], waivers)[0].waived
    assert not apply_waivers([diag(field="spec.x[a].image")], waivers)[0].waived


def test_waiver_matches_checkov_ids_and_namespaces(tmp_path: Path) -> None:
    waivers = load_waivers(
        write(tmp_path, "waivers:\n  - {id: CKV_K8S_43, kind: '*', name: '*', namespace: apps, reason: r}\n")
    )
    hit = replace(diag(code="CKV_K8S_43"), extra=(("namespace", "apps"),))
    miss = replace(diag(code="CKV_K8S_43"), extra=(("namespace", "other"),))
    assert [d.waived for d in apply_waivers([hit, miss], waivers)] == [True, False]


@pytest.mark.parametrize(
    ("text", "line", "expected"),
    [
        ("waivers:\n  - id: IMAGE-LATEST\n    kind: Deployment\n    name: web\n", 2, "'reason' is required"),
        (
            "waivers:\n  - id: IMAGE-LATEST\n    kind: Deployment\n    name: web\n    reason: '  '\n",
            5,
            "'reason'",
        ),
        ("waivers:\n  - kind: Deployment\n    name: web\n    reason: r\n", 2, "'id' is required"),
        (
            "waivers:\n  - {id: IMAGE-LATST, kind: Deployment, name: web, reason: r}\n",
            2,
            "did you mean 'IMAGE-LATEST'",
        ),
        ("waivers:\n  - id: PSS-SECCOMP\n    kind: Pod\n    name: x\n    reasn: r\n", 5, "unknown key"),
        (
            "waivers:\n  - id: PSS-SECCOMP\n    kind: Pod\n    name: [x]\n    reason: r\n",
            4,
            "must be a string",
        ),
        ("waiver:\n  - {}\n", 1, "expected a mapping with one key"),
        ("waivers: {id: x}\n", 1, "'waivers' must be a list"),
        ("waivers:\n  - id: [\n", 3, "malformed YAML"),
    ],
)
def test_bad_waiver_files_name_file_and_line(tmp_path: Path, text: str, line: int, expected: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SourceError) as info:
        load_waivers(path)
    assert info.value.path == str(path)
    assert info.value.line == line
    assert expected in info.value.render()


def test_every_problem_is_counted(tmp_path: Path) -> None:
    path = write(tmp_path, "waivers:\n  - {id: NOPE, kind: K, name: n, reason: r}\n  - {kind: K, name: n}\n")
    with pytest.raises(SourceError) as info:
        load_waivers(path)
    assert "2 more" in info.value.render()
    assert f"{path}:3" in info.value.render()


def test_missing_and_empty_files(tmp_path: Path) -> None:
    assert load_waivers(tmp_path / "absent.yaml", missing_ok=True).items == ()
    with pytest.raises(SourceError, match="file not found"):
        load_waivers(tmp_path / "absent.yaml")
    assert load_waivers(write(tmp_path, "# only a comment\n")).items == ()
    assert load_waivers(write(tmp_path, "waivers: []\n")).items == ()
