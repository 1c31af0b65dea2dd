"""Chart.lock: helm's digest, a fixed ``generated`` time."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from chartforge import proc
from chartforge.package.lock import chart_lock, lock_digest
from tests.conftest import require_tool
from tests.package import SAMPLE

REQUESTED = [{"name": "db", "version": "1.0.0", "repository": "file://../db", "condition": "db.enabled"}]
LOCKED = [{"name": "db", "repository": "file://../db", "version": "1.0.0"}]


def test_go_json_shape_of_the_digest_input() -> None:
    # Same dependency written with keys in another order and empty optional fields: same digest
    shuffled = [{"condition": "db.enabled", "repository": "file://../db", "alias": "", "tags": [], "name": "db",
                 "version": "1.0.0", "enabled": False}]  # fmt: skip
    assert lock_digest(REQUESTED, LOCKED) == lock_digest(shuffled, LOCKED)
    assert lock_digest(REQUESTED, LOCKED) != lock_digest([{**REQUESTED[0], "alias": "x"}], LOCKED)


def test_lock_text_is_fixed() -> None:
    text = chart_lock(REQUESTED, LOCKED).decode()
    data = yaml.safe_load(text)
    assert data["generated"] == "1970-01-01T00:00:00Z"
    assert data["dependencies"] == LOCKED
    assert data["digest"] == lock_digest(REQUESTED, LOCKED)
    assert chart_lock(REQUESTED, LOCKED) == chart_lock(REQUESTED, LOCKED)


@pytest.mark.helm
@pytest.mark.parametrize("helm_name", ["helm3", "helm4"])
def test_digest_matches_helm_dependency_update(helm_name: str, tmp_path: Path) -> None:
    helm = require_tool(helm_name)
    charts = shutil.copytree(SAMPLE / "charts", tmp_path / "charts")
    proc.run([helm, "dependency", "update", charts / "stack"], timeout=120)
    helm_lock = yaml.safe_load((charts / "stack" / "Chart.lock").read_text())
    chart = yaml.safe_load((charts / "stack" / "Chart.yaml").read_text())
    ours = yaml.safe_load(chart_lock(chart["dependencies"], helm_lock["dependencies"]))
    assert ours["digest"] == helm_lock["digest"]
    assert ours["dependencies"] == helm_lock["dependencies"]
