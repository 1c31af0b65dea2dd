"""The validate stage's entry points: resources (or a manifest string) × versions → report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from chartforge import gcpause
from chartforge.manifests import Manifest
from chartforge.project import Project
from chartforge.validate.engine import Engine, EngineName, make_engine
from chartforge.validate.objectmeta import with_metadata_checked
from chartforge.validate.results import ResourceResult, ValidationReport, results_sorted, unparsable_result
from chartforge.validate.schemas import SchemaStore, normalize_version, version_key


def default_crd_dir(root: Path) -> Path:
    return Project(root).crds


@dataclass(frozen=True)
class Job:
    """One batch to validate: e.g. the ``helm template`` output of one chart × environment."""

    resources: Sequence[Manifest]
    versions: Sequence[str]
    chart: str = ""
    environment: str = ""


def validate_jobs(
    jobs: Sequence[Job],
    *,
    engine: EngineName | Engine = "auto",
    crd_dir: Path | None,
    cache_root: Path | None = None,
    kubeconform: str | None = None,
) -> list[ValidationReport]:
    """Validate many batches with as few engine runs as possible: one per Kubernetes version.

    All jobs' resources for a version go to the engine together (for kubeconform: one
    process per version for the whole catalog, not one per chart × environment × version),
    then results are split back into one report per job, in job order. Documents that are
    not Kubernetes objects (YAML errors, no ``kind``…) are invalid on every version without
    reaching an engine. Raises ``UserError`` for an unsupported version, ``ToolError`` when
    kubeconform fails.
    """
    with gcpause.paused():  # thousands of results at once, no cycle among them
        return _validate_jobs(jobs, engine, crd_dir, cache_root, kubeconform)


def _validate_jobs(
    jobs: Sequence[Job],
    engine: EngineName | Engine,
    crd_dir: Path | None,
    cache_root: Path | None,
    kubeconform: str | None,
) -> list[ValidationReport]:
    runner = make_engine(engine, kubeconform=kubeconform) if isinstance(engine, str) else engine
    wanted = [tuple(sorted({normalize_version(v) for v in job.versions}, key=version_key)) for job in jobs]
    results: list[list[ResourceResult]] = [[] for _ in jobs]
    groups: dict[tuple[int, ...], list[str]] = {}  # jobs that want the same versions share engine runs
    for version in sorted({v for versions in wanted for v in versions}, key=version_key):
        groups.setdefault(tuple(i for i, versions in enumerate(wanted) if version in versions), []).append(
            version
        )
    for owners, versions in groups.items():
        batch = [r for i in owners for r in jobs[i].resources if r.ok]
        stores = [SchemaStore(v, crd_dir=crd_dir, cache_root=cache_root) for v in versions]
        done = iter(with_metadata_checked(runner.validate(batch, stores), stores) if batch else [])
        for _ in stores:  # results come back by store, then in batch order
            for i in owners:
                results[i].extend(next(done) for r in jobs[i].resources if r.ok)
        for i in owners:
            results[i].extend(
                unparsable_result(r, v) for r in jobs[i].resources if not r.ok for v in versions
            )
    return [
        ValidationReport(
            runner.name,
            wanted[i],
            tuple(job.resources),
            results_sorted(results[i], job.resources),
            chart=job.chart,
            environment=job.environment,
        )
        for i, job in enumerate(jobs)
    ]


def validate_resources(
    resources: Sequence[Manifest],
    versions: Sequence[str],
    *,
    engine: EngineName | Engine = "auto",
    crd_dir: Path | None,
    cache_root: Path | None = None,
    kubeconform: str | None = None,
) -> ValidationReport:
    """Validate already-parsed ``resources`` against every version in ``versions`` (see :func:`validate_jobs`)."""
    (report,) = validate_jobs(
        [Job(resources, versions)],
        engine=engine,
        crd_dir=crd_dir,
        cache_root=cache_root,
        kubeconform=kubeconform,
    )
    return report
