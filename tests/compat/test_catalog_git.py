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


def test_bump_auto_uses_semver_and_bumps_the_umbrella_once(project: Path) -> None:
    sts = project / "sources/charts/redis-cluster/templates/statefulset.yaml.j2"
    sts.write_text(
        sts.read_text().replace("podManagementPolicy: Parallel", "podManagementPolicy: OrderedReady")
    )
    notes = project / "sources/charts/postgresql-ha/templates/NOTES.txt.j2"
    notes.write_text(notes.read_text() + "\nSee the README.\n")
    assert run_cli("-C", str(project), "build").returncode == 0
    nothing = run_cli("-C", str(project), "bump", "mongodb-sharded", "auto", "--against", "git:main")
    assert (
        nothing.returncode == 1
        and "mongodb-sharded: nothing changed since git:main (version 1.0.0)" in nothing.stderr
    )
    auto = run_cli("-C", str(project), "bump", "redis-cluster", "--against", "git:main", "-o", "json")
    assert auto.returncode == 0, auto.stderr
    assert [(b["chart"], b["new"], b["level"], b["reason"]) for b in json.loads(auto.stdout)["bumped"]] == [
        ("redis-cluster", "2.0.0", "major", "what the changes since git:main need"),
        ("spotify-ai-agent", "2.0.0", "major", "depends on redis-cluster"),
    ]
    patch = run_cli(
        "-C", str(project), "bump", "postgresql-ha", "auto", "--against", "git:main", "-o", "json"
    )
    assert [(b["chart"], b["new"]) for b in json.loads(patch.stdout)["bumped"]] == [
        ("postgresql-ha", "1.0.1")
    ]
    done = run_cli("-C", str(project), "check", "--stage", "compat", "--against", "git:main", "-o", "json")
    codes = {d["code"] for d in json.loads(done.stdout)["diagnostics"]}
    assert codes == {"CF-UPG-003"}  # versions are right now; the break itself still needs declaring


def test_environment_values_alone_give_upgrade_findings_but_no_version_finding(project: Path) -> None:
    # Shrinking a volume through an environment file changes no chart (no version to bump), but the
    # StatefulSet's volumeClaimTemplates are immutable and the charts' resize hooks only grow
    # claims: that is the finding, with the field in full.
    env = project / "sources/environments/production.yaml"
    text = env.read_text()
    assert "size: 200Gi" in text
    env.write_text(text.replace("size: 200Gi", "size: 100Gi", 1))
    assert run_cli("-C", str(project), "build").returncode == 0
    done = run_cli("-C", str(project), "check", "--stage", "compat", "--against", "git:main", "-o", "json")
    assert done.returncode == 1, done.stderr
    found = json.loads(done.stdout)["diagnostics"]
    assert {(d["code"], d["environment"]) for d in found} == {("CF-UPG-004", "production")}
    assert found[0]["field"] == "spec.volumeClaimTemplates[pgdata].spec.resources.requests.storage"
    table = run_cli("-C", str(project), "check", "--stage", "compat", "--against", "git:main")
    assert "volumeClaimTemplates[pgdata]" in table.stdout.replace("\n", "").replace("│", "").replace(" ", "")


def test_a_volume_the_chart_grows_with_a_hook_is_no_upgrade_finding(project: Path) -> None:
    """Growing persistence.size is supported: the charts render the live claim size on upgrade
    (lookup) and a hook grows the claims, which their StatefulSets declare with the annotation
    chartforge.io/volume-claims: resized-by-hook. The offline rendering shows the new size; the
    rule accepts the growth there, and only there."""
    env = project / "sources/environments/production.yaml"
    text = env.read_text()
    grown = text.replace("size: 200Gi", "size: 300Gi")  # postgresql-ha's members, mongodb-sharded's shards
    grown = grown.replace("size: 32Gi", "size: 48Gi").replace(
        "size: 20Gi", "size: 40Gi"
    )  # redis, config servers
    assert grown.count("size: 300Gi") == 2 and "size: 48Gi" in grown and "size: 40Gi" in grown
    env.write_text(grown)
    assert run_cli("-C", str(project), "build").returncode == 0
    done = run_cli("-C", str(project), "check", "--stage", "compat", "--against", "git:main", "-o", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads(done.stdout)["diagnostics"] == []

    # Without the hook (postgresql-ha's update hook off) nothing grows the claims: a finding again.
    env.write_text(grown.replace("postgresql-ha:\n", "postgresql-ha:\n  update:\n    enabled: false\n", 1))
    assert run_cli("-C", str(project), "build").returncode == 0
    done = run_cli("-C", str(project), "check", "--stage", "compat", "--against", "git:main", "-o", "json")
    assert done.returncode == 1, done.stderr
    found = json.loads(done.stdout)["diagnostics"]
    # (the umbrella's README lists the keys each environment sets: a new `update` key is a content change too)
    assert {(d["code"], d["kind"], d["field"]) for d in found if d["code"].startswith("CF-UPG")} == {
        ("CF-UPG-004", "StatefulSet", "spec.volumeClaimTemplates[pgdata].spec.resources.requests.storage")
    }
