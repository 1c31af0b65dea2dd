"""Findings of ``check`` at their source: each folder of tests/cases/check is one author's mistake.

A case folder holds ``files/`` (laid over tests/cases/build/base, then built), ``case.yaml``
(``args`` after ``-C <project>``, run with ``-o json``) and ``expected.yaml``: ``findings``, the exact
list of unwaived errors, each given by the fields that matter (``path``, ``line``, ``message``,
``extra`` entries…), and ``text``: what the text report's table cells must contain. Real helm 3,
helm 4 and kubeconform run; one mistake must give one finding, located in ``sources/``.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import CASES, apply_case, copy_tree, run_cli

CHECK_CASES = sorted(p for p in (CASES / "check").iterdir() if p.is_dir())


def _matches(found: dict[str, Any], wanted: dict[str, Any]) -> bool:
    for key, value in wanted.items():
        if key == "extra":
            if any(found["extra"].get(k) != v for k, v in value.items()):
                return False
        elif found.get(key) != value:
            return False
    return True


def _cells(screen: str) -> list[str]:
    """The findings table's cells, each joined back from the lines rich wrapped it over."""
    rows: list[list[str]] = []
    for line in screen.splitlines():
        if not line.startswith("│"):
            continue
        parts = [c.strip() for c in line.strip().strip("│").split("│")]
        if parts[0] or not rows:
            rows.append(parts)
        else:
            rows[-1] = [" ".join(b for b in (a, c) if b) for a, c in zip(rows[-1], parts, strict=True)]
    return [cell for row in rows for cell in row]


@pytest.mark.parametrize("case", CHECK_CASES, ids=[p.name for p in CHECK_CASES])
def test_check_case(case: Path, tmp_path: Path) -> None:
    root = copy_tree(CASES / "build" / "base", tmp_path / "project")
    apply_case(case / "files", root)
    built = run_cli("-C", str(root), "build")
    assert built.returncode == 0, built.stderr
    spec = yaml.safe_load((case / "case.yaml").read_text())
    expected = yaml.safe_load((case / "expected.yaml").read_text())
    done = run_cli("-C", str(root), *spec["args"], "-o", "json")
    assert done.returncode == spec.get("exit", 1), done.stderr
    data = json.loads(done.stdout)
    errors = [d for d in data["diagnostics"] if d["severity"] == "error" and not d["waived"]]
    assert len(errors) == len(expected["findings"]), json.dumps(errors, indent=1)
    for wanted in expected["findings"]:
        assert any(_matches(d, wanted) for d in errors), (wanted, json.dumps(errors, indent=1))
    junit = tmp_path / "junit.xml"
    text = run_cli("-C", str(root), *spec["args"], "--junit", str(junit))
    screen = text.stdout + text.stderr
    cells = "|".join(_cells(screen)).replace(" ", "")  # rich folds long words anywhere
    for fragment in expected.get("text") or []:
        assert fragment.replace(" ", "") in cells, f"{fragment!r} not in:\n{screen}"
    assert "level=INFO" not in screen and "found symbolic link" not in screen
    # a validate or policy finding moved to sources/ still fails its object's JUnit case
    cases = ET.parse(junit).getroot().iter("testcase")
    failed = [c.get("name", "") for c in cases if c.find("failure") is not None]
    for d in errors:
        if d["stage"] in ("validate", "policy"):
            mine = [n for n in failed if f"{d['kind']}/{d['name']} (" in n]
            assert mine and all("sources/" not in n for n in mine), failed  # the rendered object's case
