"""The umbrella linted with unselected sub-charts as stubs: only when provably the same findings (real helm 3 and 4)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from chartforge.compile.assemble import assemble
from chartforge.compile.build import build
from chartforge.compile.catalog import load_catalog
from chartforge.resultcache import ResultCache
from chartforge.tools import Helm, find_helms
from chartforge.umbrellastub import Stubber, text_refs
from tests.conftest import CASES, copy_tree, require_tool, run_cli
from tests.test_selection import committed_base

BASE = CASES / "build" / "base"  # alpha and beta, both sub-charts of the umbrella "suite"
H3, H4 = Helm("/bin/helm3", "v3.17.2"), Helm("/bin/helm4", "v4.1.4")


def test_named_templates_defined_included_and_what_cannot_be_told() -> None:
    refs = text_refs(['{{- define "a.x" -}}{{ include "a.y" . }}{{- end }}{{/* include "not.me" */}}'])
    assert (refs.defines, refs.includes, refs.opaque) == ({"a.x"}, {"a.y"}, False)
    assert not text_refs(['{{ include (print $.Template.BasePath "/cm.yaml") . | sha256sum }}']).opaque
    assert not text_refs(['{{ $d := dict }}{{ $_ := set $d "k" 1 }}{{ merge (dict) .Values.x }}']).opaque
    assert text_refs(['{{ include (printf "%s.x" .Chart.Name) . }}']).opaque, "a computed name"
    assert text_refs(["{{ template $name . }}"]).opaque
    assert text_refs(["{{ .Subcharts.alpha.Values.x }}"]).opaque
    assert text_refs(['{{ $_ := set .Values.global "k" 1 }}']).opaque, "shared values changed in place"
    assert text_refs(['{{ $g := .Values.global }}{{ $_ := unset $g "k" }}']).opaque
    assert text_refs(['{{ block "b.x" . }}{{ end }}']).defines == {"b.x"}
    merged = '{{ $e := merge (dict "a" 1) (omit . "n") }}{{ $_ := set $e "k" 1 }}'
    assert not text_refs([merged]).opaque, "merge returns the new dict it merges into"
    assert text_refs(['{{ $e := merge .Values.x (dict "a" 1) }}{{ $_ := set $e "k" 1 }}']).opaque
    assert not text_refs(['{{ fail "set the cidrs, or merge them" }}']).opaque, "words of a message"


@pytest.fixture
def assembled(tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """The base catalog assembled, beta given a named template of its own (self-contained)."""
    root = copy_tree(BASE, tmp_path / "project")
    build(root)
    with assemble(load_catalog(root)) as tree:
        (tree / "beta/templates/_helpers.tpl").write_text('{{- define "beta.x" -}}b{{- end }}\n')
        with (tree / "beta/templates/configmap.yaml").open("a") as out:
            out.write('  x: {{ include "beta.x" . | quote }}\n')
        yield root, tree


def _stubber(root: Path, tree: Path, tmp: Path) -> Stubber:
    scratch = tmp / f"scratch-{len(list(tmp.glob('scratch-*')))}"
    scratch.mkdir()
    return Stubber(load_catalog(root), tree, ResultCache(tmp / "cache"), scratch)


def test_a_stub_needs_a_clean_fact_for_the_same_helm_environment_values_and_content(
    assembled: tuple[Path, Path], tmp_path: Path
) -> None:
    root, tree = assembled
    values = root / "values/production.yaml"
    stubber = _stubber(root, tree, tmp_path)
    assert stubber.stubbed(["alpha", "suite"], H3, "production", values) is None, "no fact yet"
    stubber.record_clean(H3, "production", values)
    stubbed = stubber.stubbed(["alpha", "suite"], H3, "production", values)
    assert stubbed is not None and stubbed.name == "suite"
    assert sorted(p.name for p in (stubbed / "charts/beta").iterdir()) == ["Chart.yaml", "values.yaml"]
    assert (stubbed / "charts/alpha/templates/configmap.yaml").is_file(), "the selected chart in full"
    assert stubber.stubbed(["alpha", "suite"], H4, "production", values) is None, "another helm version"
    assert stubber.stubbed(["alpha", "suite"], H3, "development", values) is None, "another environment"
    text = values.read_text()
    changed = tmp_path / "changed.yaml"
    changed.write_text(text.replace("alpha:", "alpha:\n  extra: 1", 1))
    assert stubber.stubbed(["alpha", "suite"], H3, "production", changed) is not None, (
        "alpha is linted in full"
    )
    changed.write_text(text.replace("beta:", "beta:\n  extra: 1", 1))
    assert stubber.stubbed(["alpha", "suite"], H3, "production", changed) is None, "the stub's values changed"
    changed.write_text(text.replace("global:", "global:\n  extra: 1", 1))
    assert stubber.stubbed(["alpha", "suite"], H3, "production", changed) is None, (
        "global reaches every chart"
    )
    with (tree / "beta/templates/configmap.yaml").open("a") as out:
        out.write("  more: x\n")
    assert _stubber(root, tree, tmp_path).stubbed(["alpha", "suite"], H3, "production", values) is None


@pytest.mark.parametrize(
    ("line", "exact"),
    [
        ('  b: {{ include "beta.x" . | quote }}', False),  # a kept chart uses the stub's template
        (
            '{{- define "beta.x" -}}a{{- end }}',
            False,
        ),  # and one name in two charts: which wins depends on both
        ('  c: {{ include (printf "%s.x" "beta") . | quote }}', False),  # a computed name
        ('  d: {{ include (print $.Template.BasePath "/configmap.yaml") . | sha256sum | quote }}', True),
    ],
)
def test_named_templates_across_the_boundary_lint_the_full_tree(
    assembled: tuple[Path, Path], tmp_path: Path, line: str, exact: bool
) -> None:
    root, tree = assembled
    values = root / "values/production.yaml"
    _stubber(root, tree, tmp_path).record_clean(H3, "production", values)
    with (tree / "alpha/templates/configmap.yaml").open("a") as out:
        out.write(line + "\n")
    stubbed = _stubber(root, tree, tmp_path).stubbed(["alpha", "suite"], H3, "production", values)
    assert (stubbed is not None) is exact


def _wrappers(tmp_path: Path) -> tuple[dict[str, str], Path]:
    """helm3/helm4 wrappers first on PATH that log every lint call; the environment to use them."""
    log, bin_dir = tmp_path / "calls.log", tmp_path / "bin"
    bin_dir.mkdir()
    for helm in find_helms():
        wrapper = bin_dir / f"helm{helm.major}"
        wrapper.write_text(
            f'#!/bin/sh\n[ "$1" = lint ] && echo "helm{helm.major} $@" >> {log}\nexec {helm.path} "$@"\n'
        )
        wrapper.chmod(0o755)
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    return {"PATH": path, "CHARTFORGE_CACHE": str(tmp_path / "cache"), "HELM": ""}, log


@pytest.mark.helm
def test_changed_since_stubs_the_umbrella_and_reports_what_a_full_check_reports(tmp_path: Path) -> None:
    require_tool("helm")
    root = committed_base(tmp_path / "project")
    env, log = _wrappers(tmp_path)
    args = ("-C", str(root), "check", "--engine", "builtin", "-o", "json")
    first = run_cli(*args, env=env)
    assert first.returncode in (0, 1), first.stderr  # the full check records which sub-charts lint clean

    template = root / "sources/charts/alpha/templates/configmap.yaml.j2"
    template.write_text(template.read_text() + "  broken: {{ .Values.nope.x | quote }}\n")  # fails to render
    build(root)
    log.write_text("")
    changed = run_cli(*args, "--changed-since", "HEAD", env=env)
    assert changed.returncode == 1, changed.stderr
    umbrella_lints = [c for c in log.read_text().splitlines() if "/suite " in c + " "]
    assert umbrella_lints and all("chartforge-stubs-" in c for c in umbrella_lints), umbrella_lints
    assert len(umbrella_lints) == 2 * len(find_helms()), "each helm × environment, beta as a stub"
    found = json.loads(changed.stdout)["diagnostics"]
    lint_only = json.loads(run_cli(*args, "--changed-since", "HEAD", "--stage", "lint", env=env).stdout)
    # the stubbed umbrella lint reports alpha's failure too (grouped with alpha's own lint finding)
    assert any("suite" in d["extra"].get("charts", "") for d in lint_only["diagnostics"]), lint_only

    full = json.loads(run_cli(*args, "--no-cache", env=env).stdout)["diagnostics"]
    assert found == [d for d in full if d["chart"] in ("alpha", "suite", "")], "same findings, same order"

    shutil.rmtree(tmp_path / "cache")  # no facts: the umbrella is linted in full, same findings
    log.write_text("")
    again = run_cli(*args, "--changed-since", "HEAD", env=env)
    assert json.loads(again.stdout)["diagnostics"] == found
    assert not any("chartforge-stubs-" in c for c in log.read_text().splitlines())
