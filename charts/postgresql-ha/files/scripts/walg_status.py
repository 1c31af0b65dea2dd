#!/usr/bin/env python3
"""Reports postgresql-ha's last successful base backup to the Pushgateway (the walg-status CronJob).

Spilo's own cron (postgres_backup.sh on the primary) takes the base backups and has no hook after
a success, so this job asks the object store instead: ``wal-g backup-list --json --detail`` lists
a base backup only once its stop sentinel is written, which WAL-G does last, after the data and
the WAL needed to make it consistent are uploaded; a failed or interrupted backup-push never
appears. The newest listed backup's ``finish_time`` is pushed as
``backup_last_success_timestamp_seconds`` (grouping job="backup", database=<chart>), which the
observability chart's backup-age and absent() alerts read. No backup yet: nothing is pushed (the
absent() alert then says so); wal-g failing: exit 1 and nothing is pushed (the pushed age keeps
growing, so the backup-age alert still fires if backups stop).

Environment: PUSHGATEWAY_URL, DATABASE, WALG (default wal-g) and WAL-G's own settings
(WALG_S3_PREFIX, AWS_*). Standard library only, plus pushgateway.py beside it.
"""

from __future__ import annotations

import calendar
import json
import os
import re
import subprocess
import sys
import time
from typing import Any

from pushgateway import push

# WAL-G writes RFC 3339 times with up to nine fractional digits (Go's time.RFC3339Nano).
_TIME = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$")


def log(message: str) -> None:
    print(time.strftime("%H:%M:%S"), "walg-status:", message, flush=True)


def timestamp(text: str) -> float:
    """Seconds since the epoch of an RFC 3339 time (python3.10 of Spilo: no fromisoformat 'Z')."""
    m = _TIME.match(text.strip())
    if m is None:
        raise ValueError(f"not an RFC 3339 time: {text!r}")
    seconds = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
    fraction = float(m.group(2) or 0)
    if m.group(3) != "Z":
        sign = 1 if m.group(3)[0] == "+" else -1
        hours, minutes = m.group(3)[1:].split(":")
        seconds -= sign * (int(hours) * 3600 + int(minutes) * 60)
    return seconds + fraction


def newest_finish(listing: list[dict[str, Any]]) -> tuple[str, float] | None:
    """Name and finish time of the newest completed base backup, None without any."""
    finished = [(timestamp(str(b.get("finish_time") or b["time"])), str(b["backup_name"])) for b in listing]
    if not finished:
        return None
    when, name = max(finished)
    return name, when


def main() -> int:
    url = os.environ.get("PUSHGATEWAY_URL", "")
    database = os.environ.get("DATABASE", "postgresql-ha")
    walg = os.environ.get("WALG", "wal-g")
    done = subprocess.run(
        [walg, "backup-list", "--json", "--detail"], capture_output=True, text=True, timeout=600, check=False
    )
    if done.returncode:
        log(f"FAILED: wal-g backup-list exited with {done.returncode}: {done.stderr.strip()[-2000:]}")
        return 1
    try:
        listing = json.loads(done.stdout) if done.stdout.strip() else []
        newest = newest_finish(listing or [])
    except (ValueError, KeyError, TypeError) as e:
        log(f"FAILED: cannot read wal-g backup-list output: {e}")
        return 1
    if newest is None:
        log("no completed base backup in the object store yet: nothing to report")
        return 0
    name, when = newest
    age = time.time() - when
    log(
        f"newest base backup {name} finished {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime(when))} ({age / 3600:.1f} h ago)"
    )
    if url:
        push(url, "backup", database, {"backup_last_success_timestamp_seconds": round(when, 3)})
    else:
        log("no Pushgateway URL (backup.pushgateway.url): not pushed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
