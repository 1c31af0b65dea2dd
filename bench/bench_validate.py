"""Benchmark: the built-in validation engine versus kubeconform on the same manifests.

Generates N core resources (Deployments, Services, ConfigMaps, PodDisruptionBudgets in equal
parts, ``helm template``-style with ``# Source:`` comments) into one multi-document file,
then times, side by side in one run (best of ``--repeat``):

- parsing alone, as chartforge parses (``yaml_rs`` for the documents :mod:`chartforge.yamlfast`
  proves it reads as KubeLoader does, KubeLoader for the rest; a stream this large on two cores
  when one is idle, :mod:`chartforge.forkwork`), on one core, and with KubeLoader for every
  document (the parser before; same objects), paired;
- built-in validation alone;
- the built-in engine end to end, on one core too, and with its validators compiled again;
- the kubeconform engine end to end (parse + write + kubeconform + map results back);
- plain ``kubeconform -strict`` on the same file, as a shell loop would run it;
- the whole ``chartforge validate --engine builtin`` command, a new process each time;
- both engines over the whole supported range (7 versions, the file parsed once).

What "end to end" holds on each side (the issue's target compares the first two):

- ``builtin: end to end``: in this Python process (interpreter started, modules imported, the
  validators compiled in an earlier round, as in a ``chartforge check`` that validates many
  renderings): read the file, split, pre-scan, parse, build the records, validate, the report
  with its results in order. No interpreter start-up, no output written.
- ``plain kubeconform -strict``: a new process each time: start-up, read, parse, the 4 schemas
  read from the local cache (no network) and compiled, validation on ``-n`` workers (one per
  CPU), a one-line summary.
- ``builtin: end to end, validators compiled again``: the first, plus reading and compiling the
  schemas as kubeconform does in every run.
- ``chartforge validate --engine builtin`` (whole command): a new process each time, like the
  plain kubeconform run: interpreter start-up, imports, the CLI, JSON records of every resource
  written (to /dev/null). Bytecode is written or not as the environment says
  (``PYTHONDONTWRITEBYTECODE``, printed).

Usage: ``python bench/bench_validate.py [--resources 4000] [--repeat 3]``. Not a test: it
prints a table and never fails on numbers. The measures run interleaved (A B C … A B C …), the
best of ``--repeat`` kept for each, so a change of machine load hits them all alike; the load
average is printed before and after.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from chartforge import forkwork, manifests, proc, tools, yamlfast, yamlload
from chartforge.compile.catalog import load_catalog
from chartforge.documents import split_documents
from chartforge.kube import KubeVersion
from chartforge.validate import builtin as builtin_engine
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


def interleaved(
    repeat: int, measures: list[tuple[str, Callable[[], object], int]]
) -> list[tuple[str, float, int]]:
    """Run every measure once per round, ``repeat`` rounds; the best time of each."""
    best = [float("inf")] * len(measures)
    for _ in range(repeat):
        for i, (_, fn, _) in enumerate(measures):
            start = time.perf_counter()
            fn()
            best[i] = min(best[i], time.perf_counter() - start)
    return [(label, seconds, checks) for (label, _, checks), seconds in zip(measures, best, strict=True)]


def one_core(fn: Callable[[], object]) -> Callable[[], object]:
    """``fn`` with the parse kept in this process (``CHARTFORGE_PARSE_FORK=never``)."""

    def run() -> object:
        before = os.environ.get(forkwork.MODE_ENV)
        os.environ[forkwork.MODE_ENV] = "never"
        try:
            return fn()
        finally:
            if before is None:
                del os.environ[forkwork.MODE_ENV]
            else:
                os.environ[forkwork.MODE_ENV] = before

    return run


def recompiled(fn: Callable[[], object]) -> Callable[[], object]:
    """``fn`` with the built-in engine's compiled validators dropped first (read and compiled again)."""

    def run() -> object:
        builtin_engine._COMPILED.clear()
        return fn()

    return run


