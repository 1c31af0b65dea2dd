"""checkov integration: real checkov on real manifests (slow: ~3 s per run), plus its parsing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chartforge.errors import ToolNotFound
from chartforge.manifests import Manifest, load_manifests
from chartforge.policy import CheckovBatch, load_waivers, run_checkov, stale_waivers
from chartforge.policy.checkov import _failed_checks, field_path
from tests.conftest import require_tool
from tests.policy.conftest import CLEAN, POLICY_CASES

PRIVILEGED = POLICY_CASES / "negative" / "pss-privileged" / "manifest.yaml"


@pytest.mark.slow
def test_clean_manifest_passes_checkov() -> None:
    require_tool("checkov")
    batch = CheckovBatch(load_manifests([CLEAN]), chart="web", environment="production")
    assert run_checkov([batch]) == []


@pytest.mark.slow
def test_violations_map_back_to_object_field_and_context(tmp_path: Path) -> None:
    require_tool("checkov")
    batches = [
        CheckovBatch(load_manifests([CLEAN]), chart="web", environment="staging"),
        CheckovBatch(
            load_manifests([PRIVILEGED]), chart="web", environment="production", kubernetes_version="1.34"
        ),
    ]
    found = run_checkov(batches)
    assert [(d.code, d.environment, d.kind, d.name, d.field, d.path) for d in found] == [
        (
            "CKV_K8S_16",
            "production",
            "Deployment",
            "web",
            "spec.template.spec.containers[web].securityContext.privileged",
            "web/templates/deployment.yaml",
        )
    ]
    assert found[0].kubernetes_version == "1.34" and found[0].stage == "policy" and not found[0].waived
    assert dict(found[0].extra)["checker"] == "checkov"
    waivers_file = tmp_path / "waivers.yaml"
    waivers_file.write_text(
        "waivers:\n  - {id: CKV_K8S_16, kind: Deployment, name: web, reason: needs /dev/fuse}\n"
    )
    waivers = load_waivers(waivers_file)
    waived = run_checkov(batches, waivers=waivers)
    assert [(d.code, d.waived, d.waiver_reason) for d in waived] == [("CKV_K8S_16", True, "needs /dev/fuse")]
    assert stale_waivers(waivers, waived) == []


@pytest.mark.slow
def test_release_namespace_is_filled_in_for_checkov() -> None:
    """Helm output has no namespace; checkov would flag the default namespace (CKV_K8S_21)."""
    require_tool("checkov")
    objects = [dict(m.obj) for m in load_manifests([CLEAN])]
    for obj in objects:
        obj["metadata"] = {k: v for k, v in obj["metadata"].items() if k != "namespace"}
    manifests = [Manifest.of(obj) for obj in objects]
    assert {d.code for d in run_checkov([CheckovBatch(manifests)])} == {"CKV_K8S_21"}
    assert run_checkov([CheckovBatch(manifests, namespace="apps")]) == []


def test_missing_checkov_is_a_tool_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHECKOV", str(tmp_path / "no-checkov"))
    with pytest.raises(ToolNotFound):
        run_checkov([CheckovBatch(load_manifests([CLEAN]))])
    assert run_checkov([]) == []  # nothing to scan: checkov is not needed


def test_field_paths_resolve_container_names() -> None:
    obj = {"spec": {"containers": [{"name": "a"}, {"image": "x"}]}}
    assert field_path(obj, "spec/containers/[0]/image") == "spec.containers[a].image"
    assert field_path(obj, "spec/containers/[1]/image") == "spec.containers[1].image"
    assert field_path(obj, "resource_type") == ""


def test_report_shapes() -> None:
    check = {"check_id": "CKV_K8S_8", "file_path": "/b0000-o00000.yaml"}
    single = {"check_type": "kubernetes", "results": {"failed_checks": [check]}}
    assert _failed_checks(json.dumps(single)) == [check]
    assert _failed_checks(
        json.dumps([single, {"check_type": "secrets", "results": {"failed_checks": [{}]}}])
    ) == [check]
    assert _failed_checks(json.dumps({"passed": 0, "failed": 0, "resource_count": 0})) == []
    with pytest.raises(ValueError):
        _failed_checks("no json here")
