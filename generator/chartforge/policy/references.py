"""Every object a pod names exists once the release is installed.

A pod that names a Secret, ConfigMap, ServiceAccount, PersistentVolumeClaim or Service that
nobody creates does not start (``CreateContainerConfigError``, ``FailedMount``, "serviceaccount
not found") or starts without its DNS name. Each such reference must be

- rendered by the release (any chart of it: ``context`` holds the other charts' objects),
- written by an object the release renders: an External Secrets ``ExternalSecret``
  (``spec.target.name``, else its name), a cert-manager ``Certificate`` (``spec.secretName``)
  or a ``SealedSecret`` (its name), or
- declared external in the values, with a description of what the operator must create:
  ``global.externalResources`` (or a chart's top-level ``externalResources``), a list of
  ``{kind, name, description[, namespace]}``; the charts' NOTES list them.

References marked ``optional: true`` are fine as they are; the ``default`` ServiceAccount and
the ``kube-root-ca.crt`` ConfigMap (the cluster CA that kube-controller-manager publishes in every
namespace since Kubernetes 1.21; a projected ServiceAccount token volume reads it) always exist. A Secret that the release renders *and* an ExternalSecret/Certificate/
SealedSecret also writes has two owners that overwrite each other: ``REF-TWO-WRITERS``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from chartforge.manifests import Manifest
from chartforge.policy.codes import Finding
from chartforge.policy.model import as_list, as_map, dig, item_key, pod_template

REF_MISSING = "REF-MISSING"
REF_TWO_WRITERS = "REF-TWO-WRITERS"
REFERENCE_KINDS = ("Secret", "ConfigMap", "ServiceAccount", "PersistentVolumeClaim", "Service")

#: Operator resources whose spec (and the listed sub-specs) carry pod fields the operator copies
#: into the pods it creates: env/envFrom, volumes, imagePullSecrets, serviceAccount.
OPERATOR_POD_SPECS: dict[str, tuple[str, ...]] = {
    "OpenTelemetryCollector": ("spec",),
    "Jaeger": (
        "spec",
        "spec.allInOne",
        "spec.agent",
        "spec.collector",
        "spec.query",
        "spec.ingester",
        "spec.storage.esIndexCleaner",
        "spec.storage.esRollover",
        "spec.storage.dependencies",
    ),
}
#: Other fields of operator resources that name an object: kind → ((dotted path, referenced kind), …).
OPERATOR_REFS: dict[str, tuple[tuple[str, str], ...]] = {
    "Jaeger": (("spec.storage.secretName", "Secret"),),
}
#: Objects Kubernetes itself keeps in every namespace.
ALWAYS_PRESENT = frozenset({("ServiceAccount", "default"), ("ConfigMap", "kube-root-ca.crt")})
_CONTAINER_LISTS = ("initContainers", "containers", "ephemeralContainers", "additionalContainers")


@dataclass(frozen=True)
class Reference:
    """One object named by a workload, at ``field`` of its manifest."""

    kind: str
    name: str
    field: str
    optional: bool = False


@dataclass(frozen=True)
class ExternalResource:
    """An object the release uses but does not create, declared in the values."""

    kind: str
    name: str
    namespace: str
    description: str


def _named(kind: str, value: Any, field: str, optional: Any = False) -> Iterator[Reference]:
    if isinstance(value, str) and value and (kind, value) not in ALWAYS_PRESENT:
        yield Reference(kind, value, field, optional is True)


def _container_refs(container: Mapping[str, Any], path: str) -> Iterator[Reference]:
    for i, env in enumerate(as_list(container.get("env"))):
        source = as_map(as_map(env).get("valueFrom"))
        where = f"{path}.env[{item_key(env, i)}].valueFrom"
        for key, kind in (("secretKeyRef", "Secret"), ("configMapKeyRef", "ConfigMap")):
            ref = as_map(source.get(key))
            yield from _named(kind, ref.get("name"), f"{where}.{key}.name", ref.get("optional"))
    for i, env_from in enumerate(as_list(container.get("envFrom"))):
        for key, kind in (("secretRef", "Secret"), ("configMapRef", "ConfigMap")):
            ref = as_map(as_map(env_from).get(key))
            yield from _named(kind, ref.get("name"), f"{path}.envFrom[{i}].{key}.name", ref.get("optional"))


def _volume_refs(volume: Mapping[str, Any], path: str) -> Iterator[Reference]:
    secret = as_map(volume.get("secret"))
    yield from _named("Secret", secret.get("secretName"), f"{path}.secret.secretName", secret.get("optional"))
    config = as_map(volume.get("configMap"))
    yield from _named("ConfigMap", config.get("name"), f"{path}.configMap.name", config.get("optional"))
    claim = as_map(volume.get("persistentVolumeClaim"))
    yield from _named(
        "PersistentVolumeClaim", claim.get("claimName"), f"{path}.persistentVolumeClaim.claimName"
    )
    csi = as_map(volume.get("csi"))
    yield from _named("Secret", as_map(csi.get("nodePublishSecretRef")).get("name"),
                      f"{path}.csi.nodePublishSecretRef.name")  # fmt: skip
    for i, source in enumerate(as_list(as_map(volume.get("projected")).get("sources"))):
        for key, kind in (("secret", "Secret"), ("configMap", "ConfigMap")):
            ref = as_map(as_map(source).get(key))
            field = f"{path}.projected.sources[{i}].{key}.name"
            yield from _named(kind, ref.get("name"), field, ref.get("optional"))


def spec_references(spec: Mapping[str, Any], path: str) -> Iterator[Reference]:
    """References in a pod spec, or in an operator resource's spec that carries pod fields."""
    for list_name in _CONTAINER_LISTS:
        for i, container in enumerate(as_list(spec.get(list_name))):
            yield from _container_refs(as_map(container), f"{path}.{list_name}[{item_key(container, i)}]")
    yield from _container_refs(spec, path)  # operator specs put env/envFrom on the spec itself
    for i, volume in enumerate(as_list(spec.get("volumes"))):
        yield from _volume_refs(as_map(volume), f"{path}.volumes[{item_key(volume, i)}]")
    for i, pull in enumerate(as_list(spec.get("imagePullSecrets"))):
        yield from _named("Secret", as_map(pull).get("name"), f"{path}.imagePullSecrets[{i}].name")
    for key in ("serviceAccountName", "serviceAccount"):
        yield from _named("ServiceAccount", spec.get(key), f"{path}.{key}")
    yield from _named("Service", spec.get("subdomain"), f"{path}.subdomain")


