"""Progress of ``check`` on stderr: a live status line on a terminal, one line per stage otherwise."""

from __future__ import annotations

import sys
import threading
import time
from typing import TextIO

from chartforge.progress import Event


class ProgressPrinter:
    """A :data:`chartforge.progress.Listener`; stdout is never touched (it carries the result)."""

    def __init__(self, stream: TextIO | None = None, *, tty: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty() if tty is None else tty
        self.totals: dict[str, int] = {}
        self.done: dict[str, int] = {}
        self.started: dict[str, float] = {}
        self._lock = threading.Lock()
        self._live = False

    def __call__(self, event: Event) -> None:
        with self._lock:
            if event.done == 0:
                self.totals[event.stage] = event.total
                self.started[event.stage] = time.monotonic()
            self.done[event.stage] = event.done
            if self.tty:
                self._status(event)
            elif event.total and event.done == event.total:
                took = time.monotonic() - self.started.get(event.stage, time.monotonic())
                self.stream.write(f"check: {event.stage}: {event.total} done in {took:.1f}s\n")
                self.stream.flush()

    def _status(self, event: Event) -> None:
        left = sum(self.totals.values()) - sum(self.done.values())
        what = f" · {event.label}" if event.label else ""
        line = f"check: {event.stage} {event.done}/{event.total}{what} · {left} left"
        self.stream.write("\r\x1b[K" + line)
        self.stream.flush()
        self._live = True

    def close(self) -> None:
        """Clear the live line (terminal) so the result's text starts on a clean line."""
        with self._lock:
            if self._live:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
                self._live = False
