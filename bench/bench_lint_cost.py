"""What one chart costs in a batched ``helm lint``: the charts as generated and without parts of them.

A synthetic catalog (bench/synthetic.py) is built; its workload charts are linted in one
``helm lint --strict`` call per helm major (as ``check`` batches them), as generated and in
variants that drop the ``values.schema.json``, the templates, both, or shrink the schema (minified
JSON; no descriptions or defaults). The difference between variants is what that part costs.
Reports the median CPU per chart (user + system of the helm process over the charts linted),
helm's start-up (``helm version``) and the load average. Variants are a measurement only: the
generated charts keep every part (a chart without its schema or templates lints to other findings).

    python bench/bench_lint_cost.py --charts 100
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
os.environ["PATH"] = f"{ROOT / '.tools' / 'bin'}{os.pathsep}{os.environ['PATH']}"

from synthetic import make_catalog  # noqa: E402


def _strip(node: Any) -> Any:
    if isinstance(node, dict):
        return {
            k: _strip(v) for k, v in node.items() if k not in ("description", "default", "$comment", "title")
        }
    if isinstance(node, list):
        return [_strip(v) for v in node]
    return node


def _schema(change: Callable[[Any], str]) -> Callable[[Path], None]:
    def apply(chart: Path) -> None:
        path = chart / "values.schema.json"
        path.write_text(change(json.loads(path.read_text())))

    return apply


VARIANTS: dict[str, Callable[[Path], None] | None] = {
    "as generated": None,
    "schema minified": _schema(lambda s: json.dumps(s, separators=(",", ":"))),
    "schema without descriptions/defaults": _schema(lambda s: json.dumps(_strip(s), indent=2)),
    "no values.schema.json": lambda c: (c / "values.schema.json").unlink(),
    "no templates": lambda c: shutil.rmtree(c / "templates"),
    "no schema, no templates": lambda c: (
        (c / "values.schema.json").unlink(),
        shutil.rmtree(c / "templates"),
    ),
}


def cpu(args: list[str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charts", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    helms = [h for h in ("helm3", "helm4") if shutil.which(h)]
    found: dict[tuple[str, str], list[float]] = {}
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="chartforge-bench-lint-") as tmp:
        project = make_catalog(Path(tmp) / "project", args.charts)
        subprocess.run([sys.executable, "-m", "chartforge", "-C", str(project), "build"], check=True,
                       stdout=subprocess.DEVNULL)  # fmt: skip
        names = sorted(p.name for p in (project / "charts").iterdir() if p.name.startswith("svc-"))
        dirs: dict[str, list[str]] = {}
        for label, change in VARIANTS.items():
            root = Path(tmp) / label.replace(" ", "-").replace("/", "-")
            for name in names:
                shutil.copytree(project / "charts" / name, root / name)
                if change:
                    change(root / name)
            dirs[label] = [str(root / n) for n in names]
        for _ in range(args.repeat):
            for helm in helms:
                found.setdefault((helm, "helm version (start-up, per call)"), []).append(
                    cpu([helm, "version"])
                )
                for label, charts in dirs.items():
                    found.setdefault((helm, label), []).append(
                        cpu([helm, "lint", "--strict", *charts]) / len(charts)
                    )
            loads.append(os.getloadavg()[0])
    print(f"# helm lint --strict of {args.charts} synthetic charts in one call, CPU per chart; {args.repeat} "
          f"round(s), load average {min(loads):.1f}–{max(loads):.1f}\n")  # fmt: skip
    print("| helm | charts | CPU per chart |\n|---|---|---|")
    for (helm, label), values in found.items():
        print(f"| {helm} | {label} | {statistics.median(values) * 1000:.1f} ms |")


if __name__ == "__main__":
    main()
