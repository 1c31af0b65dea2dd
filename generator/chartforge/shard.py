"""The check matrix as cells, and its deterministic split across N CI runners (``--shard I/N``).

A cell is the unit ``check`` runs:

- ``build`` — the drift check (one cell);
- ``lint`` — one chart × environment × helm binary (one ``helm lint --strict`` call);
- ``validate`` — one environment × Kubernetes version (one umbrella rendering, every object of
  the selected charts validated against that version);
- ``policy`` — the policy stage over every environment (one cell: stale waivers are judged over
  the whole run, so policy cannot be cut by environment without false "stale" warnings).

:func:`split` assigns cells greedily by estimated cost, most expensive first, ties broken by
the cell's key, each to the least loaded shard (ties: the lowest index). The same matrix gives
the same split on every runner; :func:`matrix_id` names the matrix so that ``report merge``
can refuse shards of different matrices.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from chartforge.compile.catalog import Catalog
from chartforge.errors import UsageError
from chartforge.kube import KubeVersion

_SHARD = re.compile(r"^(\d+)/(\d+)$")


@dataclass(frozen=True, order=True)
class Cell:
    stage: str  # build | lint | validate | policy
    chart: str = ""
    environment: str = ""
    kubernetes_version: str = ""
    helm: str = ""
    cost: float = 1.0

    @property
    def key(self) -> str:
        return "/".join((self.stage, self.chart, self.environment, self.kubernetes_version, self.helm))


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    total: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = _SHARD.match(text.strip())
        if not match or not 1 <= int(match.group(1)) <= int(match.group(2)):
            raise UsageError(f"--shard {text!r}: expected I/N with 1 ≤ I ≤ N, e.g. 2/4")
        return cls(int(match.group(1)), int(match.group(2)))

    def __str__(self) -> str:
        return f"{self.index}/{self.total}"


def matrix_cells(
    catalog: Catalog, charts: Sequence[str], envs: Sequence[str], versions: Sequence[KubeVersion],
    helms: Sequence[str], stages: Collection[str],
) -> list[Cell]:  # fmt: skip
    """Every cell of the matrix ``check`` runs for these charts, environments, versions and helms."""
    sizes = {c.name: 1 + len(c.dependencies) for c in catalog.charts}  # the umbrella lints its sub-charts
    render = float(sum(sizes[c] for c in charts))
    cells = [Cell("build", cost=0.5)]
    if "lint" in stages:
        cells += [
            Cell("lint", c, e, helm=h, cost=float(sizes[c])) for c in charts for e in envs for h in helms
        ]
    if "validate" in stages and charts:
        cells += [
            Cell("validate", environment=e, kubernetes_version=str(v), cost=render)
            for e in envs
            for v in versions
        ]
    if "policy" in stages and charts:
        cells.append(Cell("policy", cost=render * len(envs)))
    return cells


def matrix_id(cells: Iterable[Cell]) -> str:
    return hashlib.sha256("\n".join(sorted(c.key for c in cells)).encode()).hexdigest()[:16]


def split(cells: Sequence[Cell], total: int) -> list[list[Cell]]:
    """``total`` shards, every cell in exactly one; greedy by cost (longest first), deterministic."""
    if total < 1:
        raise UsageError("the number of shards must be at least 1")
    shards: list[list[Cell]] = [[] for _ in range(total)]
    loads = [0.0] * total
    for cell in sorted(cells, key=lambda c: (-c.cost, c.key)):
        target = min(range(total), key=lambda i: (loads[i], i))
        shards[target].append(cell)
        loads[target] += cell.cost
    return [sorted(s, key=lambda c: c.key) for s in shards]


@dataclass(frozen=True)
class Plan:
    """What one ``check`` run does, derived from its cells."""

    charts: tuple[str, ...]
    drift: bool
    lint: frozenset[tuple[str, str, str]]  # chart, environment, helm version
    validate: frozenset[tuple[str, KubeVersion]]  # environment, Kubernetes version
    policy: bool
    renders: tuple[
        tuple[str, KubeVersion], ...
    ]  # environment, Kubernetes version: the umbrella renderings needed

    @classmethod
    def of(
        cls,
        cells: Iterable[Cell],
        charts: Sequence[str],
        envs: Sequence[str],
        versions: Sequence[KubeVersion],
    ) -> Plan:
        cells = list(cells)
        validate = frozenset(
            (c.environment, KubeVersion.parse(c.kubernetes_version)) for c in cells if c.stage == "validate"
        )
        policy = any(c.stage == "policy" for c in cells)
        needed = set(validate) | ({(e, max(versions)) for e in envs} if policy and versions else set())
        return cls(
            charts=tuple(charts),
            drift=any(c.stage == "build" for c in cells),
            lint=frozenset((c.chart, c.environment, c.helm) for c in cells if c.stage == "lint"),
            validate=validate,
            policy=policy,
            renders=tuple((e, v) for e in envs for v in versions if (e, v) in needed),
        )


def plan_run(
    catalog: Catalog, charts: Sequence[str], envs: Sequence[str], versions: Sequence[KubeVersion],
    helms: Sequence[str], stages: Collection[str], shard: Shard | None,
) -> tuple[Plan, tuple[Cell, ...], str]:  # fmt: skip
    """The plan of one run (every cell, or one shard's), the cells it runs and the matrix id."""
    cells = matrix_cells(catalog, charts, envs, versions, helms, stages)
    mine = cells if shard is None else split(cells, shard.total)[shard.index - 1]
    return Plan.of(mine, charts, envs, versions), tuple(mine), matrix_id(cells)
