"""render: Jinja delimiters, StrictUndefined, escapes refused, the seed's entry point."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from chartforge import render_template
from chartforge.compile.jinja import environment, render_file
from chartforge.errors import TemplateError, UserError
from tests.conftest import CASES, copy_tree, require_tool, run_cli

BASE = CASES / "build" / "base"


def test_helm_braces_pass_through(tmp_path: Path) -> None:
    (tmp_path / "t.j2").write_text(
        "a: {{ .Values.x }}\nb: [[ name ]]\n[# gone #]c: [% if on %]yes[% endif %]\n"
    )
    out = render_file(environment(tmp_path), tmp_path, "t.j2", {"name": "n", "on": True})
    assert out == "a: {{ .Values.x }}\nb: n\nc: yes"  # trim_blocks eats the newline after a tag


@pytest.mark.parametrize("name", ["../etc/passwd", "/etc/passwd", "charts/../../x.j2", "C:/x"])
def test_template_names_escaping_sources_are_refused(tmp_path: Path, name: str) -> None:
    with pytest.raises(TemplateError, match="escapes sources/"):
        render_file(environment(tmp_path), tmp_path, name, {})


def test_render_cli_refuses_unknown_chart(tmp_path: Path) -> None:
    root = copy_tree(BASE, tmp_path / "p")
    result = run_cli("-C", str(root), "render", "gamma")
    assert result.returncode == 1
    assert "unknown chart 'gamma'" in result.stderr


@pytest.mark.helm
def test_render_with_variables_and_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    require_tool("helm")
    root = copy_tree(BASE, tmp_path / "p")
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    docs = list(
        yaml.safe_load_all(render_template("alpha", {"node_count": 5, "cluster_name": "prod-x"}, root=root))
    )
    cm = next(d for d in docs if d and d["kind"] == "ConfigMap")
    assert cm["data"]["replicas"] == "5"
    assert cm["data"]["cluster"] == "prod-x"
    assert cm["data"]["image"] == "nginx:1.27.4", "production environment values apply by default"
    docs = list(yaml.safe_load_all(render_template("alpha", {}, root=root)))
    assert next(d for d in docs if d)["data"]["replicas"] == "6", "seed default node_count=6"


@pytest.mark.helm
def test_render_defaults_come_from_the_catalog_not_the_compiler(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_tool("helm")
    root = copy_tree(BASE, tmp_path / "p")
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    catalog = root / "sources" / "catalog.yaml"
    text = catalog.read_text(encoding="utf-8")
    catalog.write_text(text.replace("  node_count: 6\n", "  node_count: 4\n"), encoding="utf-8")
    doc = next(d for d in yaml.safe_load_all(render_template("alpha", {}, root=root)) if d)
    assert doc["data"]["replicas"] == "4"
    assert doc["data"]["cluster"] == "demo-prod"
    catalog.write_text(
        text.split("variable_defaults:")[0] + "umbrella: suite\ncharts: [alpha, beta, suite]\n"
    )
    doc = next(d for d in yaml.safe_load_all(render_template("alpha", {}, root=root)) if d)
    assert doc["data"]["replicas"] == "1", "no catalog default: the chart's own default"
    assert doc["data"]["image"] == "nginx:1.27.3", "no default environment: no environment section"


@pytest.mark.helm
def test_render_reads_process_environment(tmp_path: Path) -> None:
    require_tool("helm")
    root = copy_tree(BASE, tmp_path / "p")
    result = run_cli("-C", str(root), "render", "alpha", "--set", "node_count=2",
                     env={"ENVIRONMENT": "development"})  # fmt: skip
    assert result.returncode == 0, result.stderr
    doc = next(d for d in yaml.safe_load_all(result.stdout) if d)
    assert doc["data"]["image"] == "nginx:1.27.3"
    assert doc["data"]["replicas"] == "2"


def test_render_rejects_unknown_variable_with_suggestion(tmp_path: Path) -> None:
    root = copy_tree(BASE, tmp_path / "p")
    with pytest.raises(UserError, match="did you mean 'node_count'"):
        render_template("alpha", {"node_cont": 3}, root=root)


def test_render_rejects_wrong_type(tmp_path: Path) -> None:
    root = copy_tree(BASE, tmp_path / "p")
    result = run_cli("-C", str(root), "render", "alpha", "--set", "node_count=many")
    assert result.returncode == 1
    assert "replicaCount" in result.stderr and "must be an integer" in result.stderr


@pytest.mark.helm
def test_seed_command_on_bundled_catalog() -> None:
    require_tool("helm")
    root = Path(__file__).resolve().parents[1]
    result = run_cli("-C", str(root), "render", "postgresql-ha", "--set", "cluster_name=prod-postgres",
                     "--set", "node_count=5", "--set", "backup_retention_days=30")  # fmt: skip
    assert result.returncode == 0, result.stderr
    docs = [d for d in yaml.safe_load_all(result.stdout) if d]
    sets = [d for d in docs if d["kind"] == "StatefulSet"]
    assert any(s["spec"]["replicas"] == 5 for s in sets)
    assert "prod-postgres" in result.stdout
