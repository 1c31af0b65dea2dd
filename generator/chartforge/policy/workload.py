"""Operational checks on every pod template: resources, probes, pinned images."""

from __future__ import annotations

from collections.abc import Iterator

from chartforge.policy.codes import Finding
from chartforge.policy.model import LONG_RUNNING, PodTemplate, Version, as_map
from chartforge.policy.pss_baseline import Check, finding


def resources(pod: PodTemplate, version: Version) -> Iterator[Finding]:
    """CPU and memory requests and limits on every container and init container
    (ephemeral debug containers cannot declare resources)."""
    for c in pod.with_lists("initContainers", "containers"):
        res = as_map(c.spec.get("resources"))
        for section, code in (("requests", "RES-REQUESTS"), ("limits", "RES-LIMITS")):
            values = as_map(res.get(section))
            for resource in ("cpu", "memory"):
                if values.get(resource) in (None, ""):
                    field = f"{c.path}.resources.{section}.{resource}"
                    message = f"container '{c.name}' has no {resource} {section[:-1]}"
                    yield finding(pod, code, field, message)


def _long_running(pod: PodTemplate) -> bool:
    kind = pod.manifest.kind
    if kind == "Pod":
        return pod.spec.get("restartPolicy") in (None, "Always")
    return kind in LONG_RUNNING


def probes(pod: PodTemplate, version: Version) -> Iterator[Finding]:
    """Liveness and readiness probes on the containers of long-running workloads (native
    sidecars included; Jobs, CronJobs and ordinary init containers run to completion)."""
    if not _long_running(pod):
        return
    for c in pod.containers:
        if c.list_name != "containers" and not c.is_sidecar:
            continue
        for key, code in (("livenessProbe", "PROBE-LIVENESS"), ("readinessProbe", "PROBE-READINESS")):
            if not c.spec.get(key):
                yield finding(pod, code, f"{c.path}.{key}", f"container '{c.name}' has no {key}")


def split_image(image: str) -> tuple[str, str, str]:
    """``registry/repo:tag@sha256:…`` → (repository, tag, digest); missing parts are ``""``."""
    rest, _, digest = image.partition("@")
    slash = rest.rfind("/")
    colon = rest.rfind(":")
    if colon > slash:
        return rest[:colon], rest[colon + 1 :], digest
    return rest, "", digest


def images(pod: PodTemplate, version: Version) -> Iterator[Finding]:
    for c in pod.containers:
        image = c.spec.get("image")
        if not isinstance(image, str):
            continue
        _, tag, digest = split_image(image.strip())
        if digest:
            continue  # a digest pins the content whatever the tag says
        field = f"{c.path}.image"
        if not tag:
            yield finding(
                pod, "IMAGE-UNTAGGED", field, f"container '{c.name}' image '{image}' has no tag or digest"
            )
        elif tag == "latest":
            yield finding(
                pod, "IMAGE-LATEST", field, f"container '{c.name}' image '{image}' uses the latest tag"
            )


WORKLOAD_CHECKS: tuple[Check, ...] = (resources, probes, images)
