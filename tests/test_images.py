"""``chartforge images``: the deduplicated image inventory of every rendered environment (issue 12).

A small catalog (the build base plus workloads written inline) is built and rendered by the real
helm; its text and JSON inventories are golden files (``--update-golden`` rewrites them). The
bundled catalog is checked against an independent walk of its renderings.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from chartforge.compile.build import build
from chartforge.images import ImageUse, collect, list_images, manifest_images
from chartforge.manifests import Manifest
from tests.catalog.conftest import ENVIRONMENTS, catalog, render_text
from tests.conftest import CASES, ROOT, copy_tree, require_tool, run_cli

GOLDEN = Path(__file__).parent / "golden" / "images"
DIGEST = "sha256:" + "4f" * 32

#: Workloads added to the build base: a Deployment with an init container and a digest-pinned
#: sidecar (alpha, every environment), a CronJob and an operator resource (beta, production only).
WORKLOADS = {
    "charts/alpha/templates/deployment.yaml.j2": f"""\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{{{ .Release.Name }}}}-alpha
spec:
  replicas: {{{{ .Values.replicaCount }}}}
  selector: {{matchLabels: {{app: alpha}}}}
  template:
    metadata: {{labels: {{app: alpha}}}}
    spec:
      initContainers:
        - name: migrate
          image: "docker.io/library/{{{{ .Values.image.repository }}}}:{{{{ .Values.image.tag }}}}"
      containers:
        - name: web
          image: "docker.io/library/{{{{ .Values.image.repository }}}}:{{{{ .Values.image.tag }}}}"
        - name: proxy
          image: docker.io/envoyproxy/envoy:v1.32.1@{DIGEST}
""",
    "charts/beta/templates/cronjob.yaml.j2": """\
apiVersion: batch/v1
kind: CronJob
metadata:
  name: {{ .Release.Name }}-beta-backup
spec:
  schedule: "0 1 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers:
            - name: dump
              image: docker.io/library/busybox:1.37.0
---
apiVersion: example.com/v1
kind: Collector
metadata:
  name: {{ .Release.Name }}-beta
spec:
  image: ghcr.io/example/collector:0.9.0
  exporters:
    - name: archive
      image: docker.io/library/busybox:1.37.0
