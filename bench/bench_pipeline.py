"""Pipeline benchmarks, reported as ratios measured side by side in one run (never timed tests).

1. ``chartforge check`` versus a plain shell loop of the same helm lint / helm template /
   kubeconform calls, one after another, on the same catalog;
2. a no-op rebuild versus a full build;
3. how build and check time grow with synthetic catalogs of 10, 50 and 200 charts.

    python bench/bench_pipeline.py                 # everything (a few minutes on 2 cores)
    python bench/bench_pipeline.py --sizes 10 50   # smaller scaling run
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
os.environ["PATH"] = f"{ROOT / '.tools' / 'bin'}{os.pathsep}{os.environ['PATH']}"

from synthetic import make_catalog  # noqa: E402

from chartforge import tools  # noqa: E402
from chartforge.compile.assemble import assemble, chart_values  # noqa: E402
from chartforge.compile.build import build  # noqa: E402
from chartforge.compile.catalog import load_catalog  # noqa: E402
from chartforge.helm import write_values  # noqa: E402
from chartforge.validate.schemas import SchemaStore  # noqa: E402


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def cli(root: Path, *args: str) -> None:
    subprocess.run([sys.executable, "-m", "chartforge", "-C", str(root), *args], check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip


def shell_loop_script(root: Path, work: Path) -> Path:
    """The same calls `chartforge check` makes, as the shell loop a team would write by hand."""
    catalog = load_catalog(root)
    helms = [h.path for h in tools.find_helms()]
    kubeconform = tools.find_kubeconform()
    assert kubeconform, "kubeconform is needed for this benchmark (ci/install.sh)"
    lines = ["set -u", f"cd {work}"]
    with assemble(catalog) as assembled:
        shutil.copytree(assembled, work / "charts", symlinks=True)
    for chart in catalog.charts:
        for env in catalog.environments:
            values = write_values(work / f"values-{chart.name}-{env}.yaml", chart_values(catalog, chart, env))
            for helm in helms:
                lines.append(f"{helm} lint --strict charts/{chart.name} -f {values} >/dev/null")
    for env in catalog.environments:
        for version in catalog.kubernetes_versions:
            store = SchemaStore(str(version), crd_dir=catalog.sources / "crds")
            out = work / f"rendered-{env}-{version}.yaml"
            lines.append(
                f"{helms[-1]} template {catalog.umbrella} charts/{catalog.umbrella} -n {catalog.umbrella} "
                f"-f {root}/values/{env}.yaml --kube-version {version.full} > {out}"
            )
            crd = f" -schema-location '{store.crd_location}'" if store.crd_location else ""
            lines.append(
                f"{kubeconform} -strict -summary -kubernetes-version {version.full} "
                f"-schema-location '{store.core_location}'{crd} {out} >/dev/null"
            )
    script = work / "loop.sh"
    script.write_text("\n".join(lines) + "\n")
    return script


def bench_check_vs_loop(root: Path, repeat: int) -> None:
    cli(
        root, "check", "--stage", "lint", "--stage", "validate", "--engine", "kubeconform"
    )  # warm schema cache
    with tempfile.TemporaryDirectory() as tmp:
        script = shell_loop_script(root, Path(tmp))
        calls = sum(1 for line in script.read_text().splitlines() if line.startswith("/"))
        loop, ours = [], []
        for _ in range(repeat):  # interleaved so both see the same machine state
            loop += timed(lambda: subprocess.run(["bash", str(script)], check=False), 1)
            ours += timed(lambda: cli(root, "check", "--stage", "lint", "--stage", "validate",
                                      "--engine", "kubeconform"), 1)  # fmt: skip
    lm, om = statistics.median(loop), statistics.median(ours)
    print(f"\n## check vs plain shell loop ({root.name}: {calls} helm/kubeconform calls)")
    print(f"  shell loop            median {lm:7.2f}s  (runs: {', '.join(f'{t:.2f}' for t in loop)})")
    print(f"  chartforge check      median {om:7.2f}s  (runs: {', '.join(f'{t:.2f}' for t in ours)})")
    print(f"  ratio loop/chartforge  {lm / om:5.2f}x  (>1 means chartforge is faster)")


def bench_noop(root: Path, repeat: int) -> None:
    full, noop = [], []
    for _ in range(repeat):
        with tempfile.TemporaryDirectory() as tmp:
            clone = Path(tmp) / "p"
            shutil.copytree(root / "sources", clone / "sources")
            full += timed(lambda c=clone: build(c), 1)
            noop += timed(lambda c=clone: build(c), 1)
    fm, nm = statistics.median(full), statistics.median(noop)
    print(f"\n## no-op rebuild vs full build ({root.name})")
    print(f"  full build   median {fm * 1000:8.1f} ms")
    print(f"  no-op build  median {nm * 1000:8.1f} ms   ratio full/no-op {fm / nm:5.2f}x")


def bench_scaling(sizes: list[int], with_check: bool) -> None:
    print("\n## scaling with synthetic catalogs")
    print(f"  {'charts':>6} {'build s':>9} {'per chart ms':>13} {'check s':>9} {'per chart ms':>13}")
    base: tuple[float, float] | None = None
    for size in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            root = make_catalog(Path(tmp) / f"syn{size}", size)
            b = min(timed(lambda r=root: build(r), 1))
            shutil.rmtree(root / "charts")
            b = min(b, *timed(lambda r=root: build(r), 1))
            c = (
                min(timed(lambda r=root: cli(r, "check", "--engine", "kubeconform"), 1))
                if with_check
                else float("nan")
            )
        base = base or (b / size, c / size)
        print(f"  {size:>6} {b:>9.2f} {b / size * 1000:>13.1f} {c:>9.2f} {c / size * 1000:>13.1f}"
              f"   (per-chart cost vs {sizes[0]} charts: build {b / size / base[0]:.2f}x, "
              f"check {c / size / base[1]:.2f}x)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--root", type=Path, default=ROOT)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sizes", type=int, nargs="*", default=[10, 50, 200])
    parser.add_argument("--no-check-scaling", action="store_true")
    args = parser.parse_args()
    print(
        f"# chartforge pipeline benchmarks — {os.cpu_count()} CPUs, helm {[h.version for h in tools.find_helms()]}"
    )
    bench_check_vs_loop(args.root, args.repeat)
    bench_noop(args.root, args.repeat)
    bench_scaling(args.sizes, not args.no_check_scaling)


if __name__ == "__main__":
    main()
