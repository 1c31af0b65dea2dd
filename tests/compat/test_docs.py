"""docs/releasing.md is the rule catalogue users read: every rule, its why, fix and reference."""

from __future__ import annotations

from chartforge.compat import RULES
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "releasing.md").read_text()


def test_every_rule_is_documented_as_it_is_implemented() -> None:
    for rule in RULES:
        assert f"### {rule.id}: {rule.title}\n" in DOC
        assert f"- **Why:** {rule.why}." in DOC and f"- **Fix:** {rule.fix}." in DOC
        assert f"- **Reference:** {rule.reference}" in DOC
    assert DOC.count("\n### CF-UPG-") == len(RULES)


def test_catalog_codes_are_documented() -> None:
    from chartforge.compat.catalog import CODES

    for code in CODES:
        assert f"| `{code}` |" in DOC
