"""PodDisruptionBudget and NetworkPolicy coverage across objects and namespaces."""

from __future__ import annotations

from typing import Any

from chartforge.manifests import Manifest
from chartforge.policy import check_manifests
from tests.policy.conftest import allow_all_netpol, deployment


def pdb(selector: Any, namespace: str = "") -> dict[str, Any]:
    meta = {"name": "pdb", **({"namespace": namespace} if namespace else {})}
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": meta,
        "spec": {"selector": selector},
    }


def hpa(min_replicas: int | None, namespace: str = "") -> dict[str, Any]:
    spec: dict[str, Any] = {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "app"}}
    if min_replicas is not None:
        spec["minReplicas"] = min_replicas
    meta = {"name": "app", **({"namespace": namespace} if namespace else {})}
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": meta, "spec": spec}


def found(*objs: dict[str, Any], namespace: str = "") -> list[str]:
    return sorted(f.code for f in check_manifests([Manifest.of(o) for o in objs], "", namespace))


def replicated(n: int) -> dict[str, Any]:
    obj = deployment()
    obj["spec"]["replicas"] = n
    return obj


def test_single_replica_needs_no_pdb() -> None:
    assert found(replicated(1), allow_all_netpol()) == []


def test_replicas_above_one_need_a_pdb() -> None:
    assert found(replicated(2), allow_all_netpol()) == ["PDB-MISSING"]
    assert found(replicated(2), allow_all_netpol(), pdb({"matchLabels": {"app": "app"}})) == []


def test_null_pdb_selector_selects_nothing_and_empty_selects_all() -> None:
    assert found(replicated(2), allow_all_netpol(), pdb(None)) == ["PDB-MISSING"]
    assert found(replicated(2), allow_all_netpol(), pdb({})) == []


def test_hpa_min_replicas_decides() -> None:
    assert found(replicated(3), allow_all_netpol(), hpa(1)) == []
    assert found(replicated(3), allow_all_netpol(), hpa(None)) == []  # minReplicas defaults to 1
    assert found(replicated(1), allow_all_netpol(), hpa(2)) == ["PDB-MISSING"]


def test_hpa_in_another_namespace_does_not_count() -> None:
    assert found(replicated(1), allow_all_netpol(), hpa(2, namespace="other")) == []


def test_release_namespace_joins_unnamespaced_objects_with_explicit_ones() -> None:
    netpol = allow_all_netpol()
    netpol["metadata"]["namespace"] = "prod"
    assert found(deployment(), netpol) == ["NETPOL-UNCOVERED"]
    assert found(deployment(), netpol, namespace="prod") == []
    assert found(deployment(), netpol, namespace="staging") == ["NETPOL-UNCOVERED"]


def test_every_pod_kind_needs_network_policy_coverage() -> None:
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "j"}, "spec": {"template": {}}}
    assert found(job) == ["NETPOL-UNCOVERED"]
    assert found(job, allow_all_netpol()) == []


def test_daemonsets_have_no_replica_count() -> None:
    obj = deployment()
    obj["kind"] = "DaemonSet"
    obj["spec"]["replicas"] = 5
    assert found(obj, allow_all_netpol()) == []


def test_context_objects_cover_but_are_not_checked() -> None:
    """An umbrella's sub-chart share: security-baseline's default-deny NetworkPolicy covers it."""
    from chartforge.policy import run_policy

    netpol = allow_all_netpol()
    broken_other = deployment()
    broken_other["metadata"]["name"] = "other"
    broken_other["spec"]["template"]["spec"]["containers"][0]["image"] = "nginx"
    checked = replicated(2)
    pdb_obj = pdb({"matchLabels": {"app": "app"}})
    assert sorted(d.code for d in run_policy([Manifest.of(checked)], chart="a", environment="e")) == [
        "NETPOL-UNCOVERED",
        "PDB-MISSING",
    ]
    found = run_policy(
        [Manifest.of(checked)],
        chart="a",
        environment="e",
        context=[Manifest.of(o) for o in (netpol, broken_other, pdb_obj)],
    )
    assert found == []  # covered, and the untagged image of the context Deployment is not reported
