"""Generate a synthetic catalog of N charts (plus an umbrella) for the scaling benchmarks.

Each chart is a small but real workload (Deployment, Service, ServiceAccount, PDB) written
with the bundled shared macros, so build/check costs scale like the real catalog's.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

CHART_META = """version: 0.1.{i}
appVersion: "1.27.3"
description: Synthetic workload number {i}
icon: https://example.com/icon.svg
"""
PARAMS = """[% import "macros/params.j2" as p %]
[[ p.workload("web server", 2, "nginxinc/nginx-unprivileged", "1.27.3-alpine") ]]
"""
DEPLOYMENT = """[% import "macros/k8s.j2" as k8s with context %]
apiVersion: apps/v1
kind: Deployment
metadata:
[[ k8s.metadata(chart.name, "web", 2) ]]
spec:
  replicas: {{ .Values.replicaCount }}
  selector:
    matchLabels:
[[ k8s.selector(chart.name, "web", 6) ]]
  template:
[[ k8s.pod_metadata(chart.name, "web", ".Values", 4) ]]
    spec:
[[ k8s.pod_spec_common(chart.name, "web", ".Values", 6) ]]
      containers:
        - name: web
[[ k8s.container_common(chart.name, ".Values", 10) ]]
          ports:
            - name: http
              containerPort: 8080
[[ k8s.probes(".Values", "httpGet:\\n  path: /\\n  port: http", 10) ]]
          volumeMounts:
            - name: tmp
              mountPath: /tmp
      volumes:
[[ k8s.empty_dir("tmp", 8) ]]
"""
SERVICE = """[% import "macros/k8s.j2" as k8s with context %]
apiVersion: v1
kind: Service
metadata:
[[ k8s.metadata(chart.name, "web", 2) ]]
spec:
  ports:
    - name: http
      port: 80
      targetPort: http
  selector:
[[ k8s.selector(chart.name, "web", 4) ]]
"""
SIMPLE = {
    "_helpers.tpl.j2": '[% import "macros/k8s.j2" as k8s with context %]\n[[ k8s.helpers(chart.name) ]]\n',
    "serviceaccount.yaml.j2": '[% import "macros/k8s.j2" as k8s with context %]\n[[ k8s.service_account(chart.name, "web") ]]\n',
    "pdb.yaml.j2": '[% import "macros/k8s.j2" as k8s with context %]\n[[ k8s.pdb(chart.name, "web", ".Values") ]]\n',
    "deployment.yaml.j2": DEPLOYMENT,
    "service.yaml.j2": SERVICE,
}


def make_catalog(dest: Path, charts: int) -> Path:
    """Write ``dest/sources`` with ``charts`` workload charts and an umbrella; returns ``dest``."""
    if dest.exists():
        shutil.rmtree(dest)
    src = dest / "sources"
    shutil.copytree(ROOT / "sources" / "macros", src / "macros")
    shutil.copy(ROOT / "sources" / "global.yaml", src / "global.yaml")
    names = [f"svc-{i:03d}" for i in range(charts)]
    for i, name in enumerate(names):
        base = src / "charts" / name
        (base / "templates").mkdir(parents=True)
        (base / "chart.yaml").write_text(CHART_META.format(i=i))
        (base / "parameters.yaml.j2").write_text(PARAMS)
        for file, text in SIMPLE.items():
            (base / "templates" / file).write_text(text)
    umbrella = src / "charts" / "platform"
    (umbrella / "templates").mkdir(parents=True)
    deps = "".join(f"  - name: {n}\n" for n in names)
    (umbrella / "chart.yaml").write_text(
        f"version: 1.0.0\ndescription: Synthetic umbrella\nicon: https://example.com/icon.svg\ndependencies:\n{deps}"
    )
    (umbrella / "templates" / "NOTES.txt").write_text("Installed {{ .Release.Name }}.\n")
    (src / "environments").mkdir()
    for env in ("development", "production"):
        replicas = 1 if env == "development" else 3
        body = f"global:\n  environment: {env}\n" + "".join(
            f"{n}:\n  replicaCount: {replicas}\n" for n in names
        )
        (src / "environments" / f"{env}.yaml").write_text(body)
    (src / "catalog.yaml").write_text(
        "platform: {name: synthetic, description: Synthetic benchmark catalog}\n"
        'kubernetes: {min: "1.31", max: "1.37"}\n'
        "environments: [development, production]\n"
        "umbrella: platform\n"
        f"charts: [{', '.join([*names, 'platform'])}]\n"
    )
    (src / "waivers.yaml").write_text(
        "waivers:\n"
        "  - id: NETPOL-UNCOVERED\n    kind: '*'\n    name: '*'\n"
        "    reason: synthetic catalog has no security-baseline chart\n"
    )
    return dest


if __name__ == "__main__":
    print(make_catalog(Path(sys.argv[1]), int(sys.argv[2])))


def paired_arguments(doc: str | None, *, repeat: int) -> tuple[argparse.Namespace, dict[str, Path]]:
    """``--charts``, ``--repeat`` and ``--baseline`` of a benchmark pairing this checkout (side ``A``)
    with another checkout's ``generator/`` folder (side ``B``); the parsed arguments and the sides."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--charts", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=repeat)
    parser.add_argument("--baseline", type=Path, required=True, help="another checkout's generator/ folder")
    args = parser.parse_args()
    return args, {"A": Path(__file__).resolve().parents[1] / "generator", "B": args.baseline.resolve()}
