"""``.helmignore`` semantics, checked against the rules in helm's pkg/ignore and against helm itself."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest

from chartforge import proc
from chartforge.errors import UserError
from chartforge.package.charts import chart_files, load_chart
from chartforge.package.helmignore import IgnoreRules, glob_regex, load_rules
from tests.conftest import require_tool


def rules_of(tmp_path: Path, text: str) -> IgnoreRules:
    (tmp_path / ".helmignore").write_text(text)
    return load_rules(tmp_path, display="chart")


@pytest.mark.parametrize(
    ("pattern", "name", "matches"),
    [
        ("*.txt", "a.txt", True),
        ("*.txt", "dir/a.txt", False),  # '*' never crosses '/'
        ("a?c", "abc", True),
        ("a?c", "a/c", False),
        ("[a-c]x", "bx", True),
        ("[^a-c]x", "dx", True),
        ("[^a-c]x", "ax", False),
        ("\\*", "*", True),
        ("\\*", "a", False),
    ],
)
def test_go_glob(pattern: str, name: str, matches: bool) -> None:
    assert (glob_regex(pattern).match(name) is not None) is matches


@pytest.mark.parametrize("pattern", ["[", "[]", "a[-]", "x\\"])
def test_go_glob_syntax_errors(pattern: str) -> None:
    with pytest.raises(ValueError):
        glob_regex(pattern)


def test_basename_structural_anchored_and_dir_rules(tmp_path: Path) -> None:
    rules = rules_of(tmp_path, "# comment\n\n*.bak\ndocs/*.md\n/top.txt\nbuild/\n")
    assert rules.ignored("a.bak", is_dir=False)
    assert rules.ignored("templates/deep/a.bak", is_dir=False)  # no '/': base name only
    assert rules.ignored("docs/x.md", is_dir=False)
    assert not rules.ignored("other/docs/x.md", is_dir=False)
    assert rules.ignored("top.txt", is_dir=False)
    assert rules.ignored("build", is_dir=True)
    assert not rules.ignored("build", is_dir=False)  # trailing '/': directories only
    assert not rules.ignored("values.yaml", is_dir=False)


def test_default_rule_ignores_dotfiles_in_templates(tmp_path: Path) -> None:
    rules = load_rules(tmp_path, display="chart")  # no .helmignore at all
    assert rules.ignored("templates/.hidden", is_dir=False)
    assert not rules.ignored("templates/visible.yaml", is_dir=False)


def test_negation_follows_helm_not_git(tmp_path: Path) -> None:
    # helm: a negated rule that does NOT match ignores the path; one that matches goes on.
    rules = rules_of(tmp_path, "!keep.txt\n")
    assert rules.ignored("other.txt", is_dir=False)
    assert not rules.ignored("keep.txt", is_dir=False)


def test_double_star_is_refused_with_its_line(tmp_path: Path) -> None:
    with pytest.raises(UserError) as info:
        rules_of(tmp_path, "ok.txt\ndocs/**/x\n")
    assert info.value.line == 2 and "double-star" in info.value.render()


@pytest.mark.helm
def test_same_files_as_helm_package(tmp_path: Path) -> None:
    helm = require_tool("helm")
    chart = tmp_path / "demo"
    files = {
        "Chart.yaml": "apiVersion: v2\nname: demo\nversion: 0.1.0\n",
        "values.yaml": "a: 1\n",
        ".helmignore": "*.bak\n/secret.txt\nscratch/\nnotes/*.md\n",
        "templates/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n",
        "templates/.editor": "x",
        "templates/old.yaml.bak": "x",
        "secret.txt": "x",
        "sub/secret.txt": "kept: the rule is anchored",
        "scratch/a.yaml": "x",
        "notes/a.md": "x",
        "notes/deeper/a.md": "kept: '*' stops at '/'",
        "files/data.json": "{}",
    }
    for rel, text in files.items():
        (chart / rel).parent.mkdir(parents=True, exist_ok=True)
        (chart / rel).write_text(text)
    proc.run([helm, "package", chart, "-d", tmp_path])
    with tarfile.open(tmp_path / "demo-0.1.0.tgz") as tar:
        helm_names = {m.name.removeprefix("demo/") for m in tar.getmembers() if m.isfile()}
    ours = set(chart_files(load_chart(chart, "demo")))
    assert ours == helm_names
    assert "sub/secret.txt" in ours and "notes/deeper/a.md" in ours and "secret.txt" not in ours
