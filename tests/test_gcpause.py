"""The cyclic collector is paused during a parse and a validation, and left as it was found."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from chartforge import gcpause
from chartforge.manifests import parse_manifest_text


@pytest.fixture(autouse=True)
def collector_restored() -> Iterator[None]:
    running = gc.isenabled()
    yield
    if running:
        gc.enable()
    else:  # pragma: no cover - the suite runs with the collector on
        gc.disable()


def test_paused_inside_resumed_after_also_when_the_block_fails() -> None:
    gc.enable()
    with gcpause.paused():
        assert not gc.isenabled()
        with gcpause.paused():  # nested: the outer block resumes it
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError), gcpause.paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_collector_the_caller_turned_off_stays_off() -> None:
    gc.disable()
    with gcpause.paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_the_parse_runs_without_collections_and_leaves_the_collector_on() -> None:
    gc.enable()
    text = "".join(f"---\nkind: ConfigMap\napiVersion: v1\nmetadata:\n  name: c{i}\n" for i in range(3000))
    started: list[str] = []

    def record(phase: str, info: dict[str, int]) -> None:
        started.append(phase)

    gc.callbacks.append(record)
    try:
        records = parse_manifest_text(text, "cm.yaml")
        count = len(started)  # read before anything allocates a container (which may start one)
    finally:
        gc.callbacks.remove(record)
    assert len(records) == 3000 and gc.isenabled()
    assert count <= 2  # start and stop of one, as the block ends; without the pause 17 collections
