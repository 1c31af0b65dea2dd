"""Helpers of the security-baseline, observability and umbrella tests: render with overrides,
validate strictly, walk pod templates, compare Kubernetes quantities."""

from __future__ import annotations

import re
from collections.abc import Iterator
from fractions import Fraction
from typing import Any

from tests.catalog.conftest import ROOT, catalog

from chartforge.validate import parse_manifest_text, validate_resources

#: Workload kinds with a pod template, and where it is.
POD_TEMPLATE_PATHS = {
    "Deployment": ("spec", "template"),
    "StatefulSet": ("spec", "template"),
    "DaemonSet": ("spec", "template"),
    "Job": ("spec", "template"),
    "CronJob": ("spec", "jobTemplate", "spec", "template"),
}


def strict_errors(text: str) -> list[str]:
    """Every schema error of the manifests in ``text`` on every supported Kubernetes version."""
    report = validate_resources(
        parse_manifest_text(text, "<helm template>"), [str(v) for v in catalog().kubernetes_versions], engine="builtin",
        crd_dir=ROOT / "sources" / "crds",
    )  # fmt: skip
    return [
        f"{r.resource.kind}/{r.resource.name} k8s {r.kubernetes_version}: {r.status} "
        + "; ".join(f"{e.path} {e.message}" for e in r.errors)
        for r in report.results
        if not r.valid
    ]


def pod_templates(objects: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(owner, pod template) of every workload in ``objects``."""
    for obj in objects:
        path = POD_TEMPLATE_PATHS.get(obj["kind"])
        if path is None:
            continue
        node: Any = obj
        for key in path:
            node = node[key]
        yield obj, node


def containers(pod: dict[str, Any]) -> list[dict[str, Any]]:
    spec = pod["spec"]
    return list(spec.get("containers", [])) + list(spec.get("initContainers", []))


_QUANTITY = re.compile(r"^([0-9.]+)([a-zA-Z]*)$")
_SUFFIX: dict[str, Fraction] = {
    "": Fraction(1), "m": Fraction(1, 1000), "k": Fraction(10**3), "M": Fraction(10**6), "G": Fraction(10**9),
    "T": Fraction(10**12), "Ki": Fraction(2**10), "Mi": Fraction(2**20), "Gi": Fraction(2**30),
    "Ti": Fraction(2**40), "Pi": Fraction(2**50),
}  # fmt: skip


def quantity(value: Any) -> Fraction:
    """A Kubernetes quantity ("500m", "2Gi", 4) as an exact number."""
    match = _QUANTITY.match(str(value))
    assert match and match.group(2) in _SUFFIX, f"not a quantity: {value!r}"
    return Fraction(match.group(1)) * _SUFFIX[match.group(2)]
