"""`build` of a synthetic catalog (or the bundled one), this code against a baseline, paired A B A B.

Three figures per side, each a whole ``python -m chartforge build`` process timed from outside
(wall, and CPU of the child from ``getrusage``): **cold** (no ``charts/``, ``values/`` nor
``.chartforge/``: nothing compiled before), **warm** (``charts/`` and ``values/`` removed, the
compiled templates of ``.chartforge/jinja/`` kept) and **no-op** (nothing changed since). The
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

KINDS = ("cold", "warm", "no-op")


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


def one_round(code: Path, project: Path) -> dict[str, tuple[float, float]]:
    for out in ("charts", "values", ".chartforge"):
        shutil.rmtree(project / out, ignore_errors=True)
    cold = timed(code, project)
    for out in ("charts", "values"):
        shutil.rmtree(project / out, ignore_errors=True)
    warm = timed(code, project)
    return {"cold": cold, "warm": warm, "no-op": timed(code, project)}


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
            if args.charts and kind != "no-op"
            else ""
        )
        print(f"| {kind} | {cells[0]:.2f} s | {cells[1]:.2f} s{per} | {cells[2]:.2f} s | {cells[3]:.2f} s | "
              f"{ratios[0]:.2f} | {ratios[1]:.2f} |")  # fmt: skip


if __name__ == "__main__":
    main()