""",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require_tool("helm")
    project = copy_tree(CASES / "build" / "base", tmp_path_factory.mktemp("images") / "demo")
    for rel, text in WORKLOADS.items():
        (project / "sources" / rel).write_text(text, encoding="utf-8")
    build(project)
    return project


def _golden(name: str, got: str, update: bool) -> None:
    path = GOLDEN / name
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(got, encoding="utf-8")
    assert got == path.read_text(encoding="utf-8"), f"{name} changed (pytest --update-golden if intended)"


def test_text_inventory_is_golden(demo: Path, update_golden: bool) -> None:
    result = run_cli("-C", str(demo), "images")
    assert result.returncode == 0, result.stderr
    _golden("demo.txt", result.stdout, update_golden)
    assert "5 images in development, production" in result.stderr


def test_json_inventory_is_golden(demo: Path, update_golden: bool) -> None:
    result = run_cli("-C", str(demo), "images", "--output", "json")
    assert result.returncode == 0, result.stderr
    _golden("demo.json", result.stdout, update_golden)
    report = json.loads(result.stdout)
    by_ref = {i["image"]: i for i in report["images"]}
    envoy = by_ref[f"docker.io/envoyproxy/envoy:v1.32.1@{DIGEST}"]
    assert (envoy["repository"], envoy["tag"], envoy["digest"]) == (
        "docker.io/envoyproxy/envoy",
        "v1.32.1",
        DIGEST,
    )
    # production pins nginx 1.27.4, development keeps the default 1.27.3: two references
    assert {r for r in by_ref if "nginx" in r} == {
        "docker.io/library/nginx:1.27.3",
        "docker.io/library/nginx:1.27.4",
    }
    busybox = by_ref[
        "docker.io/library/busybox:1.37.0"
    ]  # one entry for the CronJob and the operator resource
    assert {(u["kind"], u["container"]) for u in busybox["uses"]} == {
        ("CronJob", "dump"),
        ("Collector", "spec.exporters[archive].image"),
    }


def test_one_environment_and_an_unknown_one(demo: Path) -> None:
    result = run_cli("-C", str(demo), "images", "--env", "development", "-o", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["environments"] == ["development"]
    assert not any("busybox" in i["image"] for i in report["images"])  # beta is off in development
    bad = run_cli("-C", str(demo), "images", "--env", "prod")
    assert (
        bad.returncode == 2 and "unknown environment 'prod'" in bad.stderr and "Traceback" not in bad.stderr
    )


def test_deduplicates_and_keeps_every_use() -> None:
    a = ImageUse("c", "production", "Deployment", "w", "app")
    b = ImageUse("c", "staging", "Deployment", "w", "app")
    [image] = collect([("r/x:1", b), ("r/x:1", a), ("r/x:1", a)])
    assert image.uses == (a, b) and image.environments == ("production", "staging")


def test_operator_resource_and_pod_images() -> None:
    jaeger = Manifest.of({"apiVersion": "jaegertracing.io/v1", "kind": "Jaeger", "metadata": {"name": "j"},
                       "spec": {"collector": {"image": "j/collector:1"}, "query": {"replicas": 2}}})  # fmt: skip
    job = Manifest.of({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}, "spec": {"template": {"spec": {
        "initContainers": [{"name": "init", "image": "i:1"}], "containers": [{"name": "main", "image": "m:1"}]}}}})  # fmt: skip
    assert list(manifest_images(jaeger)) == [("spec.collector.image", "j/collector:1")]
    assert list(manifest_images(job)) == [("init", "i:1"), ("main", "m:1")]


def _pod_images(objects: list[dict[str, Any]]) -> set[str]:
    """An independent walk: every container image of every pod template and the operator images."""
    found = set()
    for obj in objects:
        spec = obj.get("spec") or {}
        if obj["kind"] == "CronJob":
            spec = spec["jobTemplate"]["spec"]
        pod = (spec.get("template") or {}).get("spec") or {}
        for key in ("initContainers", "containers"):
            found |= {c["image"] for c in pod.get(key, [])}
    return found


def test_bundled_catalog_inventory_covers_every_rendering() -> None:
    require_tool("helm")
    result = list_images(ROOT)
    refs = [i.reference for i in result.images]
    assert refs == sorted(set(refs)) and result.environments == ENVIRONMENTS
    expected: set[str] = set()
    for env in ENVIRONMENTS:
        objects = [d for d in yaml.safe_load_all(render_text(catalog().umbrella, env)) if d]
        expected |= _pod_images(objects)
        expected |= {o["spec"]["image"] for o in objects if o["kind"] == "OpenTelemetryCollector"}
    assert set(refs) == expected | {r for r in refs if "jaegertracing" in r}
    uses = {(u.chart, u.kind, u.container) for i in result.images for u in i.uses}
    assert ("mongodb-sharded", "CronJob", "backup") in uses  # CronJob job templates
    assert ("redis-cluster", "StatefulSet", "prepare") in uses  # init containers
    assert ("observability", "OpenTelemetryCollector", "spec.image") in uses  # operator resources


def test_release_workflow_scans_the_inventory(demo: Path) -> None:
    """The example workflow scans what `chartforge images --output json` lists, by the keys it prints."""
    workflow = yaml.safe_load((ROOT / "ci" / "github-release.yml").read_text(encoding="utf-8"))
    steps = workflow["jobs"]["release"]["steps"]
    names = [s.get("name", s.get("uses", "")) for s in steps]
    runs = [str(s.get("run", "")) for s in steps]
    inventory = next(i for i, r in enumerate(runs) if "chartforge images --output json" in r)
    scan = next(i for i, r in enumerate(runs) if "trivy image" in r)
    release = next(i for i, r in enumerate(runs) if "chartforge release" in r)
    assert inventory < scan < release, names  # nothing is published before the scan passes
    assert "jq -r '.images[].image'" in runs[scan] and "--exit-code 1" in runs[scan]
    report = json.loads(run_cli("-C", str(demo), "images", "--output", "json").stdout)
    assert all(isinstance(i["image"], str) and i["charts"] and i["environments"] for i in report["images"])
