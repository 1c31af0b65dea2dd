"""One pure computation in a forked child beside the caller's own work: a large stream parsed on two cores.

:func:`start` forks; the child computes ``fn()`` and writes the value back through a pipe in
``marshal`` form (plain ``dict``/``list``/``str``/numbers/``None``/``tuple``/``bytes``: what a
YAML parser builds), then leaves with ``os._exit`` (no ``atexit`` handler, no stdio flush, no
``finally`` of the caller's frames). :meth:`Child.result` waits for it and gives the value, or
``None`` when the child gave none (it failed, was killed, or built something ``marshal`` cannot
write): the caller then computes the same value itself, so a result never depends on the child.

It forks only where that is safe and can pay: on Linux, from a process with a single thread (a
fork copies no other thread, and a lock one of them held would stay locked in the child), with at
least two CPUs this process may run on, and a CPU to spare: a load average (last minute) under the
CPU count less one half. On a busy machine the child would only take turns with its parent, and
the copy-on-write faults and the transfer cost about 40 % more CPU than one process spends.
``CHARTFORGE_PARSE_FORK=always`` skips the load test (never the others), ``never`` never forks.
Elsewhere :func:`start` returns ``None``.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import signal
import sys
import threading
from collections.abc import Callable
from typing import Any

from chartforge.errors import UsageError

MODE_ENV = "CHARTFORGE_PARSE_FORK"
_READ = 1 << 20


def usable() -> bool:
    """Whether :func:`start` may fork here: Linux, one thread, two CPUs or more for this process,
    one of them idle (unless ``CHARTFORGE_PARSE_FORK`` says ``always`` or ``never``)."""
    mode = os.environ.get(MODE_ENV, "auto")
    if mode not in ("auto", "always", "never"):
        raise UsageError(f"{MODE_ENV} is {mode!r}", hint="use auto (the default), always or never")
    if mode == "never" or sys.platform != "linux" or threading.active_count() != 1:
        return False
    cpus = len(os.sched_getaffinity(0))
    return cpus >= 2 and (mode == "always" or os.getloadavg()[0] < cpus - 0.5)


class Child:
    """A forked child computing one value; :meth:`result` once, or :meth:`cancel`."""

    def __init__(self, pid: int, fd: int) -> None:
        self._pid, self._fd = pid, fd

    def result(self) -> object | None:
        """The child's value (waits for it), or ``None`` when it gave none."""
        chunks = []
        try:
            while block := os.read(self._fd, _READ):
                chunks.append(block)
        except BaseException:  # interrupted (Ctrl-C, SIGTERM): no waiting for the child's work
            self.cancel()
            raise
        os.close(self._fd)
        _, status = os.waitpid(self._pid, 0)
        data = b"".join(chunks)
        if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 and data[:1] == b"1"):
            return None
        try:
            value: object = marshal.loads(memoryview(data)[1:])
        except (EOFError, ValueError, TypeError):
            return None
        return value

    def cancel(self) -> None:
        """Stop the child and reap it (the caller failed, or no longer needs the value)."""
        with contextlib.suppress(ProcessLookupError):  # already gone
            os.kill(self._pid, signal.SIGKILL)
        os.close(self._fd)
        os.waitpid(self._pid, 0)


def _run_child(fn: Callable[[], Any], fd: int) -> None:  # pragma: no cover - runs in the child
    code = 1
    try:
        view = memoryview(b"1" + marshal.dumps(fn()))
        while view:
            view = view[os.write(fd, view) :]
        code = 0
    except BaseException:  # any failure: no value, the parent computes it itself
        pass
    finally:
        os._exit(code)


def start(fn: Callable[[], Any]) -> Child | None:
    """Compute ``fn()`` in a forked child; ``None`` when forking is not :func:`usable` or fails."""
    if not usable():
        return None
    read_fd, write_fd = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_fd)
        os.close(write_fd)
        return None
    if pid == 0:  # pragma: no cover - the child
        os.close(read_fd)
        _run_child(fn, write_fd)
    os.close(write_fd)
    return Child(pid, read_fd)
