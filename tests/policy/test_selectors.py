from __future__ import annotations

from typing import Any

import pytest

from chartforge.policy.selectors import selects

LABELS = {"app": "db", "tier": "backend"}


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (None, False),
        ({}, True),
        ({"matchLabels": {"app": "db"}}, True),
        ({"matchLabels": {"app": "db", "tier": "frontend"}}, False),
        ({"matchLabels": {"zone": "a"}}, False),
        ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["db", "cache"]}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["cache"]}]}, False),
        ({"matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]}, False),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["cache"]}]}, True),
        ({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["db"]}]}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "zone", "operator": "Exists"}]}, False),
        ({"matchExpressions": [{"key": "zone", "operator": "DoesNotExist"}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, False),
        ({"matchExpressions": [{"key": "app", "operator": "Bogus"}]}, False),
        ({"matchLabels": {"app": "db"}, "matchExpressions": [{"key": "tier", "operator": "Exists"}]}, True),
        (
            {"matchLabels": {"app": "db"}, "matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]},
            False,
        ),
    ],
)
def test_label_selector_semantics(selector: Any, expected: bool) -> None:
    assert selects(selector, LABELS) is expected
