"""envvalues.subchart_values: the one place that decides what a sub-chart receives."""

from __future__ import annotations

from chartforge.compile.envvalues import subchart_values


def test_subchart_gets_its_section_and_global_without_enabled() -> None:
    values = {"global": {"environment": "prod"}, "redis": {"enabled": True, "replicas": 3}, "pg": {"x": 1}}
    assert subchart_values(values, "redis") == {"replicas": 3, "global": {"environment": "prod"}}


def test_umbrella_gets_everything_and_missing_section_is_empty() -> None:
    values = {"global": {"a": 1}, "redis": {"enabled": False}}
    assert subchart_values(values, "umbrella", umbrella=True) == values
    assert subchart_values(values, "absent") == {"global": {"a": 1}}
    assert subchart_values({}, "absent") == {"global": {}}


def test_result_is_a_copy() -> None:
    values = {"global": {"a": {"b": 1}}, "redis": {"r": {"s": 2}}}
    out = subchart_values(values, "redis")
    out["global"]["a"]["b"] = 9
    out["r"]["s"] = 9
    assert values == {"global": {"a": {"b": 1}}, "redis": {"r": {"s": 2}}}
