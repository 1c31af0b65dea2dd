"""Catalog mode against a git ref: the charts committed at REF are the released side (real git, real helm)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT, copy_tree, require_tool, run_cli

pytestmark = [pytest.mark.helm]


def _git(project: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(project), *args], check=True, capture_output=True, timeout=120)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    require_tool("git")
    root = tmp_path / "project"
    for top in ("sources", "charts", "values"):
        copy_tree(ROOT / top, root / top)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", ".")
    _git(root, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "release 1.0.0")
    return root


def test_against_git_ref(project: Path) -> None:
    clean = run_cli("-C", str(project), "check", "--stage", "compat", "--against", "git:main", "-o", "json")
    assert clean.returncode == 0, clean.stderr
    assert json.loads(clean.stdout)["diagnostics"] == []
    sts = project / "sources/charts/redis-cluster/templates/statefulset.yaml.j2"
    text = sts.read_text()
    assert "podManagementPolicy: Parallel" in text
    sts.write_text(text.replace("podManagementPolicy: Parallel", "podManagementPolicy: OrderedReady"))
    assert run_cli("-C", str(project), "build").returncode == 0
    done = run_cli("-C", str(project), "check", "--stage", "compat", "--against", "git:main", "-e", "staging",
                   "-o", "json", "--junit", str(project / "compat.xml"))  # fmt: skip
    assert done.returncode == 1, done.stderr
    found = json.loads(done.stdout)["diagnostics"]
    assert {
        (d["code"], d["chart"], d["environment"], d["field"]) for d in found if d["code"].startswith("CF-UPG")
    } == {("CF-UPG-003", "redis-cluster", "staging", "spec.podManagementPolicy")}
    assert {(d["code"], d["chart"]) for d in found if d["code"].startswith("CF-REL")} == {
        ("CF-REL-001", "redis-cluster"),
        ("CF-REL-001", "spotify-ai-agent"),
    }
    junit = (project / "compat.xml").read_text()
    assert 'type="CF-REL-001"' in junit and "CF-UPG-003" in junit


def test_unknown_ref_and_bad_against_are_one_message(project: Path) -> None:
    done = run_cli("-C", str(project), "check", "--stage", "compat", "--against", "git:no-such-ref")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "--against: git ref 'no-such-ref' has no charts/ to compare with" in done.stderr
    bad = run_cli("-C", str(project), "check", "--stage", "compat", "--against", "s3://bucket")
    assert bad.returncode == 2 and "cannot compare against 's3://bucket'" in bad.stderr
    missing = run_cli("-C", str(project), "check", "--stage", "compat")
    assert missing.returncode == 2 and "needs --against" in missing.stderr
