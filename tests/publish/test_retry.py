"""Bounded exponential backoff; only transient failures are retried."""

from __future__ import annotations

import pytest

from chartforge.publish.retry import RetryPolicy, TransientError, is_transient_text, retrying


def test_delays_double_and_are_capped() -> None:
    assert RetryPolicy(attempts=6, initial_delay=1, max_delay=5).delays() == [1, 2, 4, 5, 5]
    assert RetryPolicy(attempts=1).delays() == []


def test_retries_until_success() -> None:
    calls: list[int] = []
    slept: list[float] = []

    def attempt() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise TransientError("connection refused")
        return "ok"

    assert retrying(attempt, RetryPolicy(attempts=5, initial_delay=0.5), sleep=slept.append) == "ok"
    assert slept == [0.5, 1.0]


def test_gives_up_after_the_bound() -> None:
    slept: list[float] = []

    def attempt() -> None:
        raise TransientError("503")

    with pytest.raises(TransientError) as info:
        retrying(attempt, RetryPolicy(attempts=3, initial_delay=0.1), sleep=slept.append)
    assert info.value.attempts == 3
    assert slept == [0.1, 0.2]


def test_retry_after_is_honoured_within_the_cap() -> None:
    slept: list[float] = []
    seen = iter([TransientError("429", retry_after=3.0), None])

    def attempt() -> None:
        error = next(seen)
        if error:
            raise error

    retrying(attempt, RetryPolicy(attempts=2, initial_delay=0.1, max_delay=2.0), sleep=slept.append)
    assert slept == [2.0]


def test_other_errors_are_not_retried() -> None:
    calls = []

    def attempt() -> None:
        calls.append(1)
        raise ValueError("boom")

    with pytest.raises(ValueError):
        retrying(attempt, RetryPolicy(attempts=5), sleep=lambda _: None)
    assert len(calls) == 1


@pytest.mark.parametrize(
    ("text", "transient"),
    [
        ('Get "http://127.0.0.1:1/v2/": dial tcp 127.0.0.1:1: connect: connection refused', True),
        ("read: connection reset by peer", True),
        ("unexpected status code 503 Service Unavailable", True),
        ("response status code 429: toomanyrequests", True),
        ("failed to perform Push: 502 Bad Gateway", True),
        ("response status code 401: unauthorized: authentication required", False),
        ("chart name mismatch", False),
    ],
)
def test_transient_text(text: str, transient: bool) -> None:
    assert is_transient_text(text) is transient
