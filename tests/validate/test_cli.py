"""``chartforge validate`` end to end, in a subprocess: exit codes, JSON, JUnit, stdin."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.validate.conftest import CORPUS


@pytest.mark.parametrize("engine", ["builtin", pytest.param("kubeconform", marks=pytest.mark.kubeconform)])
def test_valid_corpus_exits_zero(engine: str, schema_cache: Path, request: pytest.FixtureRequest) -> None:
    if engine == "kubeconform":
        request.getfixturevalue("kubeconform_bin")
    done = run_cli("validate", "--manifests", str(CORPUS / "valid" / "deployment-full.yaml"),
                   str(CORPUS / "valid" / "servicemonitor.yaml"), "--engine", engine)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr.rstrip().endswith(
        f"chartforge validate: 7 Kubernetes version(s), engine {engine}, 2 object(s) — 14 checks, 0 errors, 0 warnings"
    )


def test_json_output_one_record_per_resource(schema_cache: Path) -> None:
    done = run_cli("validate", "-m", str(CORPUS / "invalid" / "wrong-type-replicas-string.yaml"),
                   "-m", str(CORPUS / "valid" / "rbac.yaml"), "-k", "1.34", "-k", "1.37",
                   "--engine", "builtin", "--output", "json")  # fmt: skip
    assert done.returncode == 1, done.stderr
    data = json.loads(done.stdout)
    assert data["matrix"]["engine"] == "builtin" and data["matrix"]["kubernetes_versions"] == ["1.34", "1.37"]
    assert data["failed"] is True and data["matrix"]["checked"] == 8  # 4 objects × 2 versions
    first = data["resources"][0]
    assert {k: first[k] for k in ("document_index", "apiVersion", "kind", "name", "valid")} == {
        "document_index": 0, "apiVersion": "apps/v1", "kind": "Deployment", "name": "web", "valid": False,
    }  # fmt: skip
    assert first["file"].endswith("wrong-type-replicas-string.yaml")
    assert [(e["kubernetes_version"], e["path"]) for e in first["errors"]] == [
        ("1.34", "/spec/replicas"), ("1.37", "/spec/replicas"),
    ]  # fmt: skip
    assert [r["kind"] for r in data["resources"][1:]] == ["ServiceAccount", "Role", "RoleBinding"]
    assert all(r["valid"] for r in data["resources"][1:])
    assert data["summary"]["error"] == 2


def test_junit_report_and_table(tmp_path: Path, schema_cache: Path) -> None:
    junit = tmp_path / "out" / "validate.xml"
    done = run_cli("validate", "-m", str(CORPUS / "invalid" / "removed-api-pdb-policy-v1beta1.yaml"),
                   "-m", str(CORPUS / "valid" / "configmap-and-secret.yaml"), "-k", "1.31",
                   "--engine", "builtin", "--junit", str(junit))  # fmt: skip
    assert done.returncode == 1
    assert "CF-VALIDATE-NO-SCHEMA" in done.stderr and "PodDisruptionBudget" in done.stderr
    assert "1 error, 0 warnings in 1 group" in done.stderr
    root = ET.parse(junit).getroot()
    assert (root.tag, root.get("tests"), root.get("failures")) == ("testsuites", "3", "1")
    (suite,) = root.findall("testsuite")
    assert suite.get("name") == "validate 1.31"
    failed = [c for c in suite.findall("testcase") if c.find("failure") is not None]
    assert [c.get("name") for c in failed] == [
        f"PodDisruptionBudget/api ({CORPUS / 'invalid' / 'removed-api-pdb-policy-v1beta1.yaml'})"
    ]
    failure = failed[0].find("failure")
    assert failure is not None and failure.get("type") == "CF-VALIDATE-NO-SCHEMA"
    assert "Kubernetes 1.31 serves PodDisruptionBudget as policy/v1" in (failure.get("message") or "")


def test_stdin_and_helm_sources(schema_cache: Path) -> None:
    text = "---\n# Source: api/templates/sa.yaml\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a}\nfoo: 1\n"
    done = run_cli("validate", "--manifests", "-", "-k", "1.35", "--engine", "builtin", "-o", "json",
                   input_text=text)  # fmt: skip
    assert done.returncode == 1
    (record,) = json.loads(done.stdout)["resources"]
    assert (record["file"], record["source"], record["errors"][0]["path"]) == (
        "<stdin>", "api/templates/sa.yaml", "/foo",
    )  # fmt: skip


def test_usage_and_tool_errors(tmp_path: Path, schema_cache: Path) -> None:
    manifest = str(CORPUS / "valid" / "rbac.yaml")
    bad_version = run_cli("validate", "-m", manifest, "-k", "1.19", "--engine", "builtin")
    assert bad_version.returncode == 2 and "'1.19' is not supported" in bad_version.stderr
    assert "Traceback" not in bad_version.stderr
    missing = run_cli("validate", "-m", str(tmp_path / "nope.yaml"), "--engine", "builtin")
    assert missing.returncode == 1 and "no such file or directory" in missing.stderr
    broken_tool = run_cli("validate", "-m", manifest, "-k", "1.34", "--engine", "kubeconform",
                          "--kubeconform", "/bin/false")  # fmt: skip
    assert broken_tool.returncode == 3 and "kubeconform" in broken_tool.stderr
    no_crds = run_cli("validate", "-m", manifest, "--crd-dir", str(tmp_path / "none"), "--engine", "builtin")
    assert no_crds.returncode == 1 and "CRD schema directory not found" in no_crds.stderr
