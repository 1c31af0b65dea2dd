"""The image inventory: every container image the catalog deploys, in every environment.

The umbrella is rendered with ``helm template`` per environment (``values/<env>.yaml``, the
newest supported Kubernetes version) and every image reference is collected: the containers,
init containers and ephemeral containers of every pod template (CronJob job templates
included), and the ``image`` fields of operator resources whose operator starts the pods
(``OpenTelemetryCollector.spec.image``, ``Jaeger.spec.collector.image``…). References are
deduplicated; each keeps where it is used (chart, environment, workload, container). The result
is what a vulnerability scanner (trivy, grype) or an air-gapped mirror (``crane copy``,
``skopeo sync``) consumes: ``chartforge images --output json``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chartforge import helm as helmcmd
from chartforge.compile.assemble import assemble
from chartforge.compile.catalog import Catalog, load_catalog
from chartforge.errors import UsageError
from chartforge.manifests import Manifest, objects_only, parse_manifest_text
from chartforge.policy.model import as_map, pod_template
from chartforge.policy.workload import split_image
from chartforge.tools import Helm, find_helm


@dataclass(frozen=True, order=True)
class ImageUse:
    """One place an image runs: ``container`` is the container name, or the field path of an
    operator resource's image (``spec.collector.image``)."""

    chart: str
    environment: str
    kind: str
    workload: str
    container: str

    def to_dict(self) -> dict[str, str]:
        return {
            "chart": self.chart,
            "environment": self.environment,
            "kind": self.kind,
            "workload": self.workload,
            "container": self.container,
        }


@dataclass(frozen=True)
class Image:
    reference: str
    repository: str  # registry/path, without tag or digest
    tag: str
    digest: str  # "" unless pinned (repo:tag@sha256:…)
    uses: tuple[ImageUse, ...]

    @property
    def charts(self) -> tuple[str, ...]:
        return tuple(sorted({u.chart for u in self.uses}))

    @property
    def environments(self) -> tuple[str, ...]:
        return tuple(sorted({u.environment for u in self.uses}))

    def to_dict(self) -> dict[str, Any]:
        return {
            "image": self.reference,
            "repository": self.repository,
            "tag": self.tag,
            "digest": self.digest,
            "charts": list(self.charts),
            "environments": list(self.environments),
            "uses": [u.to_dict() for u in self.uses],
        }


@dataclass(frozen=True)
class ImagesResult:
    environments: tuple[str, ...]
    kubernetes_version: str
    images: tuple[Image, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "environments": list(self.environments),
            "kubernetes_version": self.kubernetes_version,
            "images": [i.to_dict() for i in self.images],
        }


def _operator_images(node: Any, path: str) -> Iterator[tuple[str, str]]:
    """(field path, reference) of every string ``image`` field in an operator resource."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            where = f"{path}.{key}" if path else str(key)
            if key == "image" and isinstance(value, str) and value.strip():
                yield where, value.strip()
            elif isinstance(value, Mapping | list):
                yield from _operator_images(value, where)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            name = as_map(item).get("name")
            yield from _operator_images(item, f"{path}[{name if isinstance(name, str) and name else i}]")


def manifest_images(manifest: Manifest) -> Iterator[tuple[str, str]]:
    """(container name or field path, image reference) of one rendered object."""
    pod = pod_template(manifest)
    if pod is not None:
        for c in pod.containers:
            image = c.spec.get("image")
            if isinstance(image, str) and image.strip():
                yield c.name or c.path, image.strip()
        return
    yield from _operator_images(as_map(manifest.obj.get("spec")), "spec")  # operator resources


def collect(uses: Sequence[tuple[str, ImageUse]]) -> tuple[Image, ...]:
    """Deduplicate (reference, use) pairs into images sorted by reference, uses sorted."""
    by_ref: dict[str, set[ImageUse]] = {}
    for reference, use in uses:
        by_ref.setdefault(reference, set()).add(use)
    images = []
    for reference in sorted(by_ref):
        repository, tag, digest = split_image(reference)
        images.append(Image(reference, repository, tag, digest, tuple(sorted(by_ref[reference]))))
    return tuple(images)


def _chart_of(catalog: Catalog, source: str) -> str:
    """``spotify-ai-agent/charts/postgresql-ha/templates/x.yaml`` → ``postgresql-ha``."""
    parts = source.split("/")
    return parts[2] if len(parts) > 3 and parts[1] == "charts" else catalog.umbrella


def rendering_images(catalog: Catalog, environment: str, text: str) -> list[tuple[str, ImageUse]]:
    """Every (reference, use) in one ``helm template`` output of the umbrella."""
    out = []
    for m in objects_only(parse_manifest_text(text, f"<helm template {catalog.umbrella} {environment}>")):
        for container, reference in manifest_images(m):
            out.append(
                (reference, ImageUse(_chart_of(catalog, m.source), environment, m.kind, m.name, container))
            )
    return out


def list_images(
    root: Path | str = ".",
    *,
    environments: Sequence[str] | None = None,
    helm: Helm | None = None,
    jobs: int = 3,
) -> ImagesResult:
    """Render the built catalog (``charts/``, ``values/``) per environment and list its images."""
    catalog = load_catalog(root)
    envs = tuple(environments or catalog.environments)
    for env in envs:
        if env not in catalog.environments:
            raise UsageError(f"unknown environment '{env}'", hint="one of " + ", ".join(catalog.environments))
    helm = helm or find_helm()
    version = catalog.kubernetes_versions[-1]
    with assemble(catalog) as assembled, ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:

        def render(env: str) -> str:
            return helmcmd.template(
                helm, assembled / catalog.umbrella, release=catalog.umbrella, namespace=catalog.umbrella,
                values_files=[catalog.project.values_file(env)], kube_version=version.full,
            )  # fmt: skip

        texts = list(pool.map(render, envs))
    uses = [u for env, text in zip(envs, texts, strict=True) for u in rendering_images(catalog, env, text)]
    return ImagesResult(envs, str(version), collect(uses))
