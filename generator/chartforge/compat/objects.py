"""The Kubernetes objects of two renderings, matched old ↔ new.

An object is identified the way the API server (and Helm's three-way merge) identify it: API
group (not version: ``apps/v1`` and ``apps/v1beta2`` are the same object), kind, namespace and
name. Helm hooks are not part of the release's manifest: Helm creates them at each hook run,
and with ``helm.sh/hook-delete-policy: before-hook-creation`` (Helm's default when no policy is
given) it deletes the previous one first, so an immutable field of a hook never blocks an upgrade.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chartforge.errors import UserError
from chartforge.manifests import Manifest, load_manifests, parse_manifest_text

HOOK = "helm.sh/hook"
HOOK_DELETE_POLICY = "helm.sh/hook-delete-policy"
RESOURCE_POLICY = "helm.sh/resource-policy"
Key = tuple[str, str, str, str]  # group, kind, namespace, name

_MISSING = object()


def group_of(api_version: str) -> str:
    """``apps/v1`` → ``apps``; ``v1`` → ``""`` (the core group)."""
    return api_version.rsplit("/", 1)[0] if "/" in api_version else ""


@dataclass(frozen=True)
class K8sObject:
    api_version: str
    kind: str
    namespace: str
    name: str
    body: dict[str, Any] = field(compare=False, repr=False)
    source: str = ""  # "# Source:" template path or the manifest file

    @property
    def key(self) -> Key:
        return (group_of(self.api_version), self.kind, self.namespace, self.name)

    @property
    def ref(self) -> str:
        """``Kind namespace/name`` (``Kind name`` without a namespace), for messages."""
        return f"{self.kind} {self.namespace + '/' if self.namespace else ''}{self.name}"

    @property
    def annotations(self) -> dict[str, str]:
        meta = self.body.get("metadata") or {}
        found = meta.get("annotations") or {}
        return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}

    @property
    def is_hook(self) -> bool:
        return bool(self.annotations.get(HOOK, "").strip())

    @property
    def recreated_by_hook(self) -> bool:
        """A hook Helm deletes before creating it again (``before-hook-creation``, the default)."""
        if not self.is_hook:
            return False
        policy = self.annotations.get(HOOK_DELETE_POLICY)
        if policy is None or not policy.strip():
            return True
        return "before-hook-creation" in {p.strip() for p in policy.split(",")}

    @property
    def kept_on_delete(self) -> bool:
        """``helm.sh/resource-policy: keep``: Helm leaves it in the cluster when it leaves the chart."""
        return self.annotations.get(RESOURCE_POLICY, "").strip() == "keep"

    def get(self, *path: str | int, default: Any = None) -> Any:
        """The value at ``path`` (keys and list indexes), ``default`` when any step is missing."""
        node: Any = self.body
        for step in path:
            if isinstance(step, int):
                if not isinstance(node, list) or step >= len(node):
                    return default
                node = node[step]
            else:
                if not isinstance(node, dict) or step not in node:
                    return default
                node = node[step]
        return node

    def spec(self) -> dict[str, Any]:
        found = self.body.get("spec")
        return found if isinstance(found, dict) else {}


def _objects(resources: Iterable[Manifest], what: str) -> Iterator[K8sObject]:
    for res in resources:
        if not res.ok:
            raise UserError(f"{res.error}", path=res.file, line=res.error_line, key=what)
        if not res.name:
            raise UserError(f"{res.kind} without metadata.name", path=res.file, line=res.line, key=what)
        yield K8sObject(res.api_version, res.kind, res.namespace, res.name, res.obj, res.location)


@dataclass(frozen=True)
class Rendering:
    """The objects of one rendering, by key; duplicates are an error naming both."""

    objects: dict[Key, K8sObject]
    label: str = ""

    @classmethod
    def of(cls, objects: Iterable[K8sObject], label: str = "") -> Rendering:
        found: dict[Key, K8sObject] = {}
        for obj in objects:
            if obj.key in found:
                raise UserError(
                    f"{obj.ref} is defined twice ({found[obj.key].source or '?'} and {obj.source or '?'})",
                    key=label or None,
                )
            found[obj.key] = obj
        return cls(found, label)

    @classmethod
    def from_text(cls, text: str, label: str) -> Rendering:
        return cls.of(_objects(parse_manifest_text(text, label), label), label)

    @classmethod
    def from_paths(cls, paths: Sequence[Path], label: str) -> Rendering:
        for path in paths:
            if str(path) != "-" and not path.exists():
                raise UserError("no such file or directory", path=path, key=label,
                                hint="pass rendered manifests: files or directories of multi-document YAML")  # fmt: skip
        return cls.of(_objects(load_manifests(list(paths)), label), label)

    def __iter__(self) -> Iterator[K8sObject]:
        return iter(self.objects.values())


@dataclass(frozen=True)
class Pair:
    """The same object before and after; ``old`` or ``new`` is None when added or removed."""

    old: K8sObject | None
    new: K8sObject | None

    @property
    def any(self) -> K8sObject:
        found = self.new or self.old
        assert found is not None
        return found


def match(old: Rendering, new: Rendering) -> list[Pair]:
    """Every object of either rendering, paired by group/kind/namespace/name, in a stable order."""
    keys = sorted(set(old.objects) | set(new.objects))
    return [Pair(old.objects.get(k), new.objects.get(k)) for k in keys]
