"""The diagnostic code registry: every code the source emits is registered and documented."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from chartforge import codes, lint
from chartforge.policy.codes import CHECKS
from tests.conftest import ROOT

PACKAGE = ROOT / "generator" / "chartforge"
DOC = (ROOT / "docs" / "diagnostics.md").read_text(encoding="utf-8")
#: what a diagnostic code looks like in this code base (checkov ids are checkov's own)
CODE = re.compile(r"^(CF|HELM|WAIVER|PSS|RES|PROBE|PDB|NETPOL|IMAGE|SECRET)-[A-Z0-9-]*[A-Z0-9]$")


def literal_codes(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
        and CODE.match(n.value)
    }  # fmt: skip


def test_every_code_in_the_source_is_registered() -> None:
    registered = set(codes.CODES) | set(CHECKS)
    unregistered = {
        f"{path.relative_to(ROOT)}: {code}"
        for path in PACKAGE.rglob("*.py")
        for code in literal_codes(path)
        if code not in registered
    }
    assert not unregistered, (
        "register these codes in chartforge/codes.py (or policy/codes.py):\n"
        + "\n".join(sorted(unregistered))
    )


def test_helm_lint_levels_map_to_registered_codes() -> None:
    assert {codes.lint_code(level) for level in lint._LEVELS} <= set(codes.CODES)


def test_registry_and_docs_agree() -> None:
    documented = dict(re.findall(r"^\| `([A-Za-z0-9_-]+)` \| (\w+) \|", DOC, re.MULTILINE))
    assert documented == {code: c.stage for code, c in codes.CODES.items()}


def test_the_scan_finds_an_unregistered_code(tmp_path: Path) -> None:
    sample = tmp_path / "stage.py"
    sample.write_text('Diagnostic("error", "CF-NEW-THING", "x")\nenv = "CLUSTER_ID"\n', encoding="utf-8")
    assert literal_codes(sample) == {"CF-NEW-THING"}
