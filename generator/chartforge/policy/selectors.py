"""Kubernetes label selector semantics (``matchLabels`` + ``matchExpressions``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from chartforge.policy.model import as_list, as_map


def _expression_matches(expr: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    key = str(expr.get("key") or "")
    operator = expr.get("operator")
    values = {str(v) for v in as_list(expr.get("values"))}
    if operator == "In":
        return key in labels and labels[key] in values
    if operator == "NotIn":
        return key not in labels or labels[key] not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    return False  # an unknown operator is rejected by the API server; match nothing


def selects(selector: Any, labels: Mapping[str, Any]) -> bool:
    """Whether ``selector`` selects an object with ``labels``.

    ``None`` (a null selector) selects nothing; ``{}`` (an empty selector) selects everything,
    as for ``PodDisruptionBudget.spec.selector`` (policy/v1) and ``NetworkPolicy.spec.podSelector``.
    """
    if selector is None or not isinstance(selector, Mapping):
        return False
    have = {str(k): str(v) for k, v in labels.items()}
    for key, value in as_map(selector.get("matchLabels")).items():
        if have.get(str(key)) != str(value):
            return False
    return all(_expression_matches(as_map(e), have) for e in as_list(selector.get("matchExpressions")))
