"""``chartforge render`` when helm cannot render: helm's noise dropped, library charts refused clearly,
charts whose ``kubeVersion`` ends before helm's default Kubernetes version still rendered."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import CASES, copy_tree, require_tool, run_cli

BASE = CASES / "build" / "base"
LIBRARY = {
    "sources/charts/shared/chart.yaml": "version: 0.1.0\ndescription: Shared named templates\ntype: library\n",
    "sources/charts/shared/templates/_helpers.tpl.j2": '{{- define "shared.team" -}}platform{{- end -}}\n',
}


def _project(tmp_path: Path, files: dict[str, str] | None = None) -> Path:
    root = copy_tree(BASE, tmp_path / "project")
    for rel, text in (files or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


@pytest.mark.helm
@pytest.mark.parametrize("helm", ["helm3", "helm4"])
def test_a_helm_failure_is_shown_without_helms_noise(tmp_path: Path, helm: str) -> None:
    """The umbrella is assembled with its sub-charts as symlinks: helm 3 says `walk.go:75: found symbolic
    link…`, helm 4 `level=INFO msg="found symbolic link…"`, both `Use --debug flag…`; none of it is shown."""
    binary = require_tool(helm)
    root = _project(tmp_path)
    template = root / "sources" / "charts" / "alpha" / "templates" / "configmap.yaml.j2"
    template.write_text(template.read_text().replace(".Values.replicaCount", ".Values.servce.port"))
    done = run_cli("-C", str(root), "render", "suite", "--helm", binary)
    assert done.returncode == 1, done.stderr  # the chart's own mistake: a user error, not a tool failure
    assert "Traceback" not in done.stderr
    # Never built, so no line map: the generated line, in one line, without helm's temporary paths.
    assert done.stderr.startswith("error: charts/alpha/templates/configmap.yaml:10: helm template failed:")
    assert "nil pointer" in done.stderr and done.stderr.count("\n") == 1, done.stderr
    for noise in ("symbolic link", "level=", "Use --debug", "chartforge-assembled-", "/tmp/"):
        assert noise not in done.stderr, done.stderr


@pytest.mark.helm
@pytest.mark.parametrize("helm", ["helm3", "helm4"])
def test_a_template_failure_is_reported_at_the_sources_line(tmp_path: Path, helm: str) -> None:
    """After a build, the line map names the author's template line, as `check` does."""
    binary = require_tool(helm)
    root = _project(tmp_path)
    template = root / "sources" / "charts" / "alpha" / "templates" / "configmap.yaml.j2"
    lines = template.read_text().splitlines()
    template.write_text("\n".join([*lines, "  broken: {{ .Values.servce.port | quote }}", ""]))
    assert run_cli("-C", str(root), "build").returncode == 0
    done = run_cli("-C", str(root), "render", "alpha", "--helm", binary)
    assert done.returncode == 1, done.stderr
    assert done.stderr.startswith(
        f"error: sources/charts/alpha/templates/configmap.yaml.j2:{len(lines) + 1}: helm template failed:"
    ), done.stderr
    assert "nil pointer" in done.stderr and "generated charts/alpha/templates/configmap.yaml:" in done.stderr


@pytest.mark.helm
@pytest.mark.parametrize("helm", ["helm3", "helm4"])
def test_render_uses_the_newest_supported_kubernetes_version(tmp_path: Path, helm: str) -> None:
    """The fixture catalog supports 1.31–1.33; helm 4 defaults to 1.35, past the charts' kubeVersion."""
    done = run_cli("-C", str(_project(tmp_path)), "render", "alpha", "--helm", require_tool(helm))
    assert done.returncode == 0, done.stderr
    assert "kind: ConfigMap" in done.stdout


def test_a_library_chart_is_refused_with_what_to_render_instead(tmp_path: Path) -> None:
    root = _project(tmp_path, LIBRARY)
    catalog = root / "sources" / "catalog.yaml"
    catalog.write_text(
        catalog.read_text().replace("charts: [alpha, beta, suite]", "charts: [alpha, beta, shared, suite]")
    )
    umbrella = root / "sources" / "charts" / "suite" / "chart.yaml"
    umbrella.write_text(
        umbrella.read_text().replace("  - name: beta\n", "  - name: beta\n  - name: shared\n")
    )
    done = run_cli("-C", str(root), "render", "shared")
    assert done.returncode == 1, done.stderr
    assert done.stderr == (
        "error: chart shared is a library chart (named templates only, no objects): "
        "render a chart that includes its templates: suite\n"
    )
