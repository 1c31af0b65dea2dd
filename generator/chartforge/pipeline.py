"""``release``: build → compat → check → package → publish, each stage called as a function.

A stage that fails stops the release before the next one starts, so nothing is packaged
from charts that do not build or check, and nothing is pushed from archives that are not
exactly what ``package`` produced. ``compat`` compares every chart with its last published version
(:mod:`chartforge.compat.catalog`) and refuses (exit 4) what the registry or ``helm upgrade`` would. The ``check`` stage is
:func:`chartforge.check.run_check`; any unwaived error it finds stops the release.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

from chartforge import check
from chartforge.compat.run import refuse_unsafe, run_compat
from chartforge.compile.build import BuildResult, build
from chartforge.diagnostics import Diagnostic
from chartforge.errors import UserError
from chartforge.package import PackageResult, Signer, package_charts
from chartforge.project import Project
from chartforge.publish.diff import DiffResult, diff_charts
from chartforge.publish.publish import ChartPublication, PublishResult, publish
from chartforge.publish.retry import RetryPolicy
from chartforge.publish.target import Credentials, RegistryTarget
from chartforge.tools import Helm


@dataclass(frozen=True)
class ReleaseResult:
    build: BuildResult
    checked: bool
    package: PackageResult
    publish: PublishResult


def run_check(root: Path) -> list[Diagnostic]:
    """The whole check matrix (lint × validate × policy) over the built catalog."""
    return list(check.run_check(root).diagnostics)


def release(
    root: Path,
    target: RegistryTarget,
    helm: Helm,
    *,
    credentials: Credentials | None = None,
    dist: Path | None = None,
    retry: RetryPolicy | None = None,
    check: bool = True,
    compat: bool = True,
    frozen: bool = False,
    signer: Signer | None = None,
    on_stage: Callable[[str], None] | None = None,
    on_event: Callable[[ChartPublication], None] | None = None,
) -> ReleaseResult:
    """Run the whole pipeline for ``root``; ``frozen`` refuses to release charts/ that drifted.

    With ``frozen`` (CI on a tag) ``build`` only compares: releasing requires the committed
    ``charts/`` and ``values/`` to be exactly what ``sources/`` compile to.
    """

    def stage(name: str) -> None:
        if on_stage is not None:
            on_stage(name)

    stage("build")
    built = build(root, check=frozen)
    if frozen and not built.clean:
        paths = ", ".join(c.path for c in built.changes[:5]) + (" …" if len(built.changes) > 5 else "")
        raise UserError(
            f"charts/ and values/ differ from sources/ in {len(built.changes)} file(s): {paths}",
            path=Project(root).charts,
            hint="run 'chartforge build' and commit the result before releasing",
        )
    if compat:
        # Before the long check: what the registry (same version, new content) or `helm upgrade`
        # (immutable fields, orphaned volumes) would refuse fails the release in seconds.
        stage("compat")
        refuse_unsafe(run_compat(root, target, credentials=credentials, retry=retry, helm=helm.path))
    if check:
        stage("check")
        errors = [d for d in run_check(root) if d.severity == "error" and not d.waived]
        if errors:
            first = errors[0]
            raise UserError(
                f"check found {len(errors)} error(s); nothing was packaged or published. "
                f"First: {first.location}: {first.code}: {first.message}",
                hint="run 'chartforge check' for the full report",
            )
    stage("package")
    package = package_charts(Project(root).charts, dist or Project(root).dist, signer=signer)
    stage("publish")
    published = publish(package, target, helm, credentials=credentials, retry=retry, on_event=on_event)
    return ReleaseResult(built, check, package, published)


def publish_charts(
    root: Path,
    target: RegistryTarget,
    helm: Helm,
    *,
    dist: Path | None = None,
    credentials: Credentials | None = None,
    retry: RetryPolicy | None = None,
    on_event: Callable[[ChartPublication], None] | None = None,
    charts: Collection[str] | None = None,
    compat: bool = True,
) -> PublishResult:
    """Package ``charts/`` (into ``dist``, else a scratch directory) and push every archive (or ``charts``).

    First (``compat``) every chart is compared with the newest version the registry holds: a content
    change without a version bump, a bump smaller than the change needs, or a change ``helm upgrade``
    refuses raises :class:`~chartforge.compat.run.ReleaseRefused` (exit 4) before anything is packaged.
    """
    if compat:
        refuse_unsafe(run_compat(root, target, credentials=credentials, retry=retry, helm=helm.path))
    with tempfile.TemporaryDirectory(prefix="chartforge-dist-") as scratch:
        package = package_charts(Project(root).charts, dist or Path(scratch), only=charts)
        return publish(package, target, helm, credentials=credentials, retry=retry, on_event=on_event)


def diff_published(
    root: Path,
    target: RegistryTarget,
    helm: Helm,
    *,
    environments: Sequence[str] = (),
    credentials: Credentials | None = None,
    retry: RetryPolicy | None = None,
    charts: Collection[str] | None = None,
) -> DiffResult:
    """Package ``charts/`` in a scratch directory and diff it (or ``charts``) against the latest published."""
    with tempfile.TemporaryDirectory(prefix="chartforge-diff-") as scratch:
        package = package_charts(Project(root).charts, Path(scratch), only=charts)
        return diff_charts(
            package, target, helm, values_dir=Project(root).values, environments=environments,
            credentials=credentials, retry=retry,
        )  # fmt: skip
