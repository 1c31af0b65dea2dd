"""The policy stage's view of rendered objects (:class:`~chartforge.manifests.Manifest`): pod templates, containers.

Every check walks the same structures, so the field paths in findings are built in one
place: containers are addressed by name (``spec.template.spec.containers[postgres]``),
which survives reordering better than an index.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from chartforge.errors import UserError
from chartforge.kube import KubeVersion
from chartforge.manifests import Manifest

Obj = Mapping[str, Any]

#: kind → dotted path of the pod template's ``metadata``/``spec`` parent ("" = the object itself).
POD_TEMPLATE_PARENTS: dict[str, str] = {
    "Pod": "",
    "PodTemplate": "template",
    "Deployment": "spec.template",
    "StatefulSet": "spec.template",
    "DaemonSet": "spec.template",
    "ReplicaSet": "spec.template",
    "ReplicationController": "spec.template",
    "Job": "spec.template",
    "CronJob": "spec.jobTemplate.spec.template",
}
#: Workloads whose pods run until stopped (probes apply); Jobs and CronJobs run to completion.
LONG_RUNNING = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController"})
#: Workloads with a ``spec.replicas`` count (a PodDisruptionBudget matters when it exceeds one).
REPLICATED = frozenset({"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"})
CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers")


def as_map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def dig(obj: Any, dotted: str) -> Any:
    """``obj["a"]["b"]`` for ``"a.b"``; ``None`` when any step is missing."""
    node = obj
    for part in dotted.split(".") if dotted else ():
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def join(*parts: str) -> str:
    return ".".join(p for p in parts if p)


@dataclass(frozen=True)
class Container:
    spec: Mapping[str, Any]
    list_name: str  # initContainers | containers | ephemeralContainers
    path: str  # e.g. spec.template.spec.containers[postgres]

    @property
    def name(self) -> str:
        return str(self.spec.get("name") or "")

    @property
    def security(self) -> Mapping[str, Any]:
        return as_map(self.spec.get("securityContext"))

    @property
    def is_sidecar(self) -> bool:
        """A native sidecar: an init container with ``restartPolicy: Always`` (runs for the pod's life)."""
        return self.list_name == "initContainers" and self.spec.get("restartPolicy") == "Always"


@dataclass(frozen=True)
class PodTemplate:
    """The pod part of a workload: its metadata, spec and the dotted paths to them."""

    manifest: Manifest
    metadata: Mapping[str, Any]
    spec: Mapping[str, Any]
    meta_path: str
    spec_path: str
    containers: tuple[Container, ...] = field(default=())

    @property
    def labels(self) -> Mapping[str, Any]:
        return as_map(self.metadata.get("labels"))

    @property
    def security(self) -> Mapping[str, Any]:
        return as_map(self.spec.get("securityContext"))

    @property
    def is_windows(self) -> bool:
        return as_map(self.spec.get("os")).get("name") == "windows"

    def with_lists(self, *lists: str) -> Iterator[Container]:
        return (c for c in self.containers if c.list_name in lists)


def _key(item: Mapping[str, Any], index: int) -> str:
    name = item.get("name")
    return str(name) if isinstance(name, str) and name else str(index)


def pod_template(manifest: Manifest) -> PodTemplate | None:
    """The pod template of a workload (or the Pod itself); ``None`` for other kinds."""
    parent = POD_TEMPLATE_PARENTS.get(manifest.kind)
    if parent is None:
        return None
    node = manifest.obj if not parent else dig(manifest.obj, parent)
    if not isinstance(node, Mapping):
        return None
    spec = as_map(node.get("spec"))
    spec_path = join(parent, "spec")
    containers = tuple(
        Container(as_map(c), list_name, f"{spec_path}.{list_name}[{_key(as_map(c), i)}]")
        for list_name in CONTAINER_LISTS
        for i, c in enumerate(as_list(spec.get(list_name)))
    )
    return PodTemplate(
        manifest=manifest,
        metadata=as_map(node.get("metadata")),
        spec=spec,
        meta_path=join(parent, "metadata"),
        spec_path=spec_path,
        containers=containers,
    )


def item_key(item: Any, index: int) -> str:
    """How list items appear in field paths: by ``name`` when they have one, else by index."""
    return _key(as_map(item), index)


Version = tuple[int, int] | None


def parse_version(text: str) -> Version:
    """``"1.34"``/``"v1.34.2"`` → ``(1, 34)``; empty or unparsable → ``None`` (newest rules)."""
    try:
        parsed = KubeVersion.parse(text)
    except UserError:
        return None
    return (parsed.major, parsed.minor)


def at_least(version: Version, minimum: tuple[int, int]) -> bool:
    """Whether a rule introduced in ``minimum`` applies (an unknown version gets every rule)."""
    return version is None or version >= minimum
