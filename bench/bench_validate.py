"""Benchmark: the built-in validation engine versus kubeconform on the same manifests.

Generates N core resources (Deployments, Services, ConfigMaps, PodDisruptionBudgets in equal
parts, ``helm template``-style with ``# Source:`` comments) into one multi-document file,
then times, side by side in one run (best of ``--repeat``):

- parsing alone (PyYAML C loader, once) and built-in validation alone;
- the built-in engine end to end (parse + validate);
- the kubeconform engine end to end (parse + write + kubeconform + map results back);
- plain ``kubeconform -strict`` on the same file, as a shell loop would run it;
- both engines over the whole supported range (7 versions, the file parsed once).

Usage: ``python bench/bench_validate.py [--resources 4000] [--repeat 3]``. Not a test: it
prints a table and never fails on numbers.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from chartforge import proc, tools
from chartforge.compile.catalog import load_catalog
from chartforge.kube import KubeVersion
from chartforge.validate import load_manifests, validate_resources
from chartforge.validate.builtin import BuiltinEngine
from chartforge.validate.kubeconform import KubeconformEngine
from chartforge.validate.schemas import SchemaStore

ROOT = Path(__file__).resolve().parents[1]
CRD_DIR = ROOT / "sources" / "crds"


def deployment(i: int) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": f"app-{i}", "app.kubernetes.io/part-of": "bench"}
    container = {
        "name": "app",
        "image": "registry.example.com/app:1.2.3",
        "ports": [{"containerPort": 8080, "name": "http"}],
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": "500m", "memory": "256Mi"},
        },
        "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "periodSeconds": 10},
        "readinessProbe": {"httpGet": {"path": "/ready", "port": "http"}},
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        "env": [
            {"name": "A", "value": "1"},
            {"name": "B", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
        ],
    }
    pod = {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": f"app-{i}", "namespace": "bench", "labels": labels},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {"metadata": {"labels": labels}, "spec": pod},
        },
    }


def service(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": f"app-{i}"},
        "spec": {"selector": {"app": f"app-{i}"}, "ports": [{"port": 80, "targetPort": "http"}]},
    }


def configmap(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": f"cfg-{i}"},
        "data": {"a": "1", "b": "x"},
    }


def pdb(i: int) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": f"app-{i}"},
        "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": f"app-{i}"}}},
    }


def generate(count: int) -> str:
    makers: list[Callable[[int], dict[str, Any]]] = [deployment, service, configmap, pdb]
    docs = (makers[i % len(makers)](i) for i in range(count))
    return "".join(
        f"---\n# Source: bench/templates/r{i}.yaml\n{yaml.safe_dump(d, sort_keys=False)}"
        for i, d in enumerate(docs)
    )


def best(repeat: int, fn: Callable[[], object]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=4000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--version", default="1.34")
    args = parser.parse_args()

    binary = tools.find_kubeconform()
    n = args.resources
    with tempfile.TemporaryDirectory(prefix="chartforge-bench-") as tmp:
        os.environ.setdefault("CHARTFORGE_CACHE", str(Path(tmp) / "cache"))
        manifest = Path(tmp) / "manifests.yaml"
        manifest.write_text(generate(n), encoding="utf-8")
        print(
            f"{n} resources, {manifest.stat().st_size / 1e6:.1f} MB, Kubernetes {args.version}, "
            f"{os.cpu_count()} cores, kubeconform: {binary or 'not found'}"
        )

        start = time.perf_counter()
        store = SchemaStore(args.version, crd_dir=CRD_DIR)
        for api_version, kind in {
            ("apps/v1", "Deployment"),
            ("v1", "Service"),
            ("v1", "ConfigMap"),
            ("policy/v1", "PodDisruptionBudget"),
        }:
            store.find(api_version, kind)
        print(f"cold schema bundling (4 kinds, one version): {time.perf_counter() - start:.3f} s")

        resources = load_manifests([manifest])
        builtin = BuiltinEngine()
        all_versions = [str(v) for v in load_catalog(CRD_DIR.parents[1]).kubernetes_versions]
        validate_resources(resources, all_versions, engine=builtin, crd_dir=CRD_DIR)  # warm: bundle + compile
        versions = [args.version]
        rows: list[tuple[str, float, int]] = [
            ("parse only (libyaml + direct build)", best(args.repeat, lambda: load_manifests([manifest])), n),
            (
                "builtin: validation only",
                best(
                    args.repeat,
                    lambda: validate_resources(resources, versions, engine=builtin, crd_dir=CRD_DIR),
                ),
                n,
            ),
            (
                "builtin: end to end",
                best(
                    args.repeat,
                    lambda: validate_resources(
                        load_manifests([manifest]), versions, engine=builtin, crd_dir=CRD_DIR
                    ),
                ),
                n,
            ),
        ]
        if binary:
            engine = KubeconformEngine(binary)
            location = f"{store.core_location}"
            plain = [
                binary,
                "-strict",
                "-summary",
                "-n",
                str(engine.workers),
                "-kubernetes-version",
                KubeVersion.parse(store.kubernetes_version).full,
                "-schema-location",
                location,
                str(manifest),
            ]
            rows += [
                (
                    "kubeconform engine: end to end",
                    best(
                        args.repeat,
                        lambda: validate_resources(
                            load_manifests([manifest]), versions, engine=engine, crd_dir=CRD_DIR
                        ),
                    ),
                    n,
                ),
                ("plain kubeconform -strict (one run)", best(args.repeat, lambda: proc.run(plain)), n),
            ]
        rows.append(
            (
                f"builtin: {len(all_versions)} versions, parse once",
                best(
                    args.repeat,
                    lambda: validate_resources(
                        load_manifests([manifest]), all_versions, engine=builtin, crd_dir=CRD_DIR
                    ),
                ),
                n * len(all_versions),
            )
        )
        if binary:
            rows.append(
                (
                    f"kubeconform engine: {len(all_versions)} versions",
                    best(
                        args.repeat,
                        lambda: validate_resources(
                            load_manifests([manifest]), all_versions, engine=engine, crd_dir=CRD_DIR
                        ),
                    ),
                    n * len(all_versions),
                )
            )

    width = max(len(r[0]) for r in rows)
    print(f"\n{'measure':<{width}}  {'seconds':>8}  {'checks/s':>10}")
    for label, seconds, checks in rows:
        print(f"{label:<{width}}  {seconds:>8.3f}  {checks / seconds:>10,.0f}")
    rate = {label: checks / seconds for label, seconds, checks in rows}
    if binary:
        e2e = rate["builtin: end to end"] / rate["kubeconform engine: end to end"]
        plain_ratio = rate["builtin: end to end"] / rate["plain kubeconform -strict (one run)"]
        multi = (
            rate[f"builtin: {len(all_versions)} versions, parse once"]
            / rate[f"kubeconform engine: {len(all_versions)} versions"]
        )
        print(f"\nbuiltin / kubeconform engine (end to end, 1 version): {e2e:.2f}x")
        print(f"builtin / plain kubeconform (end to end, 1 version):  {plain_ratio:.2f}x")
        print(f"builtin / kubeconform engine ({len(all_versions)} versions):           {multi:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
