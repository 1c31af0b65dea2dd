"""One publish at a time per registry namespace, on this machine.

A plain OCI registry has no "create this tag only if it is absent": two releases that both
found a version absent may both push it, and the later push silently replaces the earlier
one. Publishes from one machine (one CI runner, one developer) therefore take an exclusive
``flock`` keyed by the target (host + namespace) before they look at the registry, and hold it
until they have verified what they pushed: the second one then *sees* the first one's
charts and is refused (exit 4) before pushing anything.

Across machines no lock is possible on a plain registry; :mod:`chartforge.publish.publish`
re-reads every tag after pushing and before the umbrella, and reports a lost race (exit 4).
Registry-side tag immutability (docs/publishing.md) is the only airtight guard there.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from chartforge.errors import RefusedError, UserError
from chartforge.publish.target import RegistryTarget

log = logging.getLogger("chartforge.publish")
ENV_LOCK_DIR = "CHARTFORGE_LOCK_DIR"
DEFAULT_WAIT = 900.0


def lock_dir() -> Path:
    """``$CHARTFORGE_LOCK_DIR``, else ``$XDG_RUNTIME_DIR/chartforge``, else ``~/.cache/chartforge/locks``."""
    if os.environ.get(ENV_LOCK_DIR):
        return Path(os.environ[ENV_LOCK_DIR])
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and Path(runtime).is_dir():
        return Path(runtime) / "chartforge"
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "chartforge" / "locks"


@contextmanager
def publish_lock(target: RegistryTarget, *, wait: float = DEFAULT_WAIT) -> Iterator[Path]:
    """Hold the exclusive lock of ``target`` (waiting up to ``wait`` seconds for another publish)."""
    directory = lock_dir()
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise UserError(f"cannot create the publish lock directory: {exc.strerror}", path=directory) from exc
    key = hashlib.sha256(f"{target.host}/{target.namespace}".encode()).hexdigest()[:24]
    path = directory / f"publish-{key}.lock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        raise UserError(f"cannot open the publish lock: {exc.strerror}", path=path) from exc
    try:
        deadline = time.monotonic() + wait
        announced = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
            if not announced:
                log.warning("waiting for another chartforge publish to %s to finish", target.url)
                announced = True
            if time.monotonic() >= deadline:
                raise RefusedError(
                    f"another chartforge publish to {target.url} has held its lock for {wait:.0f}s",
                    path=path,
                    hint="wait for it to finish; nothing was pushed",
                )
            time.sleep(0.2)
        yield path
    finally:
        os.close(fd)  # closing the descriptor releases the lock
