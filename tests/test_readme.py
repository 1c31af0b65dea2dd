"""Generated READMEs read right in ``helm show readme`` and on Artifact Hub (issue 14).

Booleans and nulls are spelled as YAML (``true``, not Python's ``True``); every link is absolute
or an anchor of a heading in the same README (a ``../other-chart/README.md`` link is dead once
the chart is packaged); the umbrella's "Values per environment" table is generated from
``sources/environments/``, so a new chart or environment appears in it without editing docs.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chartforge.compile.build import build
from tests.conftest import CASES, ROOT, copy_tree

READMES = sorted(ROOT.glob("charts/*/README.md"))
LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")


def slugs(markdown: str) -> set[str]:
    """GitHub's (and Artifact Hub's) heading anchors: lower case, punctuation dropped, spaces → '-'."""
    found = set()
    for heading in re.findall(r"^#{1,6} +(.+?)\s*$", markdown, flags=re.M):
        text = re.sub(r"[`*_]", "", heading).strip().lower()
        found.add(re.sub(r"[^\w\- ]", "", text).replace(" ", "-"))
    return found


@pytest.mark.parametrize("readme", READMES, ids=[p.parent.name for p in READMES])
def test_values_are_spelled_as_yaml(readme: Path) -> None:
    text = readme.read_text()
    assert not re.findall(r"`(True|False|None)`", text), "Python spelling of a YAML value"


@pytest.mark.parametrize("readme", READMES, ids=[p.parent.name for p in READMES])
def test_every_link_is_absolute_or_an_anchor_of_this_readme(readme: Path) -> None:
    text = readme.read_text()
    anchors = slugs(text)
    links = LINK.findall(text)
    for target in links:
        if target.startswith(("https://", "http://")):
            continue
        assert target.startswith("#"), f"relative link {target!r} breaks in helm show readme / Artifact Hub"
        assert target[1:] in anchors, f"anchor {target!r} names no heading of {readme.parent.name}'s README"


def test_umbrella_links_its_subcharts_by_anchor() -> None:
    text = (ROOT / "charts" / "spotify-ai-agent" / "README.md").read_text()
    assert "| [postgresql-ha](#postgresql-ha) |" in text and "../postgresql-ha" not in text
    assert "`helm show readme oci://127.0.0.1:5000/charts/postgresql-ha --version" in text


def _table(readme: str) -> dict[str, dict[str, str]]:
    section = readme.split("## Values per environment", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip("|").split(" | ") for line in section.splitlines() if line.startswith("| ")]
    envs = [c.strip() for c in rows[0][1:]]
    return {r[0].strip(): dict(zip(envs, (c.strip() for c in r[1:]), strict=True)) for r in rows[1:]}


def test_environment_table_follows_the_environment_files(tmp_path: Path) -> None:
    root = copy_tree(CASES / "build" / "base", tmp_path / "project")
    build(root)
    table = _table((root / "charts" / "suite" / "README.md").read_text())
    assert table["[beta](#beta)"] == {"development": "off", "production": "`replicaCount`"}
    assert table["[alpha](#alpha)"]["production"] == "`image`, `replicaCount`"
    # a new chart and a new environment: both appear, no docs edited
    gamma = copy_tree(root / "sources/charts/beta", root / "sources/charts/gamma")
    (gamma / "chart.yaml").write_text(
        (gamma / "chart.yaml").read_text().replace("Beta service", "Gamma service")
    )
    catalog = root / "sources/catalog.yaml"
    catalog.write_text(
        catalog.read_text()
        .replace("charts: [alpha, beta, suite]", "charts: [alpha, beta, gamma, suite]")
        .replace("environments: [development, production]", "environments: [development, production, qa]")
    )
    suite = root / "sources/charts/suite/chart.yaml"
    suite.write_text(suite.read_text() + "  - name: gamma\n")
    (root / "sources/environments/qa.yaml").write_text("gamma:\n  replicaCount: 1\n")
    build(root)
    table = _table((root / "charts" / "suite" / "README.md").read_text())
    assert table["[gamma](#gamma)"] == {
        "development": "defaults",
        "production": "defaults",
        "qa": "`replicaCount`",
    }
    assert table["[beta](#beta)"]["qa"] == "defaults"
