"""Declared breaks and deprecated aliases, built from a copy of the bundled sources and rendered by helm."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from chartforge.compat.charts import load_input
from chartforge.compile.build import build
from tests.conftest import ROOT, require_tool, run_cli

BREAK = """
breaks:
  - version: 1.0.0
    summary: The headless Service is renamed; the StatefulSet must be recreated.
    migration:
      - kubectl -n NS delete statefulset RELEASE-postgresql --cascade=orphan
      - helm upgrade RELEASE oci://REGISTRY/NS/postgresql-ha --version 1.0.0
    rules: [CF-UPG-002]
deprecations:
  - name: pgbouncer.portNumber
    renamedTo: pgbouncer.port
    since: 1.0.0
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(ROOT / "sources", root / "sources")
    chart_yaml = root / "sources" / "charts" / "postgresql-ha" / "chart.yaml"
    chart_yaml.write_text(chart_yaml.read_text() + BREAK)
    build(root)
    return root


def test_break_becomes_readme_upgrading_section_and_artifacthub_changes(project: Path) -> None:
    chart = project / "charts" / "postgresql-ha"
    readme = (chart / "README.md").read_text()
    section = readme[readme.index("## Upgrading") : readme.index("## Parameters")]
    assert "### To 1.0.0" in section and "The headless Service is renamed" in section
    assert "1. kubectl -n NS delete statefulset RELEASE-postgresql --cascade=orphan" in section
    assert "| `pgbouncer.portNumber` | `pgbouncer.port` | 1.0.0 | 3.0.0 at the earliest |" in section
    changes = yaml.safe_load(
        yaml.safe_load((chart / "Chart.yaml").read_text())["annotations"]["artifacthub.io/changes"]
    )
    assert [c["kind"] for c in changes] == ["changed", "deprecated"]
    assert changes[0]["description"].startswith("BREAKING: The headless Service is renamed")
    other = yaml.safe_load((project / "charts" / "redis-cluster" / "Chart.yaml").read_text())
    assert "artifacthub.io/changes" not in other["annotations"]


def test_deprecated_alias_is_accepted_mapped_and_warned(project: Path, tmp_path: Path) -> None:
    helm = require_tool("helm")
    chart = project / "charts" / "postgresql-ha"
    schema = json.loads((chart / "values.schema.json").read_text())
    alias = schema["properties"]["pgbouncer"]["properties"]["portNumber"]
    assert alias["deprecated"] is True and alias["x-chartforge-renamed-to"] == "pgbouncer.port"
    assert alias["type"] == "integer" and alias["minimum"] == 1024 and "default" not in alias
    umbrella = load_input(project / "charts" / "spotify-ai-agent").schema  # as helm applies it: nested
    assert "portNumber" in umbrella["properties"]["postgresql-ha"]["properties"]["pgbouncer"]["properties"]

    def helm_run(*args: str, helm: str = helm) -> subprocess.CompletedProcess[str]:
        return subprocess.run([helm, *args], capture_output=True, text=True, check=False, timeout=300)

    plain = helm_run("template", "r", str(chart))
    assert plain.returncode == 0, plain.stderr and "6432" in plain.stdout
    old_name = helm_run("template", "r", str(chart), "--set", "pgbouncer.portNumber=7000")
    assert old_name.returncode == 0, old_name.stderr
    assert "port: 7000" in old_name.stdout and "port: 6432" not in old_name.stdout
    refused = helm_run("template", "r", str(chart), "--set", "pgbouncer.portNumber=80")
    assert (
        refused.returncode != 0 and "greater than or equal to 1024" in refused.stderr
    )  # the alias keeps the constraints
    # helm 3.17 asks the API server for capabilities even with a client dry-run; helm 4 does not.
    helm4 = require_tool("helm4")
    notes = helm_run(
        "install", "r", str(chart), "--dry-run=client", "--set", "pgbouncer.portNumber=7000", helm=helm4
    )
    assert notes.returncode == 0, notes.stderr
    assert (
        "WARNING: value 'pgbouncer.portNumber' is deprecated since 1.0.0 and will be removed in 3.0.0"
        in notes.stdout
    )
    quiet = helm_run("install", "r", str(chart), "--dry-run=client", helm=helm4)
    assert "deprecated" not in quiet.stdout


def test_bad_declarations_name_file_and_line(tmp_path: Path) -> None:
    root = tmp_path / "project"
    shutil.copytree(ROOT / "sources", root / "sources")
    chart_yaml = root / "sources" / "charts" / "redis-cluster" / "chart.yaml"
    base = chart_yaml.read_text()
    line = base.count("\n") + 2
    chart_yaml.write_text(base + "breaks:\n  - version: 2.0.0\n    summary: x\n")
    done = run_cli("-C", str(root), "build")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert (
        f"sources/charts/redis-cluster/chart.yaml:{line}: breaks[0]: a declared break needs 'migration'"
        in done.stderr
    )
    chart_yaml.write_text(
        base + "breaks:\n  - {version: 2.0.0, summary: x, migration: [y], rules: [CF-UPG-02]}\n"
    )
    done = run_cli("-C", str(root), "build")
    assert done.returncode == 1 and "unknown rule 'CF-UPG-02'" in done.stderr
    chart_yaml.write_text(
        base + "deprecations:\n  - {name: cluster.gone, renamedTo: cluster.nope, since: 1.0.0}\n"
    )
    done = run_cli("-C", str(root), "build")
    assert done.returncode == 1 and "renamedTo 'cluster.nope' is not a declared parameter" in done.stderr


def test_alias_removed_before_two_majors_is_a_finding(project: Path) -> None:
    # the project declares pgbouncer.portNumber deprecated since 1.0.0: it must live until 3.0.0
    require_tool("git")
    for args in (["init", "-q", "-b", "main"], ["add", "."],
                 ["-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "1.0.0"]):  # fmt: skip
        subprocess.run(["git", "-C", str(project), *args], check=True, capture_output=True)
    chart_yaml = project / "sources/charts/postgresql-ha/chart.yaml"
    chart_yaml.write_text(chart_yaml.read_text().split("deprecations:")[0])
    assert run_cli("-C", str(project), "bump", "postgresql-ha", "major").returncode == 0
    done = run_cli("-C", str(project), "check", "--stage", "compat", "--against", "git:main", "-o", "json")
    found = [d for d in json.loads(done.stdout)["diagnostics"] if d["code"] == "CF-REL-004"]
    assert done.returncode == 1
    assert sorted((d["chart"], d["field"]) for d in found) == [
        ("postgresql-ha", "pgbouncer.portNumber"),
        (
            "spotify-ai-agent",
            "postgresql-ha.pgbouncer.portNumber",
        ),  # the umbrella nests the sub-chart's schema
    ]
    assert "kept until 3.0.0" in found[0]["message"]
