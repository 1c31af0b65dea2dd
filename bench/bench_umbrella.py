"""The umbrella's ``helm lint`` and ``helm template``, this code's charts against a baseline's, paired A B A B.

A synthetic catalog (bench/synthetic.py) is built by each side (``A`` = this checkout, ``B`` =
another checkout's ``generator/`` folder) and its umbrella laid out as helm wants it (sub-charts
linked under ``charts/``). Each helm major then lints (``--strict``) and renders the umbrella with
``values/production.yaml``, and lints it with every sub-chart as a stub (``Chart.yaml`` and
``values.yaml`` only, as ``check --changed-since`` does for unselected sub-charts). Reports the
median CPU (user + system of the helm process, ``getrusage``) and wall time per side and the
median of the paired A/B ratios, the umbrella's ``values.schema.json`` size, and the load average.

    python bench/bench_umbrella.py --charts 200 --baseline /tmp/base/generator
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
os.environ["PATH"] = f"{ROOT / '.tools' / 'bin'}{os.pathsep}{os.environ['PATH']}"

from synthetic import make_catalog, paired_arguments  # noqa: E402

UMBRELLA = "platform"


def build(code: Path, project: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "chartforge", "-C", str(project), "build"],
                          env={**os.environ, "PYTHONPATH": str(code)}, capture_output=True, text=True,
                          check=False)  # fmt: skip
    if done.returncode:
        raise SystemExit(f"build failed with {code}: {done.stderr}")


def layout(project: Path, into: Path, *, stubs: bool) -> Path:
    """The umbrella with its sub-charts under ``charts/`` (links, or stubs: Chart.yaml + values.yaml)."""
    charts = project / "charts"
    umbrella = Path(shutil.copytree(charts / UMBRELLA, into / UMBRELLA))
    (umbrella / "charts").mkdir()
    for sub in sorted(p for p in charts.iterdir() if p.name != UMBRELLA):
        if stubs:
            (umbrella / "charts" / sub.name).mkdir()
            for name in ("Chart.yaml", "values.yaml"):
                shutil.copy(sub / name, umbrella / "charts" / sub.name / name)
        else:
            os.symlink(sub, umbrella / "charts" / sub.name)
    return umbrella


def timed(args: list[str]) -> tuple[float, float]:
    """(wall s, CPU s) of one helm call; fails loudly on a non-zero exit."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode:
        raise SystemExit(f"{' '.join(args)} failed: {done.stderr[-2000:]}")
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def main() -> None:
    args, sides = paired_arguments(__doc__, repeat=3)
    helms = [h for h in ("helm3", "helm4") if shutil.which(h)]
    results: dict[tuple[str, str], dict[str, list[tuple[float, float]]]] = {}
    sizes: dict[str, int] = {}
    loads = [os.getloadavg()[0]]
    with tempfile.TemporaryDirectory(prefix="chartforge-bench-umbrella-") as tmp:
        charts: dict[tuple[str, bool], Path] = {}
        for side, code in sides.items():
            project = make_catalog(Path(tmp) / side / "project", args.charts)
            build(code, project)
            sizes[side] = (project / "charts" / UMBRELLA / "values.schema.json").stat().st_size
            for stubs in (False, True):
                charts[side, stubs] = layout(
                    project, Path(tmp) / side / ("stubs" if stubs else "full"), stubs=stubs
                )
        values = Path(tmp) / "A" / "project" / "values" / "production.yaml"
        for _ in range(args.repeat):
            for helm in helms:
                for side in sides:
                    commands = {
                        "lint": [helm, "lint", "--strict", str(charts[side, False]), "-f", str(values)],
                        "template": [helm, "template", "r", str(charts[side, False]), "-f", str(values)],
                        "lint, stubs": [helm, "lint", "--strict", str(charts[side, True]), "-f", str(values)],
                    }
                    for verb, command in commands.items():
                        results.setdefault((helm, verb), {}).setdefault(side, []).append(timed(command))
            loads.append(os.getloadavg()[0])
    print(f"# umbrella helm lint/template, {args.charts} synthetic charts: A = this checkout, B = {sides['B']}; "
          f"{args.repeat} paired round(s), load average {min(loads):.1f}–{max(loads):.1f}")  # fmt: skip
    print(f"# umbrella values.schema.json: A {sizes['A'] / 1024:.0f} KiB, B {sizes['B'] / 1024:.0f} KiB\n")
    print(
        "| helm | call | A CPU | B CPU | A/B CPU | A wall | B wall | A/B wall |\n|---|---|---|---|---|---|---|---|"
    )
    for (helm, verb), by_side in results.items():
        a, b = by_side["A"], by_side["B"]
        cpu = [statistics.median(x[1] for x in s) for s in (a, b)]
        wall = [statistics.median(x[0] for x in s) for s in (a, b)]
        ratios = [statistics.median(x[i] / y[i] for x, y in zip(a, b, strict=True)) for i in (1, 0)]
        print(f"| {helm} | {verb} | {cpu[0]:.2f} s | {cpu[1]:.2f} s | {ratios[0]:.2f} | {wall[0]:.2f} s | "
              f"{wall[1]:.2f} s | {ratios[1]:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
