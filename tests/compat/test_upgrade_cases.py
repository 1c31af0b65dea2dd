"""Every upgrade-check rule against its case folders: ``tests/cases/compat/<rule>/<case>/``.

Each case holds ``old.yaml`` and ``new.yaml`` (rendered manifests) and ``expected.yaml`` (the
findings as ``CODE Kind name field``, ``[]`` for a safe twin). Folders named ``unsafe*`` must
produce findings of their own rule only; ``safe*`` folders must produce none, from any rule.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from chartforge.compat import BY_ID, RULES, Rendering, upgrade_check
from tests.conftest import CASES, run_cli

COMPAT = CASES / "compat"
CASE_DIRS = sorted(p.parent for p in COMPAT.glob("*/*/old.yaml"))


def _found(case: Path) -> list[str]:
    old = Rendering.from_paths([case / "old.yaml"], "old")
    new = Rendering.from_paths([case / "new.yaml"], "new")
    return sorted(f"{d.code} {d.kind} {d.name} {d.field}" for d in upgrade_check(old, new) if not d.waived)


@pytest.mark.parametrize("case", CASE_DIRS, ids=[f"{p.parent.name}/{p.name}" for p in CASE_DIRS])
def test_case(case: Path) -> None:
    expected = sorted(yaml.safe_load((case / "expected.yaml").read_text()) or [])
    found = _found(case)
    assert found == expected
    rule = case.parent.name
    if case.name.startswith("unsafe"):
        assert found, "an unsafe case must trigger its rule"
        assert all(f.startswith(f"{rule} ") for f in found)
    else:
        assert case.name.startswith("safe") and not found


def test_every_rule_has_an_unsafe_case_and_a_safe_twin() -> None:
    assert [r.id for r in RULES] == sorted(BY_ID) and len(RULES) == 15
    for rule in RULES:
        cases = {p.name for p in CASE_DIRS if p.parent.name == rule.id}
        assert "unsafe" in cases and "safe" in cases, rule.id
        assert rule.title and rule.why and rule.fix and rule.reference, rule.id
        assert "\n" not in rule.title
    assert {p.parent.name for p in CASE_DIRS} == set(BY_ID), "a case folder names an unknown rule"


def test_cli_reports_rule_kind_name_field_why_and_fix_and_exits_1() -> None:
    case = COMPAT / "CF-UPG-002" / "unsafe"
    done = run_cli(
        "upgrade-check", "--from", str(case / "old.yaml"), "--to", str(case / "new.yaml"), "-o", "json"
    )
    assert done.returncode == 1, done.stderr
    (finding,) = json.loads(done.stdout)["diagnostics"]
    assert (finding["code"], finding["kind"], finding["name"], finding["field"]) == (
        "CF-UPG-002", "StatefulSet", "db", "spec.serviceName")  # fmt: skip
    assert "db-headless" in finding["extra"]["change"] and "db-hl" in finding["extra"]["change"]
    assert "Forbidden" in finding["message"] and "cascade=orphan" in finding["extra"]["fix"]
    assert "ValidateStatefulSetUpdate" in finding["extra"]["reference"]
    text = run_cli("upgrade-check", "--from", str(case / "old.yaml"), "--to", str(case / "new.yaml"))
    assert text.returncode == 1 and "CF-UPG-002 StatefulSet db spec.serviceName" in text.stdout


def test_cli_safe_twin_exits_0_and_directories_are_read_whole(tmp_path: Path) -> None:
    case = COMPAT / "CF-UPG-002" / "safe"
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "a.yaml").write_text((case / "old.yaml").read_text())
    done = run_cli("upgrade-check", "--from", str(tmp_path / "old"), "--to", str(case / "new.yaml"))
    assert done.returncode == 0, done.stderr
    assert "0 errors" in done.stdout


def test_cli_bad_input_is_one_message_without_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\ndata: [unclosed\n")
    done = run_cli("upgrade-check", "--from", str(bad), "--to", str(bad))
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"{bad}:4" in done.stderr and "invalid YAML" in done.stderr
    missing = run_cli("upgrade-check", "--from", str(tmp_path / "nope"), "--to", str(bad))
    assert missing.returncode == 1 and "no such file" in missing.stderr
    twice = tmp_path / "twice.yaml"
    twice.write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n"
    )
    dup = run_cli("upgrade-check", "--from", str(twice), "--to", str(twice))
    assert dup.returncode == 1 and "ConfigMap a is defined twice" in dup.stderr


def test_rules_listing_is_the_catalogue() -> None:
    done = run_cli("upgrade-check", "--rules", "-o", "json")
    assert done.returncode == 0
    assert [r["id"] for r in json.loads(done.stdout)["rules"]] == [r.id for r in RULES]


def test_rules_are_registered_diagnostic_codes() -> None:
    from chartforge import codes

    for rule in RULES:
        assert codes.CODES[rule.id] == codes.Code("compat", rule.title)
