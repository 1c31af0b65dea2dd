"""``check --changed-since REF`` (one sub-chart changed) versus a full ``check``, side by side in one run.

A synthetic catalog (bench/synthetic.py) is built and committed in a scratch git repository; one
sub-chart's template is then changed and rebuilt, and both checks run on the same tree. Reports
the wall time of each, their ratio, and the peak RSS of the largest single process of each run
(chartforge or one helm/kubeconform call; ``ru_maxrss`` of the waited-for children).

    python bench/bench_changed.py                 # 200 charts (minutes on 2 cores: run it on an idle machine)
    python bench/bench_changed.py --charts 10     # a quick run
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
os.environ["PATH"] = f"{ROOT / '.tools' / 'bin'}{os.pathsep}{os.environ['PATH']}"

from synthetic import make_catalog  # noqa: E402

from chartforge.compile.build import build  # noqa: E402

GIT = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com", "GIT_COMMITTER_NAME": "bench",
       "GIT_COMMITTER_EMAIL": "bench@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}  # fmt: skip


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, env={**os.environ, **GIT}, check=True, capture_output=True)


def check(root: Path, *args: str) -> tuple[float, int, float]:
    """(seconds, exit code, peak RSS MiB of the largest process) of one ``chartforge check``."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "chartforge", "-C", str(root), "check", *args],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)  # fmt: skip
    seconds = time.perf_counter() - start
    peak = max(before, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    return seconds, done.returncode, peak / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--charts", type=int, default=200)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = make_catalog(Path(tmp) / f"syn{args.charts}", args.charts)
        build(root)
        git(root, "init", "-q")
        git(root, "add", "-A")
        git(root, "commit", "-qm", "base")
        template = root / "sources/charts/svc-000/templates/service.yaml.j2"
        template.write_text(template.read_text() + "# changed\n")  # a valid change: a YAML comment
        build(root)
        changed, rc_changed, mem_changed = check(root, "--changed-since", "HEAD")
        full, rc_full, mem_full = check(root)
    print(f"# check --changed-since vs full check — {args.charts} charts + umbrella, {os.cpu_count()} CPUs")
    print(f"  full check            {full:8.2f} s  ({full / args.charts * 1000:.0f} ms per chart, exit {rc_full}, "
          f"largest process {mem_full:.0f} MiB)")  # fmt: skip
    print(f"  --changed-since HEAD  {changed:8.2f} s  (svc-000 + umbrella, exit {rc_changed}, "
          f"largest process {mem_changed:.0f} MiB)")  # fmt: skip
    print(f"  changed-only / full   {changed / full * 100:8.1f} %")


if __name__ == "__main__":
    main()
