"""Every row of issue 15's target table in one run, printed as the Markdown table the README quotes.

Commands are timed from outside (wall clock around the whole process) and paired: A B A B …,
the ratio taken pair by pair and its median reported, so a machine shared with other work still
gives meaningful ratios. Peak memory is the largest single process a command waited for
(``ru_maxrss`` from ``os.wait4``). Not a test: it never fails on numbers.

    python bench/bench_table.py                       # 200 charts, 3 pairs (tens of minutes on 2 busy cores)
    python bench/bench_table.py --charts 20 --repeat 1   # a quick run
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
os.environ["PATH"] = f"{ROOT / '.tools' / 'bin'}{os.pathsep}{os.environ['PATH']}"

from bench_changed import git  # noqa: E402
from bench_pipeline import shell_loop_script  # noqa: E402
from synthetic import make_catalog  # noqa: E402

CF = [sys.executable, "-m", "chartforge"]


def run(cmd: Sequence[str], env: dict[str, str] | None = None) -> tuple[float, int, float]:
    """(wall seconds, exit code, peak RSS MiB of the largest process) of one command."""
    start = time.perf_counter()
    proc = subprocess.Popen(list(cmd), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, **(env or {})})  # fmt: skip
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return time.perf_counter() - start, proc.returncode, usage.ru_maxrss / 1024


def paired(a: Sequence[str], b: Sequence[str], repeat: int, env_a: dict[str, str] | None = None,
           env_b: dict[str, str] | None = None) -> tuple[float, float, float]:  # fmt: skip
    """Median seconds of A, of B, and the median of the pairwise ratios A/B."""
    ta, tb, ratios = [], [], []
    for _ in range(repeat):
        sa, sb = run(a, env_a)[0], run(b, env_b)[0]
        ta.append(sa)
        tb.append(sb)
        ratios.append(sa / sb)
    return statistics.median(ta), statistics.median(tb), statistics.median(ratios)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charts", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    n, rows = args.charts, []
    with tempfile.TemporaryDirectory(prefix="chartforge-bench-") as tmp:
        work = Path(tmp)
        os.environ["CHARTFORGE_CACHE"] = str(work / "cache")  # schemas and results: this run's own
        check = [*CF, "-C", str(ROOT), "check", "--engine", "kubeconform"]
        run(check)  # bundle the schemas the loop's kubeconform reads, fill the result cache
        (work / "loop").mkdir()
        loop = shell_loop_script(ROOT, work / "loop")
        loop_s, check_s, ratio = paired(["bash", str(loop)], [*check, "--no-cache"], args.repeat)
        cached = paired(["bash", str(loop)], check, args.repeat)
        rows.append(("bundled catalog `check` (lint + validate + policy) vs the plain shell loop of the same calls",
                     f"{ratio:.2f}× faster ({check_s:.1f} s vs a {loop_s:.1f} s loop); second run, lint cells cached: "
                     f"{cached[2]:.2f}× ({cached[1]:.1f} s)"))  # fmt: skip

        syn = make_catalog(work / f"syn{n}", n)
        build = [*CF, "-C", str(syn), "build"]
        cold_builds, full_builds, noops = [], [], []
        for _ in range(args.repeat):
            for out in ("charts", "values", ".chartforge"):  # cold: no compiled templates kept either
                shutil.rmtree(syn / out, ignore_errors=True)
            cold_builds.append(run(build)[0])
            shutil.rmtree(syn / "charts", ignore_errors=True)
            shutil.rmtree(syn / "values", ignore_errors=True)
            full_builds.append(run(build)[0])  # warm: .chartforge/jinja/ from the cold build
            noops.append(run(build)[0])
        startup = statistics.median(run([*CF, "--version"])[0] for _ in range(3))
        rows.append((f"{n}-chart catalog, `build` per chart; no-op build total",
                     f"{statistics.median(cold_builds) / n * 1000:.1f} ms per chart cold, "
                     f"{statistics.median(full_builds) / n * 1000:.1f} ms with compiled templates kept; no-op "
                     f"{statistics.median(noops) * 1000:.0f} ms total (of which {startup * 1000:.0f} ms "
                     "is starting Python and the CLI: `chartforge --version`)"))  # fmt: skip

        git(syn, "init", "-q")
        git(syn, "add", "-A")
        git(syn, "commit", "-qm", "base")
        syn_check = [*CF, "-C", str(syn), "check", "--engine", "kubeconform"]
        full = [run([*syn_check, "--no-cache"]) for _ in range(args.repeat)]
        peak = max(f[2] for f in full)
        run(syn_check)  # the cache as CI keeps it from the base commit
        cached_full = statistics.median(run(syn_check)[0] for _ in range(args.repeat))
        rows.append((f"{n}-chart synthetic catalog, full `check`, per chart",
                     f"{statistics.median(f[0] for f in full) / n * 1000:.0f} ms uncached "
                     f"(exit {full[0][1]}); {cached_full / n * 1000:.0f} ms with every lint cell cached"))  # fmt: skip
        template = syn / "sources/charts/svc-000/templates/service.yaml.j2"
        template.write_text(template.read_text() + "# changed\n")  # a valid change: a YAML comment
        run(build)
        changed = [*syn_check, "--changed-since", "HEAD"]
        cold = paired([*changed, "--no-cache"], [*syn_check, "--no-cache"], args.repeat)
        warm = paired(changed, [*syn_check, "--no-cache"], args.repeat)
        rows.append((f"{n}-chart catalog, one sub-chart changed, `check --changed-since REF`",
                     f"{cold[2] * 100:.1f} % of a full check ({cold[0]:.1f} s vs {cold[1]:.1f} s) without cache; "
                     f"{warm[2] * 100:.1f} % ({warm[0]:.1f} s) with the base commit's lint cells cached"))  # fmt: skip
        rows.append(
            (
                f"peak memory of a {n}-chart check",
                f"{peak:.0f} MiB (largest single process, uncached full check)",
            )
        )

    out = subprocess.run([sys.executable, str(ROOT / "bench" / "bench_validate.py"), "--repeat", str(args.repeat)],
                         capture_output=True, text=True, check=False).stdout  # fmt: skip
    found = re.search(r"builtin / plain kubeconform \(end to end, 1 version\):\s+([\d.]+)x", out)
    parse = re.search(r"parse only \S+ \S+ \S+ \S+\s+([\d.]+)", out)
    e2e = re.search(r"builtin: end to end\s+([\d.]+)", out)
    rows.append(("built-in validator end to end vs a plain `kubeconform -strict` run, 4,000 resources, one version",
                 f"{found.group(1) if found else '?'}× (parse {parse.group(1) if parse else '?'} s of "
                 f"{e2e.group(1) if e2e else '?'} s end to end)"))  # fmt: skip

    print(
        f"\n# issue 15 targets — {os.cpu_count()} CPUs, {args.repeat} paired run(s), {n} synthetic charts\n"
    )
    print("| measure | measured |\n|---|---|")
    for measure, value in rows:
        print(f"| {measure} | {value} |")


if __name__ == "__main__":
    main()
