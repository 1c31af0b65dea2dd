"""The throw-away helm home of one publish or diff, and the sweep of those a killed run left behind.

``helm registry login`` must write the credentials to a file (``HELM_REGISTRY_CONFIG``); a run
removes its home on exit and on SIGTERM/SIGHUP/SIGINT, but nothing runs after a SIGKILL (the OOM
killer, ``kill -9``, a CI runner tearing the job down). So each home is named after its owner,
``chartforge-helm-<pid>-<process start time>-<random>``, and every run first removes, in the same
temporary directory, the homes of this user whose owner is gone: the pid is not running, or
runs another process (its start time differs: the pid was reused). A home whose owner is alive
(a concurrent publish) or whose name it cannot read is left alone.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

PREFIX = "chartforge-helm-"
_OWNED = re.compile(rf"^{PREFIX}(\d+)-(\d*)-")


def process_start(pid: int) -> str:
    """The start time of ``pid`` in clock ticks since boot (``/proc/<pid>/stat``), "" if unknown."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = stat[stat.rfind(")") + 2 :].split()
    return fields[19] if len(fields) > 19 else ""  # field 22 of stat(5), counted after "pid (comm)"


def _owner_gone(name: str) -> bool:
    match = _OWNED.match(name)
    if match is None:
        return False
    pid, start = int(match.group(1)), match.group(2)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's
    return bool(start) and process_start(pid) not in ("", start)


def sweep(tmp: Path | None = None) -> list[Path]:
    """Remove the homes (and the credentials in them) of runs of this user that no longer exist."""
    base = tmp or Path(tempfile.gettempdir())
    removed: list[Path] = []
    for home in base.glob(f"{PREFIX}*"):
        try:
            owned = home.is_dir() and not home.is_symlink() and home.stat().st_uid == os.getuid()
        except OSError:
            continue
        if owned and _owner_gone(home.name):
            shutil.rmtree(home, ignore_errors=True)
            removed.append(home)
    return removed


def create() -> Path:
    """Sweep, then make this run's home (mode 0700, like ``mkdtemp``)."""
    sweep()
    pid = os.getpid()
    return Path(tempfile.mkdtemp(prefix=f"{PREFIX}{pid}-{process_start(pid)}-"))
