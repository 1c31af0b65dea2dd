"""Generated YAML passes yamllint with the project's ``.yamllint`` (issue 14): 120 columns,
consistent indentation. Helm templates are Go templates, not YAML: a template is linted only when
it holds no ``{{`` directive; helm lints the others (``chartforge check``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from yamllint import linter
from yamllint.config import YamlLintConfig

from chartforge.compile.build import build
from tests.conftest import CASES, ROOT, copy_tree

CONFIG = YamlLintConfig(file=str(ROOT / ".yamllint"))


def yaml_files(root: Path) -> list[Path]:
    """What is YAML among the generated files: values, Chart.yaml, values/<env>.yaml, directive-free templates."""
    found = [p for p in (*root.glob("charts/**/*.yaml"), *root.glob("values/*.yaml")) if p.is_file()]
    return sorted(p for p in found if "templates" not in p.parts or "{{" not in p.read_text())


def problems(path: Path, root: Path) -> list[str]:
    rel = path.relative_to(root).as_posix()
    if CONFIG.is_file_ignored(rel):
        return []
    return [
        f"{rel}:{p.line}:{p.column} {p.desc} ({p.rule})" for p in linter.run(path.read_text(), CONFIG, rel)
    ]


BUNDLED = yaml_files(ROOT)


@pytest.mark.parametrize("path", BUNDLED, ids=[str(p.relative_to(ROOT)) for p in BUNDLED])
def test_bundled_generated_yaml_passes_yamllint(path: Path) -> None:
    assert problems(path, ROOT) == []


def test_the_config_is_the_one_the_issue_asks_for() -> None:
    assert CONFIG.rules["line-length"]["max"] == 120
    assert CONFIG.rules["indentation"]["indent-sequences"] == "consistent"
    assert len(BUNDLED) >= 15  # 6 charts × (values.yaml, Chart.yaml) + 3 environments


def test_long_descriptions_and_defaults_are_folded_not_lost(tmp_path: Path) -> None:
    root = copy_tree(CASES / "build" / "base", tmp_path / "project")
    long_text = " ".join(f"word{i}" for i in range(60))
    nested = [{"name": "n" * 30, "keys": [f"key-{i}-{'x' * 20}" for i in range(3)], "note": long_text}]
    params = root / "sources/charts/alpha/parameters.yaml"
    params.write_text(
        params.read_text()
        + yaml.safe_dump({"notes": {"type": "string", "default": long_text, "description": long_text},
                          "entries": {"type": "array", "default": nested, "description": "Entries " + long_text}})
    )  # fmt: skip
    chart = root / "sources/charts/alpha/chart.yaml"
    chart.write_text(chart.read_text().replace("description: ", f"description: {long_text} ", 1))
    build(root)
    for path in yaml_files(root):
        assert problems(path, root) == []
    values = yaml.safe_load((root / "charts/alpha/values.yaml").read_text())
    assert values["notes"] == long_text and values["entries"] == nested
    assert yaml.safe_load((root / "charts/alpha/Chart.yaml").read_text())["description"].startswith(long_text)
    text = (root / "charts/alpha/values.yaml").read_text()
    assert "## @param notes word0" in text and "##   word" in text  # the description wrapped, kept whole
