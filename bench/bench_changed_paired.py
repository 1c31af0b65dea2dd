"""A full ``check`` and ``check --changed-since REF`` of a synthetic catalog, this code against a baseline, paired.

Each side (``A`` = this checkout, ``B`` = another checkout's ``generator/`` folder) gets its own
synthetic catalog (bench/synthetic.py), built and committed by its own code, and its own result
cache. Per round and side: a full uncached check, a check that fills the cache as CI keeps it
from the base commit, then one sub-chart's template changes and ``check --changed-since HEAD``
runs with that cache. Sides alternate A B A B. Reports medians, the changed/full ratio per side,
the A/B ratios and the load average.

    python bench/bench_changed_paired.py --charts 200 --repeat 2 --baseline /tmp/base/generator
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
os.environ["PATH"] = f"{ROOT / '.tools' / 'bin'}{os.pathsep}{os.environ['PATH']}"

from bench_changed import git  # noqa: E402
from synthetic import make_catalog, paired_arguments  # noqa: E402


def run(code: Path, cache: Path, *args: str) -> tuple[float, float, int]:
    """(wall s, CPU s of the process tree, exit code) of one ``chartforge ARGS``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "chartforge", *args],
                          env={**os.environ, "PYTHONPATH": str(code), "CHARTFORGE_CACHE": str(cache)},
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)  # fmt: skip
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime, done.returncode


def one_round(code: Path, work: Path, charts: int) -> dict[str, tuple[float, float, int]]:
    project = make_catalog(work / "project", charts)
    cache = work / "cache"
    run(code, cache, "-C", str(project), "build")
    git(project, "init", "-q")
    git(project, "add", "-A")
    git(project, "commit", "-qm", "base")
    check = ["-C", str(project), "check", "--engine", "kubeconform"]
    full = run(code, cache, *check, "--no-cache")
    run(code, cache, *check)  # the cache as CI keeps it from the base commit
    template = project / "sources/charts/svc-000/templates/service.yaml.j2"
    template.write_text(template.read_text() + "# changed\n")  # a valid change: a YAML comment
    run(code, cache, "-C", str(project), "build")
    changed = run(code, cache, *check, "--changed-since", "HEAD")
    return {"full": full, "changed": changed}


def main() -> None:
    args, sides = paired_arguments(__doc__, repeat=2)
    found: dict[str, list[dict[str, tuple[float, float, int]]]] = {s: [] for s in sides}
    loads = [os.getloadavg()[0]]
    for i in range(args.repeat):
        for side, code in sides.items():
            with tempfile.TemporaryDirectory(prefix=f"chartforge-bench-changed-{side}-") as tmp:
                found[side].append(one_round(code, Path(tmp), args.charts))
            loads.append(os.getloadavg()[0])
            print(f"round {i + 1} {side}: {found[side][-1]}", file=sys.stderr)
    print(f"# check vs check --changed-since, {args.charts} synthetic charts: A = this checkout, B = {sides['B']}; "
          f"{args.repeat} paired round(s), load average {min(loads):.1f}–{max(loads):.1f}\n")  # fmt: skip
    print("| side | full check wall / CPU | --changed-since wall / CPU | changed / full (wall) | exits |")
    print("|---|---|---|---|---|")
    for side, rounds in found.items():
        med = {k: [statistics.median(r[k][i] for r in rounds) for i in (0, 1)] for k in ("full", "changed")}
        share = statistics.median(r["changed"][0] / r["full"][0] for r in rounds) * 100
        exits = sorted({r[k][2] for r in rounds for k in r})
        print(f"| {side} | {med['full'][0]:.1f} s / {med['full'][1]:.1f} s | {med['changed'][0]:.1f} s / "
              f"{med['changed'][1]:.1f} s | {share:.1f} % | {exits} |")  # fmt: skip
    for kind in ("full", "changed"):
        ratio = [statistics.median(a[kind][i] / b[kind][i] for a, b in zip(found["A"], found["B"], strict=True))
                 for i in (0, 1)]  # fmt: skip
        print(f"\nA/B {kind}: wall {ratio[0]:.2f}, CPU {ratio[1]:.2f}", end="")
    print()


if __name__ == "__main__":
    main()
