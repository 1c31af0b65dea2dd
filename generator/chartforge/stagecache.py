"""The render, validate and policy stages of a check run through the result cache, as one entry.

Every rendering is the whole umbrella, so any chart's change reaches every validate cell and the
policy cell (which also judges stale waivers over the whole run): they are cached together, keyed
by everything they read — every chart as helm renders it (the assembled tree), every selected
environment's values file, ``sources/`` (waivers, CRD schemas, the files findings point into),
the helm version that renders, the validation engine (kubeconform's binary by content, or the
built-in engine's Python packages), the ``kubernetes-validate`` schemas, chartforge's own code,
and the run's options (environments, versions, charts, the cells of a shard). A run with
``--checkov`` is not cached (checkov's rules change with its own releases).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, fields
from importlib import metadata
from pathlib import Path
from typing import Any

from chartforge.compile.catalog import Catalog
from chartforge.diagnostics import Checked, Diagnostic
from chartforge.progress import Listener, Tracker
from chartforge.resultcache import ResultCache, cell_key, finding_from_json, log, tree_digest
from chartforge.shard import Plan
from chartforge.tools import Helm
from chartforge.validate.engine import EngineName, make_engine
from chartforge.validate.kubeconform import KubeconformEngine

_CHECKED = [f.name for f in fields(Checked)]
_PACKAGES = ("kubernetes-validate", "jsonschema-rs", "jsonschema", "PyYAML")


@dataclass(frozen=True)
class StageResults:
    diagnostics: list[Diagnostic]
    checked: list[Checked]
    records: list[dict[str, Any]]
    resources: int
    engine: str


def _file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@functools.cache
def _binary_digest(path: str, size: int, mtime_ns: int) -> str:  # hashed once per process and version
    return _file_digest(Path(path))


def _packages() -> str:
    found = []
    for name in _PACKAGES:
        try:
            found.append(f"{name}={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            found.append(f"{name}=-")
    return ",".join(found)


def stages_key(
    cache: ResultCache, catalog: Catalog, assembled: Path, helm: Helm, engine: EngineName, envs: Sequence[str],
    plan: Plan, checkov: bool, stages: Sequence[str],
) -> str:  # fmt: skip
    """The entry of this run's render + validate + policy stages; "" when they are not cacheable."""
    if cache.root is None or checkov or not (plan.validate or plan.policy):
        return ""
    runner = make_engine(engine) if plan.validate else None
    if isinstance(runner, KubeconformEngine):
        stat = Path(runner.binary).stat()
        tool = _binary_digest(str(Path(runner.binary).resolve()), stat.st_size, stat.st_mtime_ns)
    else:
        tool = _packages()
    values = [f"{e}:{_file_digest(catalog.project.values_file(e))}" for e in envs]
    return cell_key(
        "render-validate-policy", tree_digest(assembled), tree_digest(catalog.project.sources), *values,
        helm.version, runner.name if runner else "-", tool, repr(sorted(map(str, plan.validate))),
        repr(sorted(plan.renders)), repr(plan.policy), repr(sorted(plan.charts)), repr(list(envs)),
        repr(list(stages)),
    )  # fmt: skip


def load(cache: ResultCache, key: str, plan: Plan, progress: Listener | None) -> StageResults | None:
    """The stored results (progress told each unit was cached, as a run would tell it ran), or None."""
    data = cache.get_payload(key) if key else None
    if data is None:
        return None
    try:
        results = StageResults(
            [finding_from_json(d) for d in data["diagnostics"]],
            [Checked(**{k: str(c[k]) for k in _CHECKED}) for c in data["checked"]],
            [dict(r) for r in data["records"]],
            int(data["resources"]),
            str(data["engine"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        log.warning(f"warning: ignoring unreadable cache entry for {key} ({exc!r}); the stages run again")
        return None
    if plan.renders:
        tracker = Tracker(progress, "render", len(plan.renders))
        for env, version in plan.renders:
            tracker.step(f"{env} × Kubernetes {version} (cached)")
    for stage, ran in (("validate", plan.validate), ("policy", plan.policy)):
        if ran:
            Tracker(progress, stage, 1).step("cached")
    return results


def store(cache: ResultCache, key: str, results: StageResults) -> None:
    if key:
        cache.put_payload(key, {
            "diagnostics": [d.to_dict() for d in results.diagnostics],
            "checked": [{k: getattr(c, k) for k in _CHECKED} for c in results.checked],
            "records": results.records, "resources": results.resources, "engine": results.engine,
        })  # fmt: skip
