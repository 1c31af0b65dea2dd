"""Pushes gauges to the Prometheus Pushgateway (HELPER_CONTRACTS 1): shared by drill.py and
walg_status.py, which the scripts ConfigMap mounts side by side (python3 puts the script's folder
on sys.path). Standard library only (the python3 of the Spilo image)."""

from __future__ import annotations

import time
import urllib.parse
import urllib.request


def push(url: str, job: str, database: str, metrics: dict[str, float]) -> str:
    """POST to the group job=<job>, database=<database>: replaces these metrics only, so a failed
    run that pushes fewer keeps the others (e.g. the last success timestamp). Returns the target."""
    body = "".join(f"# TYPE {name} gauge\n{name} {value}\n" for name, value in metrics.items())
    target = (
        f"{url.rstrip('/')}/metrics/job/{urllib.parse.quote(job)}/database/{urllib.parse.quote(database)}"
    )
    req = urllib.request.Request(
        target, data=body.encode(), method="POST", headers={"Content-Type": "text/plain"}
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        resp.read()
    print(
        time.strftime("%H:%M:%S"),
        "pushgateway:",
        f"pushed {', '.join(sorted(metrics))} to {target}",
        flush=True,
    )
    return target
