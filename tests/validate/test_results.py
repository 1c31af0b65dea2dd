"""ValidationReport → records and Diagnostics (codes, locations, once-only YAML errors)."""

from __future__ import annotations

from pathlib import Path

from chartforge.validate import (
    CODE_NO_SCHEMA,
    CODE_SCHEMA,
    CODE_YAML,
    load_manifests,
    parse_manifest_text,
    validate_resources,
)
from tests.validate.conftest import CRD_DIR

MIXED = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  replicas: "2"
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx:1.27.0
          imagePullPolcy: Always
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w}
---
kind: [broken
---
apiVersion: v1
kind: ConfigMap
metadata: {name: fine}
"""


def test_report_records_and_diagnostics(tmp_path: Path, schema_cache: Path) -> None:
    manifest = tmp_path / "mixed.yaml"
    manifest.write_text(MIXED)
    report = validate_resources(
        load_manifests([manifest]),
        ["1.37", "1.31"],
        engine="builtin",
        crd_dir=CRD_DIR,
        cache_root=schema_cache,
    )
    assert report.kubernetes_versions == ("1.31", "1.37")
    assert not report.valid
    assert report.counts() == {"resources": 4, "invalid": 3, "valid": 1, "versions": 2, "checks": 8,
                               "failed_checks": 6}  # fmt: skip

    records = report.to_records()
    assert [(r["kind"], r["document_index"], r["valid"]) for r in records] == [
        ("Deployment", 0, False), ("Widget", 1, False), ("", 2, False), ("ConfigMap", 3, True),
    ]  # fmt: skip
    assert {e["path"] for e in records[0]["errors"]} == {
        "/spec/replicas", "/spec/template/spec/containers/0/imagePullPolcy",
    }  # fmt: skip
    assert records[0]["versions"] == {"1.31": "invalid", "1.37": "invalid"}

    diags = report.to_diagnostics(chart="web", environment="production")
    by_code = {
        code: [d for d in diags if d.code == code] for code in (CODE_SCHEMA, CODE_NO_SCHEMA, CODE_YAML)
    }
    assert len(by_code[CODE_SCHEMA]) == 4  # 2 fields × 2 versions
    assert len(by_code[CODE_NO_SCHEMA]) == 2
    assert len(by_code[CODE_YAML]) == 1  # once, not once per version
    replicas = next(d for d in diags if d.field == "/spec/replicas" and d.kubernetes_version == "1.31")
    assert (replicas.path, replicas.line, replicas.kind, replicas.name) == (
        str(manifest),
        6,
        "Deployment",
        "web",
    )
    assert (replicas.stage, replicas.chart, replicas.environment, replicas.severity) == (
        "validate", "web", "production", "error",
    )  # fmt: skip
    typo = next(d for d in diags if d.field.endswith("imagePullPolcy"))
    assert typo.line == 14 and typo.message == "unknown field 'imagePullPolcy'"
    yaml_error = by_code[CODE_YAML][0]
    assert yaml_error.kubernetes_version == "" and yaml_error.line == 20
    assert "Widget" in by_code[CODE_NO_SCHEMA][0].message

    checked = report.checked(chart="web", environment="production")
    assert len(checked) == 8 and {c.stage for c in checked} == {"validate"}


def test_helm_output_points_at_templates(schema_cache: Path) -> None:
    text = "---\n# Source: api/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: 1}\n"
    report = validate_resources(
        parse_manifest_text(text, "<helm template api production>"), ["1.34"], engine="builtin", crd_dir=CRD_DIR,
        cache_root=schema_cache,
    )  # fmt: skip
    (diag,) = report.to_diagnostics()
    assert (diag.path, diag.line, diag.field) == ("api/templates/cm.yaml", None, "/data/a")
    assert dict(diag.extra)["file"] == "<helm template api production>"