def kubeloader_only(path: Path) -> object:
    """``load_manifests`` with KubeLoader for every document (the parser before yamlfast)."""
    fast = manifests.load_document
    manifests.load_document = yamlload.load_document
    try:
        return load_manifests([path])
    finally:
        manifests.load_document = fast


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
        load_before = os.getloadavg()
        print(f"load average: {' '.join(f'{x:.2f}' for x in load_before)}; fork mode: "
              f"{os.environ.get(forkwork.MODE_ENV, 'auto')} (two cores now: {forkwork.usable()}); "
              f"PYTHONDONTWRITEBYTECODE={os.environ.get('PYTHONDONTWRITEBYTECODE', '')!r}")  # fmt: skip

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
        chunks = [c.text for c in split_documents(manifest.read_text(encoding="utf-8"))]
        fast = sum(yamlfast.load_fast(c) is not None for c in chunks)
        print(f"documents read by yaml_rs: {fast}, by KubeLoader: {len(chunks) - fast}")
        assert kubeloader_only(manifest) == resources  # same records (and objects) either way
        assert [m.obj for m in resources] == [m.obj for m in kubeloader_only(manifest)]  # type: ignore[attr-defined]
        builtin = BuiltinEngine()
        all_versions = [str(v) for v in load_catalog(CRD_DIR.parents[1]).kubernetes_versions]
        validate_resources(resources, all_versions, engine=builtin, crd_dir=CRD_DIR)  # warm: bundle + compile
        versions = [args.version]

        def builtin_run(vs: list[str]) -> Callable[[], object]:
            return lambda: validate_resources(load_manifests([manifest]), vs, engine=builtin, crd_dir=CRD_DIR)

        command = [sys.executable, "-m", "chartforge", "-C", str(ROOT), "validate", "--engine", "builtin",
                   "-k", args.version, "-o", "json", "-m", str(manifest)]  # fmt: skip

        def whole_command() -> object:
            with open(os.devnull, "w") as devnull:
                return subprocess.run(command, stdout=devnull, check=False)

        measures: list[tuple[str, Callable[[], object], int]] = [
            ("parse only (yaml_rs where proven, else KubeLoader)", lambda: load_manifests([manifest]), n),
            ("parse only, one core", one_core(lambda: load_manifests([manifest])), n),
            ("parse only, KubeLoader for every document (before)", lambda: kubeloader_only(manifest), n),
            (
                "builtin: validation only",
                lambda: validate_resources(resources, versions, engine=builtin, crd_dir=CRD_DIR),
                n,
            ),
            ("builtin: end to end", builtin_run(versions), n),
            ("builtin: end to end, one core", one_core(builtin_run(versions)), n),
            ("builtin: end to end, validators compiled again", recompiled(builtin_run(versions)), n),
            ("chartforge validate --engine builtin (whole command)", whole_command, n),
        ]
        if binary:
            engine = KubeconformEngine(binary)
            plain = [
                binary, "-strict", "-summary", "-n", str(engine.workers), "-kubernetes-version",
                KubeVersion.parse(store.kubernetes_version).full, "-schema-location",
                f"{store.core_location}", str(manifest),
            ]  # fmt: skip

            def engine_run(vs: list[str]) -> Callable[[], object]:
                return lambda: validate_resources(
                    load_manifests([manifest]), vs, engine=engine, crd_dir=CRD_DIR
                )

            measures += [
                ("kubeconform engine: end to end", engine_run(versions), n),
                ("plain kubeconform -strict (one run)", lambda: proc.run(plain), n),
            ]
        measures.append(
            (
                f"builtin: {len(all_versions)} versions, parse once",
                builtin_run(all_versions),
                n * len(all_versions),
            )
        )
        if binary:
            measures.append(
                (
                    f"kubeconform engine: {len(all_versions)} versions",
                    engine_run(all_versions),
                    n * len(all_versions),
                )
            )
        rows = interleaved(args.repeat, measures)

    width = max(len(r[0]) for r in rows)
    print(f"\n{'measure':<{width}}  {'seconds':>8}  {'checks/s':>10}")
    for label, seconds, checks in rows:
        print(f"{label:<{width}}  {seconds:>8.3f}  {checks / seconds:>10,.0f}")
    rate = {label: checks / seconds for label, seconds, checks in rows}
    seconds_of = {label: seconds for label, seconds, _ in rows}
    print(
        "\nparse, KubeLoader only / as chartforge parses: "
        f"{seconds_of['parse only, KubeLoader for every document (before)'] / seconds_of['parse only (yaml_rs where proven, else KubeLoader)']:.2f}x"
    )
    if binary:
        e2e = rate["builtin: end to end"] / rate["kubeconform engine: end to end"]
        plain_ratio = rate["builtin: end to end"] / rate["plain kubeconform -strict (one run)"]
        multi = (
            rate[f"builtin: {len(all_versions)} versions, parse once"]
            / rate[f"kubeconform engine: {len(all_versions)} versions"]
        )
        plain_rate = rate["plain kubeconform -strict (one run)"]
        print(f"builtin / kubeconform engine (end to end, 1 version): {e2e:.2f}x")
        print(f"builtin / plain kubeconform (end to end, 1 version):  {plain_ratio:.2f}x")
        for label in (
            "builtin: end to end, one core",
            "builtin: end to end, validators compiled again",
            "chartforge validate --engine builtin (whole command)",
        ):
            print(f"  {label.removeprefix('builtin: ')} / plain kubeconform: {rate[label] / plain_rate:.2f}x")
        print(f"builtin / kubeconform engine ({len(all_versions)} versions):           {multi:.2f}x")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in load_before)}, after: "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
