"""Column-free blocks: ``[[> macro() ]]`` and ``reindent`` (compile/placement.py, macros/blocks.j2).

A block written for column 0 and placed at column n must be byte-identical to what the old
column-taking macro of macros/k8s.j2 emits when told n, Helm ``nindent`` counts included.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from chartforge.compile.jinja import environment, render_file
from chartforge.compile.placement import reindent, to_yaml
from chartforge.errors import TemplateError
from tests.conftest import ROOT

SOURCES = ROOT / "sources"
CONTEXT = {"catalog": {"platform": "acme"}}


def render(text: str, tmp_path: Path) -> str:
    """Render ``text`` as a template among the real macros (a copy of sources/macros)."""
    (tmp_path / "macros").mkdir(parents=True)
    for macro in (SOURCES / "macros").glob("*.j2"):
        (tmp_path / "macros" / macro.name).write_text(macro.read_text())
    (tmp_path / "t.j2").write_text(text)
    return render_file(environment(tmp_path), tmp_path, "t.j2", CONTEXT)


def test_reindent_shifts_lines_and_every_helm_indent() -> None:
    block = 'a:\n  {{- include "x" . | nindent 2 }}\n\nb: {{ .Files.Get "f" | indent 4 }}'
    assert reindent(block, 6) == (
        '      a:\n        {{- include "x" . | nindent 8 }}\n\n      b: {{ .Files.Get "f" | indent 10 }}'
    )
    assert reindent(block, 0) == block


def test_reindent_leaves_text_outside_helm_actions_alone() -> None:
    assert (
        reindent("note: nindent 2 stays\n{{ x | nindent 2 }}", 2)
        == "  note: nindent 2 stays\n  {{ x | nindent 4 }}"
    )


def test_to_yaml_keeps_the_order_written() -> None:
    assert to_yaml({"httpGet": {"path": "/z", "port": "http"}}) == "httpGet:\n  path: /z\n  port: http"


CASES = [
    ('b.metadata("c", "web")', 'k8s.metadata("c", "web", {n})', [2, 4]),
    ('b.metadata("c", "web", "-x")', 'k8s.metadata("c", "web", {n}, "-x")', [2]),
    ('b.selector("c", "web")', 'k8s.selector("c", "web", {n})', [4, 6, 10]),
    ('b.pod_metadata("c", "web", ".Values.web", checksums=("cm.yaml",))',
     'k8s.pod_metadata("c", "web", ".Values.web", {n}, checksums=("cm.yaml",))', [4]),
    ('b.pod_metadata("c", "web", ".Values.web")', 'k8s.pod_metadata("c", "web", ".Values.web", {n})', [4]),
    ('b.pod_spec("c", "web", ".Values.web", automount=True)',
     'k8s.pod_spec_common("c", "web", ".Values.web", {n}, automount=True)', [6, 8]),
    ('b.container("c", ".Values.web")', 'k8s.container_common("c", ".Values.web", {n})', [10, 12]),
    ('b.probes(".Values.web", {"tcpSocket": {"port": "db"}})', 'k8s.probes(".Values.web", "tcpSocket:\\n  port: db", {n})', [10]),
    ('b.probes(".Values.web", {"httpGet": {"path": "/l", "port": "p"}}, readiness={"httpGet": {"path": "/r", "port": "p"}})',
     'k8s.probes(".Values.web", "httpGet:\\n  path: /l\\n  port: p", {n}, readiness_handler="httpGet:\\n  path: /r\\n  port: p")', [10]),
]  # fmt: skip


@pytest.mark.parametrize(("new", "old", "columns"), CASES)
def test_a_placed_block_equals_the_old_macro_at_that_column(
    new: str, old: str, columns: list[int], tmp_path: Path
) -> None:
    head = (
        '[% import "macros/k8s.j2" as k8s with context %][% import "macros/blocks.j2" as b with context %]\n'
    )
    for n in columns:
        placed = render(f"{head}x:\n{' ' * n}[[> {new} ]]\ny: 1\n", tmp_path / f"new{n}")
        pasted = render(f"{head}x:\n[[ {old.format(n=n)} ]]\ny: 1\n", tmp_path / f"old{n}")
        assert placed == pasted
        assert placed.startswith(f"x:\n{' ' * n}") and "[[>" not in placed


def test_placement_keeps_template_line_numbers(tmp_path: Path) -> None:
    text = '[% import "macros/blocks.j2" as b with context %]\na:\n  [[> b.selector("c", "w") ]]\nb: [[ missing ]]\n'
    with pytest.raises(TemplateError) as caught:
        render(text, tmp_path)
    assert caught.value.line == 4
    assert caught.value.path == "sources/t.j2"


def test_a_call_body_is_placed_with_its_helm_indents(tmp_path: Path) -> None:
    text = (
        '[% import "macros/objects.j2" as o with context %]\n'
        '[% call o.workload("c", "web", ".Values") %]\n'
        "env:\n  {{- toYaml .Values.env | nindent 2 }}\n"
        "[% endcall %]\n"
    )
    out = render(text, tmp_path)
    assert "          env:\n            {{- toYaml .Values.env | nindent 12 }}\n" in out
