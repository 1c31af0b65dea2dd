"""``chartforge report merge``: the shards of one ``check --shard I/N`` matrix back into one result.

Each shard's ``--output json`` report carries its shard (``I/N``), the matrix id, the cells it ran,
its findings and the objects it checked. Merging refuses reports of different matrices, a
missing shard, a shard given twice and a cell claimed by two shards; the merged result is a
:class:`~chartforge.check.CheckResult`, so it exits by the same rules as an unsharded check.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import fields
from pathlib import Path
from typing import Any

from chartforge.check import CheckResult
from chartforge.diagnostics import Checked, Diagnostic
from chartforge.errors import UsageError, UserError
from chartforge.kube import KubeVersion
from chartforge.shard import Cell


def shard_dict(result: CheckResult) -> dict[str, Any]:
    """What a shard adds to its JSON report so that it can be merged."""
    return {
        "shard": result.shard,
        "matrix_id": result.matrix,
        "charts": list(result.charts),
        "cells": [{f.name: getattr(c, f.name) for f in fields(Cell)} for c in result.cells],
        "checked_objects": [{f.name: getattr(c, f.name) for f in fields(Checked)} for c in result.checked],
    }


def _diagnostic(data: Mapping[str, Any]) -> Diagnostic:
    known = {f.name for f in fields(Diagnostic)}
    values = {k: v for k, v in data.items() if k in known and k != "extra"}
    return Diagnostic(
        **values, extra=tuple(sorted((str(k), str(v)) for k, v in (data.get("extra") or {}).items()))
    )


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read shard report: {exc}", path=path) from exc
    if not isinstance(data, dict) or not data.get("shard") or "matrix" not in data:
        raise UserError(
            "not a shard report",
            path=path,
            hint="write one with 'chartforge check --shard I/N --output json'",
        )
    return data


def merge_reports(paths: Sequence[Path]) -> CheckResult:
    """One result from every shard's report; usage error (exit 2) on an incomplete or mixed set."""
    if not paths:
        raise UsageError("report merge needs the JSON report of every shard")
    reports = [(p, _load(p)) for p in paths]
    first_path, first = reports[0]
    total = int(str(first["shard"]).split("/")[1])
    seen: dict[int, Path] = {}
    cells: dict[str, Path] = {}
    for path, data in reports:
        if data["matrix_id"] != first["matrix_id"]:
            raise UsageError(f"{path} is a shard of another matrix than {first_path}",
                             hint="merge the reports of one run: same catalog, options and tools")  # fmt: skip
        index, of = (int(x) for x in str(data["shard"]).split("/"))
        if of != total:
            raise UsageError(f"{path} is shard {index}/{of}, {first_path} is one of {total}")
        if index in seen:
            raise UsageError(f"shard {index}/{total} given twice: {seen[index]} and {path}")
        seen[index] = path
        for cell in data["cells"]:
            key = Cell(**cell).key
            if key in cells:
                raise UsageError(f"cell {key} is in both {cells[key]} and {path}")
            cells[key] = path
    missing = sorted(set(range(1, total + 1)) - set(seen))
    if missing:
        raise UsageError(f"missing shard(s) {', '.join(f'{i}/{total}' for i in missing)}",
                         hint="pass the JSON report of every shard")  # fmt: skip
    matrix = first["matrix"]
    return CheckResult(
        diagnostics=tuple(_diagnostic(d) for _, data in reports for d in data["diagnostics"]),
        checked=tuple(Checked(**c) for _, data in reports for c in data["checked_objects"]),
        environments=tuple(matrix["environments"]),
        kubernetes_versions=tuple(KubeVersion.parse(v) for v in matrix["kubernetes_versions"]),
        helm_versions=tuple(matrix["helm_versions"]),
        engine=next((d["matrix"]["engine"] for _, d in reports if d["matrix"]["engine"]), ""),
        resources=max(int(d["matrix"]["resources_per_environment"]) for _, d in reports),
        records=tuple(r for _, d in reports for r in d.get("resources", ())),
        checkov=any(d["matrix"].get("checkov") for _, d in reports),
        charts=tuple(first["charts"]),
        matrix=str(first["matrix_id"]),
        cells=tuple(sorted(Cell(**c) for _, d in reports for c in d["cells"])),
    )