def references(manifest: Manifest) -> Iterator[Reference]:
    """Every object ``manifest`` names: its pod template's, or an operator resource's."""
    pod = pod_template(manifest)
    if pod is not None:
        yield from spec_references(pod.spec, pod.spec_path)
        if manifest.kind == "StatefulSet":
            yield from _named("Service", dig(manifest.obj, "spec.serviceName"), "spec.serviceName")
    for path in OPERATOR_POD_SPECS.get(manifest.kind, ()):
        yield from spec_references(as_map(dig(manifest.obj, path)), path)
    for path, kind in OPERATOR_REFS.get(manifest.kind, ()):
        yield from _named(kind, dig(manifest.obj, path), path)


def written_secret(manifest: Manifest) -> tuple[str, str] | None:
    """(name, field) of the Secret an ExternalSecret, Certificate or SealedSecret writes."""
    if manifest.kind == "ExternalSecret":
        target = dig(manifest.obj, "spec.target.name")
        return (str(target), "spec.target.name") if target else (manifest.name, "metadata.name")
    if manifest.kind == "Certificate" and dig(manifest.obj, "spec.secretName"):
        return str(dig(manifest.obj, "spec.secretName")), "spec.secretName"
    if manifest.kind == "SealedSecret":
        return manifest.name, "metadata.name"
    return None


def declared_external(values: Mapping[str, Any] | None, namespace: str = "") -> tuple[ExternalResource, ...]:
    """The ``externalResources`` declared in ``values`` (top level and ``global``)."""
    if not values:
        return ()
    lists = (values.get("externalResources"), as_map(values.get("global")).get("externalResources"))
    out = []
    for item in (as_map(i) for lst in lists for i in as_list(lst)):
        kind, name = item.get("kind"), item.get("name")
        if isinstance(kind, str) and isinstance(name, str) and name:
            ns, description = item.get("namespace") or namespace, item.get("description")
            out.append(
                ExternalResource(
                    kind, name, str(ns), description.strip() if isinstance(description, str) else ""
                )
            )
        # an entry without kind or name is refused by the charts' schema; nothing to match here
    return tuple(out)


Key = tuple[str, str, str]  # namespace, kind, name


def _ns(manifest: Manifest, namespace: str) -> str:
    return manifest.namespace or namespace


def _index(everything: Iterable[Manifest], namespace: str) -> tuple[set[Key], dict[Key, list[Manifest]]]:
    rendered: set[Key] = set()
    writers: dict[Key, list[Manifest]] = {}
    seen: set[int] = set()
    for m in everything:
        if id(m.obj) in seen:
            continue
        seen.add(id(m.obj))
        rendered.add((_ns(m, namespace), m.kind, m.name))
        written = written_secret(m)
        if written is not None:
            writers.setdefault((_ns(m, namespace), "Secret", written[0]), []).append(m)
    return rendered, writers


def reference_findings(
    manifests: Sequence[Manifest],
    context: Sequence[Manifest] = (),
    namespace: str = "",
    declared: Sequence[ExternalResource] = (),
) -> Iterator[Finding]:
    """``REF-MISSING`` for every unaccounted reference of ``manifests``, ``REF-TWO-WRITERS`` for
    every ExternalSecret/Certificate/SealedSecret of ``manifests`` whose Secret has another writer."""
    rendered, writers = _index([*manifests, *context], namespace)
    external = {(d.namespace or namespace, d.kind, d.name): d for d in declared}
    for m in manifests:
        ns = _ns(m, namespace)
        for ref in references(m):
            key = (ns, ref.kind, ref.name)
            if ref.optional or key in rendered or key in writers:
                continue
            # without a release namespace, a declaration that names none matches in any namespace
            declaration = external.get(key) or (
                external.get(("", ref.kind, ref.name)) if not namespace else None
            )
            if declaration is not None and declaration.description:
                continue
            where = f"in namespace '{ns}'" if ns else "in the release namespace"
            if declaration is not None:
                message = f"{ref.kind} '{ref.name}' is declared in externalResources without a description"
            else:
                message = (
                    f"{ref.kind} '{ref.name}' {where} is not rendered by the release, not written by an "
                    "ExternalSecret, Certificate or SealedSecret, and not declared in "
                    "global.externalResources (with a description)"
                )
            yield Finding(REF_MISSING, m, ref.field, message)
        written = written_secret(m)
        if written is not None:
            key = (ns, "Secret", written[0])
            others = [w for w in writers.get(key, []) if w.obj is not m.obj]
            owners = [f"{w.kind} '{w.name}'" for w in others]
            if key in rendered:
                owners.insert(0, f"the Secret '{written[0]}' the release renders")
            if owners:
                message = f"Secret '{written[0]}' has another writer: " + ", ".join(owners)
                yield Finding(REF_TWO_WRITERS, m, written[1], message)
