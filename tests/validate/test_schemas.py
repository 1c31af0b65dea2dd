"""The schema store: versions, kubeconform file names, self-contained bundles, the cache."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chartforge.errors import UserError
from chartforge.validate.schemas import (
    SchemaStore,
    bundle_schema,
    core_schema_name,
    crd_schema_relpath,
    default_cache_root,
    normalize_version,
    supported_versions,
)
from tests.validate.conftest import CRD_DIR


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for v in node.values() for r in refs(v)]
    if isinstance(node, list):
        return [r for v in node for r in refs(v)]
    return []


def test_supported_versions_cover_the_catalog_range() -> None:
    versions = supported_versions()
    assert {f"1.{m}" for m in range(31, 38)} <= set(versions)
    assert list(versions) == sorted(versions, key=lambda v: tuple(map(int, v.split("."))))


@pytest.mark.parametrize("given", ["1.34", "v1.34", "1.34.0", " v1.34.0 ", "v1.34.2"])
def test_version_spellings(given: str) -> None:
    assert normalize_version(given) == "1.34"


@pytest.mark.parametrize("given", ["1.20", "2.0", "latest", "1.34.1.0"])
def test_unknown_version_is_a_clear_user_error(given: str) -> None:
    with pytest.raises(UserError, match=r"is not supported.*supported: 1\.25 … 1\.37"):
        normalize_version(given)


@pytest.mark.parametrize(
    ("api_version", "kind", "name", "crd"),
    [("apps/v1", "Deployment", "deployment-apps-v1", "apps/deployment_v1.json"),
     ("v1", "Service", "service-v1", "v1/service_v1.json"),
     ("networking.k8s.io/v1", "NetworkPolicy", "networkpolicy-networking-v1", "networking.k8s.io/networkpolicy_v1.json"),
     ("monitoring.coreos.com/v1", "ServiceMonitor", "servicemonitor-monitoring-v1",
      "monitoring.coreos.com/servicemonitor_v1.json")],
)  # fmt: skip
def test_kubeconform_file_names(api_version: str, kind: str, name: str, crd: str) -> None:
    assert core_schema_name(api_version, kind) == name
    assert crd_schema_relpath(api_version, kind) == crd


def test_bundle_inlines_definitions_and_drops_annotations() -> None:
    definitions = {
        "A": {
            "description": "d",
            "properties": {"description": {"$ref": "#/$defs/B"}},
            "x-kubernetes-map-type": "x",
        },
        "B": {"type": "string", "enum": ["description"]},
        "Self": {"items": {"$ref": "#/$defs/Self"}},
        "Unused": {"type": "integer"},
    }
    schema = {
        "$id": "https://k8s/x",
        "properties": {
            "a": {"$ref": "/api/_definitions.json#/$defs/A"},
            "s": {"$ref": "/api/_definitions.json#/$defs/Self"},
        },
    }
    bundled = bundle_schema(schema, definitions)
    assert sorted(bundled["$defs"]) == ["A", "B", "Self"]
    assert bundled["$defs"]["A"] == {"properties": {"description": {"$ref": "#/$defs/B"}}}  # property kept
    assert bundled["$defs"]["B"]["enum"] == ["description"]
    assert "$id" not in bundled and all(r.startswith("#/$defs/") for r in refs(bundled))


def test_a_damaged_cached_schema_is_rebuilt_not_a_crash(tmp_path: Path) -> None:
    first = SchemaStore("1.33", crd_dir=None, cache_root=tmp_path).find("apps/v1", "StatefulSet")
    assert first is not None
    good = first.path.read_text()
    first.path.write_text(
        good[: len(good) // 2]
    )  # a truncated cache file (disk full, killed writer, tampering)
    again = SchemaStore("1.33", crd_dir=None, cache_root=tmp_path).find("apps/v1", "StatefulSet")
    assert again is not None and again.path == first.path
    assert json.loads(again.path.read_text()) == json.loads(good)


def test_store_builds_lazily_atomically_and_caches(tmp_path: Path) -> None:
    store = SchemaStore("1.34", crd_dir=CRD_DIR, cache_root=tmp_path)
    assert store.core_dir.name == "v1.34.0-standalone-strict"
    ref = store.find("apps/v1", "Deployment")
    assert ref is not None and ref.origin == "core" and ref.path == store.core_dir / "deployment-apps-v1.json"
    assert [p.name for p in store.core_dir.iterdir()] == ["deployment-apps-v1.json"]  # only what was asked
    schema = json.loads(ref.path.read_text())
    assert schema["$schema"].endswith("2020-12/schema")
    assert refs(schema) and all(r.removeprefix("#/$defs/") in schema["$defs"] for r in refs(schema))
    mtime = ref.path.stat().st_mtime_ns
    again = SchemaStore("1.34.0", crd_dir=CRD_DIR, cache_root=tmp_path).find("apps/v1", "Deployment")
    assert again is not None and again.path.stat().st_mtime_ns == mtime  # reused, not rebuilt
    assert store.core_location.endswith("/{{.NormalizedKubernetesVersion}}-standalone{{.StrictSuffix}}/"
                                        "{{.ResourceKind}}{{.KindSuffix}}.json")  # fmt: skip


def test_store_finds_crds_and_reports_missing_schemas(tmp_path: Path) -> None:
    store = SchemaStore("1.37", crd_dir=CRD_DIR, cache_root=tmp_path)
    crd = store.find("cert-manager.io/v1", "Certificate")
    assert (
        crd is not None
        and crd.origin == "crd"
        and crd.path == CRD_DIR / "cert-manager.io" / "certificate_v1.json"
    )
    assert store.find("policy/v1beta1", "PodDisruptionBudget") is None  # removed in 1.25
    assert store.served_as("PodDisruptionBudget") == ("policy/v1",)
    assert store.served_as("Service") == ("v1",) and store.served_as("Widget") == ()
    assert store.find("monitoring.coreos.com/v1", "Alertmanager") is None  # not vendored
    assert (
        SchemaStore("1.37", crd_dir=None, cache_root=tmp_path).find("cert-manager.io/v1", "Certificate")
        is None
    )


def test_removed_api_version_depends_on_the_kubernetes_version(tmp_path: Path) -> None:
    assert SchemaStore("1.31", crd_dir=None, cache_root=tmp_path).find("flowcontrol.apiserver.k8s.io/v1beta3",
                                                                       "FlowSchema")  # fmt: skip
    assert not SchemaStore("1.32", crd_dir=None, cache_root=tmp_path).find("flowcontrol.apiserver.k8s.io/v1beta3",
                                                                           "FlowSchema")  # fmt: skip


def test_cache_root_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CHARTFORGE_CACHE", str(tmp_path / "cf"))
    assert default_cache_root() == tmp_path / "cf"
    monkeypatch.delenv("CHARTFORGE_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_root() == tmp_path / "xdg" / "chartforge"
    store = SchemaStore("1.33", crd_dir=None)
    assert store.cache_root.parent == tmp_path / "xdg" / "chartforge" / "k8s-schemas"


def test_crd_schemas_are_vendored_with_provenance() -> None:
    shared = CRD_DIR.parents[1].parent / "shared" / "crd-schemas"
    provenance = (CRD_DIR / "PROVENANCE.md").read_text()
    commit = (CRD_DIR / "SOURCE_COMMIT").read_text().strip()
    assert "datreeio/CRDs-catalog" in provenance and commit in provenance and len(commit) == 40
    vendored = sorted(p.relative_to(CRD_DIR).as_posix() for p in CRD_DIR.glob("*/*.json"))
    assert len(vendored) >= 14
    if shared.is_dir():  # the copy is exact
        for rel in vendored:
            assert (CRD_DIR / rel).read_bytes() == (shared / rel).read_bytes(), rel
