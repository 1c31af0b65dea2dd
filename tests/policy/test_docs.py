"""docs/policy.md stays in step with the code: every check id documented, the example valid."""

from __future__ import annotations

import re
from pathlib import Path

from chartforge.policy import CHECKS, load_waivers
from tests.conftest import ROOT

DOC = (ROOT / "docs" / "policy.md").read_text(encoding="utf-8")


def test_every_check_id_is_documented() -> None:
    documented = set(re.findall(r"^\| `([A-Z0-9-]+)` \|", DOC, re.MULTILINE))
    assert documented == set(CHECKS)


def test_documented_waiver_example_loads(tmp_path: Path) -> None:
    example = re.search(r"```yaml\n(waivers:.*?)```", DOC, re.DOTALL)
    assert example is not None
    path = tmp_path / "waivers.yaml"
    path.write_text(example.group(1))
    [waiver] = load_waivers(path).items
    assert (waiver.id, waiver.kind, waiver.name, waiver.chart) == (
        "CKV_K8S_43",
        "StatefulSet",
        "*-postgresql",
        "postgresql-ha",
    )
    assert waiver.field == "spec.template.spec.containers[*].image" and waiver.reason.startswith(
        "Images are pinned"
    )


def test_shipped_waivers_file_is_valid() -> None:
    load_waivers(ROOT / "sources" / "waivers.yaml")
