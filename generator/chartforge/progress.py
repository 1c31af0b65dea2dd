"""Progress of a long run as data: the stage reports each unit it finishes; the CLI shows it.

Stages never print: they call a :data:`Listener` (from worker threads too) with an
:class:`Event`. ``done == 0`` announces a stage and its size; ``done == total`` ends it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Event:
    stage: str  # build | lint | render | validate | policy
    label: str  # what just ran, e.g. "postgresql-ha × staging × helm v4.0.0"
    done: int
    total: int


Listener = Callable[[Event], None]


class Tracker:
    """Counts the finished units of one stage and tells the listener; safe across threads."""

    def __init__(self, listener: Listener | None, stage: str, total: int) -> None:
        self.listener, self.stage, self.total, self.done = listener, stage, total, 0
        self._lock = threading.Lock()
        if listener is not None:
            listener(Event(stage, "", 0, total))

    def step(self, label: str) -> None:
        if self.listener is None:
            return
        with self._lock:
            self.done += 1
            event = Event(self.stage, label, self.done, self.total)
            self.listener(event)
