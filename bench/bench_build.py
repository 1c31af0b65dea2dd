"""`build` of a synthetic catalog (or the bundled one), this code against a baseline, paired A B A B.

Three figures per side, each a whole ``python -m chartforge build`` process timed from outside
(wall, and CPU of the child from ``getrusage``): **cold** (no ``charts/``, ``values/`` nor
``.chartforge/``: nothing compiled before), **warm** (``charts/`` and ``values/`` removed, what
``.chartforge/`` keeps kept: compiled templates, parsed parameter specs, each chart's compile)
and **no-op** (nothing changed since); then the no-op's ``build()`` call alone, inside one process
(best of 5), and ``python -c pass``, the floor of any Python command on the machine. The
baseline is another checkout's ``generator/`` folder, e.g. ``git archive main generator | tar -x
-C /tmp/base``. Each side builds its own copy of the catalog. Not a test: it never fails on numbers.

    python bench/bench_build.py --charts 200 --baseline /tmp/base/generator
    python bench/bench_build.py --charts 0 --baseline /tmp/base/generator   # the bundled catalog
"""

from __future__ import annotations

import argparse
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

from synthetic import make_catalog  # noqa: E402

KINDS = ("cold", "warm", "no-op", "no-op in process", "python -c pass")


def timed(code: Path, project: Path) -> tuple[float, float]:
    """(wall s, CPU s of the child) of one ``chartforge build``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "chartforge", "-C", str(project), "build"],
                          env={**os.environ, "PYTHONPATH": str(code)}, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True, check=False)  # fmt: skip
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit(f"build failed with {code}: {proc.stderr}")
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


IN_PROCESS = """
import sys, time
from chartforge.compile.build import build
build(sys.argv[1])
best = []
for _ in range(5):
    cpu, wall = time.process_time(), time.perf_counter()
    assert not build(sys.argv[1]).written
    best.append((time.perf_counter() - wall, time.process_time() - cpu))
print(*min(best))
"""


def in_process(code: Path, project: Path) -> tuple[float, float]:
    """(wall s, CPU s) of the ``build()`` call alone on an up-to-date project (best of 5, one process)."""
    proc = subprocess.run([sys.executable, "-c", IN_PROCESS, str(project)], env={**os.environ, "PYTHONPATH": str(code)},
                          capture_output=True, text=True, check=True)  # fmt: skip
    wall, cpu = proc.stdout.split()
    return float(wall), float(cpu)


def floor() -> tuple[float, float]:
    """(wall s, CPU s) of ``python -c pass``: what any Python command costs on this machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter() - start, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def one_round(code: Path, project: Path) -> dict[str, tuple[float, float]]:
    for out in ("charts", "values", ".chartforge"):
        shutil.rmtree(project / out, ignore_errors=True)
    cold = timed(code, project)
    for out in ("charts", "values"):
        shutil.rmtree(project / out, ignore_errors=True)
    warm = timed(code, project)
    return {"cold": cold, "warm": warm, "no-op": timed(code, project), "no-op in process": in_process(code, project),
            "python -c pass": floor()}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charts", type=int, default=200, help="synthetic charts; 0: the bundled catalog")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", type=Path, required=True, help="another checkout's generator/ folder")
    args = parser.parse_args()
    sides = {"A": ROOT / "generator", "B": args.baseline.resolve()}
    results: dict[str, dict[str, list[tuple[float, float]]]] = {s: {k: [] for k in KINDS} for s in sides}
    with tempfile.TemporaryDirectory(prefix="chartforge-bench-build-") as tmp:
        projects = {}
        for side in sides:
            project = Path(tmp) / side
            if args.charts:
                make_catalog(project, args.charts)
            else:
                shutil.copytree(ROOT / "sources", project / "sources")
            projects[side] = project
        for _ in range(args.repeat):
            for side, code in sides.items():
                for kind, figures in one_round(code, projects[side]).items():
                    results[side][kind].append(figures)
    what = f"{args.charts} synthetic charts" if args.charts else "the bundled catalog"
    print(f"# build, {what}: A = this checkout, B = {sides['B']}; {args.repeat} paired round(s), "
          f"load average {os.getloadavg()[0]:.1f}\n")  # fmt: skip
    print("| build | A wall | A CPU | B wall | B CPU | A/B wall | A/B CPU |\n|---|---|---|---|---|---|---|")
    for kind in KINDS:
        a, b = results["A"][kind], results["B"][kind]
        cells = [statistics.median(x[i] for x in side) for side in (a, b) for i in (0, 1)]
        ratios = [statistics.median(x[i] / y[i] for x, y in zip(a, b, strict=True)) for i in (0, 1)]
        per = (
            f" ({cells[1] / args.charts * 1000:.0f} ms CPU per chart)"
            if args.charts and kind in ("cold", "warm")
            else ""
        )
        fmt = (
            (lambda x: f"{x * 1000:.1f} ms")
            if kind.startswith(("no-op", "python"))
            else (lambda x: f"{x:.2f} s")
        )
        print(f"| {kind} | {fmt(cells[0])} | {fmt(cells[1])}{per} | {fmt(cells[2])} | {fmt(cells[3])} | "
              f"{ratios[0]:.2f} | {ratios[1]:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
