"""A breaking change of a sub-chart's schema is a breaking change of the umbrella that embeds it.

The umbrella's own ``values.schema.json`` no longer nests its sub-charts' schemas (helm checks each
section against the sub-chart's): ``semver`` and the release checks read the umbrella's schema as
helm applies it, with each embedded sub-chart's schema under its key (chart directories with
``file://`` dependencies and packaged ``.tgz`` with ``charts/<dep>-<version>.tgz`` alike).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from chartforge.compat.charts import chart_semver, load_input
from chartforge.compile.build import build
from chartforge.package import package_charts
from tests.conftest import CASES, copy_tree, run_cli


def _released_and_changed(tmp_path: Path) -> tuple[Path, Path]:
    project = copy_tree(CASES / "build" / "base", tmp_path / "project")
    build(project)
    old = Path(shutil.copytree(project / "charts", tmp_path / "old"))
    params = project / "sources" / "charts" / "alpha" / "parameters.yaml"
    text = params.read_text()
    assert "  minimum: 1\n" in text
    params.write_text(text.replace("  minimum: 1\n", "  minimum: 1\n  maximum: 5\n", 1))  # replicaCount
    build(project)
    return old, project / "charts"


def test_a_tighter_subchart_constraint_is_major_for_the_umbrella(tmp_path: Path) -> None:
    old, new = _released_and_changed(tmp_path)
    assert (old / "suite" / "values.schema.json").read_bytes() == (
        new / "suite" / "values.schema.json"
    ).read_bytes()
    for label, (a, b) in {
        "directories": (old / "suite", new / "suite"),
        "packages": (
            package_charts(old, tmp_path / "dist-old").get("suite").path,
            package_charts(new, tmp_path / "dist-new").get("suite").path,
        ),
    }.items():
        result = chart_semver(load_input(a), load_input(b))
        assert result.required == "major", (label, result)
        assert [(r.path, r.message) for r in result.reasons if r.level == "major"] == [
            ("alpha.replicaCount", "new constraint maximum: 5")
        ], label


def test_semver_cli_on_packaged_umbrellas(tmp_path: Path) -> None:
    old, new = _released_and_changed(tmp_path)
    a = package_charts(old, tmp_path / "dist-old").get("suite").path
    b = package_charts(new, tmp_path / "dist-new").get("suite").path
    done = run_cli("semver", "--from", str(a), "--to", str(b), "-o", "json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["required"] == "major"
    assert {"level": "major", "path": "alpha.replicaCount", "message": "new constraint maximum: 5"} in data[
        "reasons"
    ]


def test_the_nested_schema_of_a_directory_is_what_the_umbrella_schema_was(tmp_path: Path) -> None:
    project = copy_tree(CASES / "build" / "base", tmp_path / "project")
    build(project)
    nested = load_input(project / "charts" / "suite").schema
    alpha = nested["properties"]["alpha"]
    assert alpha["properties"]["replicaCount"]["minimum"] == 1 and alpha["additionalProperties"] is False
    assert "$schema" not in alpha and nested["$schema"].startswith("http://json-schema.org/draft-07")
