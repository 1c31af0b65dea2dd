"""Bounded retries with exponential backoff for transient registry failures.

Transient means the same request may well succeed a moment later: connection refused or
reset, timeouts, HTTP 5xx and 429. Anything else (401, 404, a TLS verification error)
fails at once. The bound is a number of attempts, small in tests.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

# What helm (Go's net/http, oras) prints for the failures worth retrying.
_TRANSIENT_TEXT = re.compile(
    r"connection refused|connection reset|broken pipe|i/o timeout|timeout|unexpected EOF|\bEOF\b"
    r"|server misbehaving|TLS handshake timeout|too many requests|service unavailable|bad gateway"
    r"|gateway timeout|internal server error|\b(?:429|500|502|503|504)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 5  # total tries, including the first
    initial_delay: float = 1.0
    factor: float = 2.0
    max_delay: float = 15.0

    def delays(self) -> list[float]:
        """The waits between attempts: ``initial, initial·factor, …`` capped at ``max_delay``."""
        return [
            min(self.max_delay, self.initial_delay * self.factor**i) for i in range(max(0, self.attempts - 1))
        ]


class TransientError(Exception):
    """Raised by an attempt that may succeed if repeated; ``retry_after`` from the server."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.attempts = 1


def is_transient_text(text: str) -> bool:
    return bool(_TRANSIENT_TEXT.search(text))


def retrying(
    attempt: Callable[[], T],
    policy: RetryPolicy,
    *,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[int, float, str], None] | None = None,
) -> T:
    """Call ``attempt`` until it returns; retry on :class:`TransientError` up to the bound.

    The last :class:`TransientError` propagates once the attempts are used up, with
    ``.attempts`` telling how many were made.
    """
    delays = policy.delays()
    for number in range(1, policy.attempts + 1):
        try:
            return attempt()
        except TransientError as exc:
            if number > len(delays):
                exc.attempts = number
                raise
            wait = delays[number - 1]
            if exc.retry_after is not None:
                wait = min(policy.max_delay, max(wait, exc.retry_after))
            if on_retry is not None:
                on_retry(number, wait, str(exc))
            sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover
