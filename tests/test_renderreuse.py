"""renderreuse: one umbrella rendering per environment when no chart can tell Kubernetes versions apart."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chartforge.check import run_check
from chartforge.compile.build import build
from chartforge.kube import KubeVersion
from chartforge.renderreuse import version_independent
from chartforge.tools import find_helms
from tests.conftest import CASES, copy_tree, require_tool

V = [KubeVersion(1, 31), KubeVersion(1, 33)]


def chart(
    root: Path, name: str, kube_version: str | None = None, template: str = "kind: ConfigMap\n"
) -> Path:
    (root / name / "templates").mkdir(parents=True)
    meta = f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n"
    if kube_version is not None:
        meta += f"kubeVersion: {kube_version!r}\n"
    (root / name / "Chart.yaml").write_text(meta)
    (root / name / "templates" / "cm.yaml").write_text(template)
    (root / name / "values.yaml").write_text("# Capabilities in a comment are not read\nx: 1\n")
    return root / name


def test_plain_chart_renders_the_same_at_every_version(tmp_path: Path) -> None:
    values = tmp_path / "v.yaml"
    values.write_text("x: 2\n")
    assert version_independent(chart(tmp_path, "a"), [values], V)
    assert version_independent(chart(tmp_path, "b", ">=1.31.0-0 <1.38.0-0"), [values], V)


@pytest.mark.parametrize(
    "kube_version",
    [">=1.32.0-0 <1.38.0-0", ">=1.31.0-0 <1.33.0-0", "^1.31.0", ">= 1.31 || < 1.20"],
)
def test_a_constraint_excluding_or_unreadable_means_render_each(tmp_path: Path, kube_version: str) -> None:
    assert not version_independent(chart(tmp_path, "a", kube_version), [], V)


def test_capabilities_anywhere_a_template_can_read_it(tmp_path: Path) -> None:
    assert not version_independent(
        chart(tmp_path, "a", template="x: {{ .Capabilities.KubeVersion }}\n"), [], V
    )
    b = chart(tmp_path, "b")
    (b / "templates" / "_helpers.tpl").write_text(
        '{{- define "x" -}}{{ $.Capabilities.APIVersions }}{{- end }}\n'
    )
    assert not version_independent(b, [], V)
    c = chart(tmp_path, "c")  # through tpl from a values file or files/
    values = tmp_path / "v.yaml"
    values.write_text("extra: '{{ .Capabilities.KubeVersion.Minor }}'\n")
    assert not version_independent(c, [values], V)
    (c / "files").mkdir()
    (c / "files" / "t.txt").write_text("{{ .Capabilities.KubeVersion }}\n")
    assert not version_independent(c, [], V)


def test_a_sub_chart_linked_under_charts_counts(tmp_path: Path) -> None:
    parent = chart(tmp_path, "parent")
    sub = chart(tmp_path, "sub", template='{{ if .Capabilities.APIVersions.Has "x/v1" }}a: 1{{ end }}\n')
    (parent / "charts").mkdir()
    (parent / "charts" / "sub").symlink_to(sub)
    assert not version_independent(parent, [], V)
    (parent / "charts" / "sub").unlink()
    (parent / "charts" / "sub-0.1.0.tgz").write_bytes(b"")
    assert not version_independent(parent, [], V), "an archived sub-chart cannot be read: render each"


@pytest.mark.helm
def test_check_renders_once_per_environment_with_the_same_result(tmp_path: Path) -> None:
    require_tool("helm")
    root = copy_tree(CASES / "build" / "base", tmp_path / "project")
    build(root)
    helm = find_helms()[-1]
    log = tmp_path / "calls.log"
    wrapper = tmp_path / "helm"
    wrapper.write_text(f'#!/bin/sh\necho "$1" >> {log}\nexec {helm.path} "$@"\n')
    wrapper.chmod(0o755)

    def run() -> tuple[str, int]:
        log.write_text("")
        # cache=False: this counts helm calls, which another test's cached cells of the same project would hide
        result = run_check(
            root, stages=("validate", "policy"), helm=str(wrapper), engine="builtin", cache=False
        )
        data = result.to_dict()
        assert data["matrix"]["kubernetes_versions"] == ["1.31", "1.32", "1.33"]
        return json.dumps(data, sort_keys=True), log.read_text().splitlines().count("template")

    shared, calls = run()
    assert calls == 2, "one rendering per environment"
    # a template comment naming Capabilities renders nothing but turns the reuse off
    (root / "sources/charts/alpha/templates/note.yaml.j2").write_text("{{/* not .Capabilities-free */}}\n")
    build(root)
    each, calls = run()
    assert calls == 2 * 3, "one rendering per environment × version"
    assert shared == each
