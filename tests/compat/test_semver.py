"""``semver``: schema pairs for every level (``tests/cases/compat-semver/<level>-<what>/``), and charts.

Chart inputs (directories and packaged ``.tgz``) are rendered with the real helm so that an
upgrade-check finding between the default renderings counts as major.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from chartforge.compat import schema_semver
from chartforge.package import package_charts
from tests.conftest import CASES, ROOT, require_tool, run_cli

PAIRS = sorted(p for p in (CASES / "compat-semver").iterdir() if p.is_dir())


@pytest.mark.parametrize("pair", PAIRS, ids=[p.name for p in PAIRS])
def test_schema_pair(pair: Path) -> None:
    expected = yaml.safe_load((pair / "expected.yaml").read_text())
    result = schema_semver(
        json.loads((pair / "old.json").read_text()), json.loads((pair / "new.json").read_text())
    )
    assert result.required == expected["required"] == pair.name.split("-")[0]
    assert sorted({f"{r.level} {r.path}" for r in result.reasons}) == sorted(expected["reasons"])


def test_every_level_has_pairs() -> None:
    assert {p.name.split("-")[0] for p in PAIRS} == {"none", "patch", "minor", "major"}


def test_cli_json_and_text() -> None:
    pair = CASES / "compat-semver" / "major-renamed"
    done = run_cli("semver", "--from", str(pair / "old.json"), "--to", str(pair / "new.json"), "-o", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["required"] == "major"
    assert {
        "level": "major",
        "path": "replicaCount",
        "message": "property removed (values setting it are refused)",
    } in data["reasons"]
    text = run_cli("semver", "--from", str(pair / "old.json"), "--to", str(pair / "new.json"))
    assert text.stdout == "major\n" and "replicaCount: property removed" in text.stderr


def _chart_copy(tmp: Path, name: str) -> Path:
    return Path(shutil.copytree(ROOT / "charts" / name, tmp / name))


@pytest.mark.helm
def test_chart_directories_and_packages(tmp_path: Path) -> None:
    require_tool("helm")
    old = _chart_copy(tmp_path / "old", "postgresql-ha")
    new = _chart_copy(tmp_path / "new", "postgresql-ha")
    same = run_cli("semver", "--from", str(old), "--to", str(new), "-o", "json")
    assert json.loads(same.stdout) == {"required": "none", "reasons": []}, same.stderr
    notes = new / "templates" / "NOTES.txt"
    notes.write_text(notes.read_text() + "\nThank you.\n")
    patch = json.loads(run_cli("semver", "--from", str(old), "--to", str(new), "-o", "json").stdout)
    assert patch == {
        "required": "patch",
        "reasons": [{"level": "patch", "path": "templates/NOTES.txt", "message": "file changed"}],
    }
    sts = new / "templates" / "statefulset.yaml"
    text = sts.read_text()
    assert "serviceName: " in text
    sts.write_text(text.replace("serviceName: ", "serviceName: renamed-", 1))
    old_tgz = package_charts(tmp_path / "old", tmp_path / "dist-old").get("postgresql-ha").path
    new_tgz = package_charts(tmp_path / "new", tmp_path / "dist-new").get("postgresql-ha").path
    major = run_cli("semver", "--from", str(old_tgz), "--to", str(new_tgz), "-o", "json")
    data = json.loads(major.stdout)
    assert data["required"] == "major", major.stderr
    assert any(r["message"].startswith("CF-UPG-002: serviceName changes") for r in data["reasons"])
