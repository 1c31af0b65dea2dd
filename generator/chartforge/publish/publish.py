"""Stage ``publish``: push packaged charts to an OCI registry, safely and re-runnably.

Versions are immutable. Before anything is pushed, every chart is looked up in the
registry (:meth:`OciClient.manifest`): absent → to push; present with the same chart-layer
digest → "unchanged", a no-op; present with another digest → refused, with both digests
and the files that differ. One refused chart stops the release before a single push.

The comparison uses the **chart layer** digest, i.e. the SHA-256 of the ``.tgz``, which
packaging makes reproducible. The config blob (Chart.yaml as JSON) is stable too, and so is
the manifest — helm stamps the archive *file's* mtime as ``org.opencontainers.image.created``
and the packager fixes that mtime — but a manifest also lists the ``.prov`` layer, whose
signature embeds the signing time; comparing manifests would refuse a merely re-signed chart.

Two releases racing for one version: on one machine they are serialised by a lock
(:mod:`.lock`), so the second one sees the first one's charts and is refused. Across
machines every tag is read back after its push, before every later push and at the end; a
release whose version was overwritten meanwhile stops with :class:`PublishConflict` (exit 4,
naming the charts) and never pushes an umbrella over sub-charts other than those it embeds.
Registries with tag immutability refuse the second push outright; that refusal is reported
as the same conflict (docs/publishing.md).

Sub-charts go before the umbrella that embeds them. A failure part-way (after bounded
retries) reports what was published and what was not; re-running the same command skips the
"unchanged" charts and finishes the rest.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any, Literal

from chartforge.errors import ChartforgeError, RefusedError, ToolError
from chartforge.package import PackagedChart, PackageResult
from chartforge.package.provenance import provenance_matches
from chartforge.publish.compare import FileChange, changed_files
from chartforge.publish.helmreg import HelmRegistry
from chartforge.publish.lock import publish_lock
from chartforge.publish.oci import OciClient
from chartforge.publish.retry import RetryPolicy
from chartforge.publish.target import Credentials, RegistryTarget, tag_for
from chartforge.tools import Helm

# How registries with tag immutability refuse to overwrite a tag (ECR, Harbor, Artifact
# Registry, ACR, distribution/zot configured so).
IMMUTABLE_TAG = re.compile(
    r"ImageTagAlreadyExists|tag[^\n]{0,80}(?:is |are )?immutable|immutable tag|cannot be overwritten"
    r"|already exists[^\n]{0,80}immutable|operation is disallowed on this image|is locked|TAG_INVALID",
    re.IGNORECASE,
)
IMMUTABLE_NOTE = "the registry enforces tag immutability and refused to overwrite it"
REFUSED_PUSH_NOTE = (
    "the push was refused and the registry holds other content under this version "
    "(another release, or the registry's tag immutability)"
)
RACE_NOTE = "another release pushed this version while this one was publishing (lost race)"

Status = Literal["pushed", "unchanged", "pending", "failed"]


@dataclass(frozen=True)
class ChartPublication:
    name: str
    version: str
    reference: str  # oci://HOST/NS/NAME:VERSION
    digest: str  # chart layer digest of the local archive
    status: Status
    manifest_digest: str = ""
    message: str = ""


@dataclass(frozen=True)
class Conflict:
    name: str
    version: str
    reference: str
    local_digest: str
    remote_digest: str
    changes: tuple[FileChange, ...]
    note: str = ""

    def render(self) -> str:
        lines = [
            f"{self.reference} already exists with different content:",
            f"  registry: {self.remote_digest}",
            f"  local:    {self.local_digest}",
        ]
        if self.note:
            lines.append(f"  {self.note}")
        lines += [f"  {change}" for change in self.changes]
        return "\n".join(lines)


@dataclass(frozen=True)
class PublishResult:
    registry: str
    charts: tuple[ChartPublication, ...]

    def with_status(self, status: Status) -> tuple[str, ...]:
        return tuple(f"{c.name}-{c.version}" for c in self.charts if c.status == status)

    def to_dict(self) -> dict[str, Any]:
        return {"registry": self.registry, "charts": [asdict(c) for c in self.charts]}


class PublishRefused(RefusedError):
    """Same version, different content, for at least one chart; nothing was pushed."""

    def __init__(self, conflicts: list[Conflict]) -> None:
        self.conflicts = tuple(conflicts)
        names = ", ".join(f"{c.name}-{c.version}" for c in conflicts)
        super().__init__(
            f"refusing to publish {names}: versions are immutable and nothing was pushed",
            hint="bump the chart version (Chart.yaml 'version') of every chart whose content changed",
        )

    def render(self) -> str:
        return super().render() + "\n" + "\n".join(c.render() for c in self.conflicts)


class PublishConflict(RefusedError):
    """Another release published other content under a version while this one was publishing.

    ``result`` says what this run pushed before it noticed; nothing after it was pushed.
    """

    def __init__(self, conflicts: Sequence[Conflict], result: PublishResult | None = None) -> None:
        self.conflicts = tuple(conflicts)
        self.result = result
        names = ", ".join(f"{c.name}-{c.version}" for c in conflicts)
        done = (result.with_status("pushed") + result.with_status("unchanged")) if result else ()
        super().__init__(
            f"conflict: {names} now hold(s) other content in the registry than this release; "
            f"stopped before pushing anything more (this run published: {', '.join(done) or 'nothing'})",
            hint="another release published the same version concurrently; bump the version and re-run",
        )

    def render(self) -> str:
        return super().render() + "\n" + "\n".join(c.render() for c in self.conflicts)


class PublishIncomplete(ToolError):
    """A push failed part-way; ``result`` says what is published and what is not."""

    def __init__(self, result: PublishResult, cause: ChartforgeError) -> None:
        self.result = result
        done = result.with_status("pushed") + result.with_status("unchanged")
        missing = result.with_status("failed") + result.with_status("pending")
        super().__init__(
            f"publish to {result.registry} incomplete: already published: {', '.join(done) or 'none'}; "
            f"not published: {', '.join(missing)}",
            stderr=cause.render(),
            hint="fix the cause and re-run the same command: published versions are skipped as unchanged",
        )


def _reference(target: RegistryTarget, chart: PackagedChart) -> str:
    return f"{target.chart_url(chart.name)}:{tag_for(chart.version)}"


def inspect(client: OciClient, target: RegistryTarget, chart: PackagedChart) -> ChartPublication | Conflict:
    """What the registry holds for this chart version, compared with the local archive."""
    reference = _reference(target, chart)
    repository = target.repository(chart.name)
    manifest = client.manifest(repository, tag_for(chart.version))
    if manifest is None:
        return ChartPublication(chart.name, chart.version, reference, chart.digest, "pending")
    layer = manifest.chart_layer
    if layer is None:
        note = "the registry's manifest has no helm chart layer (not a helm chart)"
        return Conflict(chart.name, chart.version, reference, chart.digest, manifest.digest, (), note)
    if layer.digest == chart.digest:
        return ChartPublication(
            chart.name, chart.version, reference, chart.digest, "unchanged", manifest.digest, "same content"
        )
    changes = changed_files(chart.path.read_bytes(), client.blob(repository, layer.digest))
    note = (
        ""
        if changes
        else "every file is identical; only the archive bytes differ (packaged by another tool?)"
    )
    return Conflict(chart.name, chart.version, reference, chart.digest, layer.digest, changes, note)


def preflight(client: OciClient, target: RegistryTarget, package: PackageResult) -> list[ChartPublication]:
    """Look every chart up; raise :class:`PublishRefused` listing *all* conflicts."""
    found = [inspect(client, target, chart) for chart in package.charts]
    conflicts = [f for f in found if isinstance(f, Conflict)]
    if conflicts:
        raise PublishRefused(conflicts)
    return [f for f in found if isinstance(f, ChartPublication)]


def publish(
    package: PackageResult,
    target: RegistryTarget,
    helm: Helm,
    *,
    credentials: Credentials | None = None,
    retry: RetryPolicy | None = None,
    on_event: Callable[[ChartPublication], None] | None = None,
) -> PublishResult:
    """Publish every packaged chart (dependencies first); see the module docstring.

    The whole look → push → verify sequence holds this machine's lock of the target
    (:mod:`.lock`), and every tag is read back after its push, before each later push (so
    an umbrella is never pushed over sub-charts that are not the ones it embeds) and once
    more at the end: a release that lost a race exits 4 naming the charts, never 0.
    """
    stale = [
        c.path.name
        for c in package.charts
        if (prov := c.path.with_name(c.path.name + ".prov")).exists() and not provenance_matches(c.path, prov)
    ]
    if stale:  # helm push sends <archive>.prov along: it must sign this very archive
        raise RefusedError(
            f"provenance does not match its archive: {', '.join(n + '.prov' for n in stale)}; nothing was pushed",
            path=package.out_dir,
            hint="re-package (with --sign to sign again); a .prov from an earlier package run signs other bytes",
        )
    client = OciClient(target, credentials, retry=retry)
    with publish_lock(target):
        plan = preflight(client, target, package)
        results = list(plan)
        if all(p.status == "unchanged" for p in plan):  # nothing to push: no helm, no login
            for item in plan:
                if on_event is not None:
                    on_event(item)
            return PublishResult(target.url, tuple(plan))
        with HelmRegistry(helm, target, credentials, retry=retry) as session:
            for index, (chart, planned) in enumerate(zip(package.charts, plan, strict=True)):
                try:
                    _verify(client, target, package.charts[:index], results)
                    results[index] = _publish_one(client, session, target, chart, planned)
                except PublishConflict as exc:
                    raise PublishConflict(exc.conflicts, PublishResult(target.url, tuple(results))) from exc
                except ChartforgeError as exc:
                    results[index] = replace(planned, status="failed", message=exc.message)
                    raise PublishIncomplete(PublishResult(target.url, tuple(results)), exc) from exc
                if on_event is not None:
                    on_event(results[index])
        _verify(client, target, package.charts, results)
    return PublishResult(target.url, tuple(results))


def _verify(
    client: OciClient,
    target: RegistryTarget,
    charts: Sequence[PackagedChart],
    results: list[ChartPublication],
) -> None:
    """Every chart in ``charts`` (already pushed or found unchanged) still holds our archive."""
    lost = [
        found for found in (inspect(client, target, chart) for chart in charts) if isinstance(found, Conflict)
    ]
    if lost:
        lost = [replace(c, note=c.note or RACE_NOTE) for c in lost]
        raise PublishConflict(lost, PublishResult(target.url, tuple(results)))


def _publish_one(
    client: OciClient,
    session: HelmRegistry,
    target: RegistryTarget,
    chart: PackagedChart,
    planned: ChartPublication,
) -> ChartPublication:
    if planned.status == "unchanged":
        return planned
    # Look again right before pushing: another release may have pushed this version meanwhile.
    current = inspect(client, target, chart)
    if isinstance(current, Conflict):
        raise PublishConflict([replace(current, note=current.note or RACE_NOTE)])
    if current.status == "unchanged":
        return current
    try:
        session.push(chart.path)
    except ChartforgeError as exc:
        # A refused push may be the registry's tag immutability (helm does not always show its
        # message) or a concurrent release: either way, what the tag holds now decides.
        after = inspect(client, target, chart)
        if isinstance(after, Conflict):
            note = IMMUTABLE_NOTE if IMMUTABLE_TAG.search(exc.render()) else REFUSED_PUSH_NOTE
            raise PublishConflict([replace(after, note=note)]) from exc
        if after.status == "unchanged":
            return after
        raise
    after = inspect(client, target, chart)
    if isinstance(after, Conflict):
        raise PublishConflict([replace(after, note=after.note or RACE_NOTE)])
    if after.status != "unchanged":
        raise ToolError(f"after helm push, {planned.reference} is missing from the registry")
    return replace(planned, status="pushed", manifest_digest=after.manifest_digest, message="")
