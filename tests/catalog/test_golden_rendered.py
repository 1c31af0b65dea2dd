"""Golden files of every bundled chart rendered with each environment's values.

A reviewer sees in ``tests/golden/rendered/<chart>/<env>.yaml`` exactly what a change does to
the cluster. Generated secrets (random on every ``helm template``) and the checksums derived
from them are masked; everything else is compared byte for byte. ``--update-golden`` rewrites.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from tests.catalog.conftest import ENVIRONMENTS, catalog, rendered
from tests.conftest import require_tool

GOLDEN = Path(__file__).resolve().parents[1] / "golden" / "rendered"
MASK = "<masked: generated at install time>"


def _normalise(doc: dict[str, Any]) -> dict[str, Any]:
    if doc.get("kind") == "Secret":
        for key in ("data", "stringData"):
            if isinstance(doc.get(key), dict):
                doc[key] = {k: MASK for k in doc[key]}
    template = (doc.get("spec") or {}).get("template") or {}
    jobs = ((doc.get("spec") or {}).get("jobTemplate") or {}).get("spec", {}).get("template") or {}
    for meta in (doc.get("metadata") or {}, template.get("metadata") or {}, jobs.get("metadata") or {}):
        annotations = meta.get("annotations") or {}
        for key in annotations:
            if key.startswith("checksum/"):
                annotations[key] = MASK
    return doc


def golden_text(chart: str, env: str) -> str:
    docs = [_normalise(d) for d in rendered(chart, env)]
    return yaml.safe_dump_all(docs, sort_keys=True, width=10_000)


CASES = [(c.name, e) for c in catalog().charts for e in ENVIRONMENTS]


@pytest.mark.helm
@pytest.mark.parametrize(("chart", "env"), CASES, ids=[f"{c}-{e}" for c, e in CASES])
def test_rendered_matches_golden(chart: str, env: str, update_golden: bool) -> None:
    require_tool("helm")
    got = golden_text(chart, env)
    path = GOLDEN / chart / f"{env}.yaml"
    if update_golden:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(got)
    assert path.exists(), f"no golden file {path}; run pytest --update-golden"
    assert got == path.read_text(), f"{chart}/{env} rendering changed (pytest --update-golden if intended)"
