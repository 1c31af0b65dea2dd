"""Helpers for the policy tests: case folders and small inline workloads."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from tests.conftest import CASES

POLICY_CASES = CASES / "policy"
CLEAN = POLICY_CASES / "positive" / "restricted-deployment" / "manifest.yaml"


def case_dirs(kind: str) -> list[Path]:
    return sorted(p for p in (POLICY_CASES / kind).iterdir() if p.is_dir())


def deployment(**spec_overrides: Any) -> dict[str, Any]:
    """A minimal clean restricted Deployment (1 replica) to mutate in unit tests."""
    container = {
        "name": "app",
        "image": "registry.example.com/app:1.0.0",
        "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
        "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "1", "memory": "64Mi"}},
        "livenessProbe": {"tcpSocket": {"port": 8080}},
        "readinessProbe": {"tcpSocket": {"port": 8080}},
    }
    pod_spec: dict[str, Any] = {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [container],
    }
    pod_spec.update(spec_overrides)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app"},
        "spec": {
            "selector": {"matchLabels": {"app": "app"}},
            "template": {"metadata": {"labels": {"app": "app"}}, "spec": pod_spec},
        },
    }


def allow_all_netpol() -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "deny"},
        "spec": {"podSelector": {}},
    }


def clone(obj: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(obj)
