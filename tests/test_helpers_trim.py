"""Generated ``_helpers.tpl`` files keep only the named templates their chart uses."""

from __future__ import annotations

import re
from pathlib import Path

from chartforge.compile.helpers import trim_helpers

ROOT = Path(__file__).resolve().parents[1]

HELPERS = """\
{{/* Chart name. */}}
{{- define "c.name" -}}
{{- .Chart.Name -}}
{{- end -}}

{{/* Full name: uses c.name. */}}
{{- define "c.fullname" -}}
{{- if .Release.Name -}}
{{- printf "%s-%s" .Release.Name (include "c.name" .) -}}
{{- end -}}
{{- end -}}

{{/* Never used. */}}
{{- define "c.unused" -}}
{{- range .Values.x }}{{ . }}{{ end -}}
{{- end -}}

{{- define "c.labels" -}}
app: {{ include "c.name" . }}
{{- end -}}
"""


def _defines(text: str) -> list[str]:
    return re.findall(r'define "([^"]+)"', text)


def test_unused_defines_go_with_their_comment_and_used_ones_stay_transitively() -> None:
    files = {"templates/_helpers.tpl": HELPERS, "templates/svc.yaml": 'name: {{ include "c.fullname" . }}\n'}
    out = trim_helpers(files)["templates/_helpers.tpl"]
    assert _defines(out) == ["c.name", "c.fullname"]
    assert "Never used" not in out and "c.labels" not in out
    assert out.startswith("{{/* Chart name. */}}") and out.endswith("{{- end -}}\n")
    assert "\n\n\n" not in out


def test_a_define_named_in_an_environment_file_is_kept() -> None:
    files = {"templates/_helpers.tpl": HELPERS, "templates/svc.yaml": "kind: Service\n"}
    env = 'annotation: "{{ include \\"c.labels\\" . }}"\n'  # values rendered through tpl
    assert _defines(trim_helpers(files, also_read=[env])["templates/_helpers.tpl"]) == ["c.name", "c.labels"]


def test_a_computed_include_keeps_every_define() -> None:
    files = {
        "templates/_helpers.tpl": HELPERS,
        "templates/svc.yaml": 'x: {{ include (printf "c.%s" .k) . }}\n',
    }
    assert trim_helpers(files) == files


def test_actions_that_do_not_nest_leave_the_file_alone() -> None:
    files = {"templates/_helpers.tpl": HELPERS + "{{- end -}}\n", "templates/svc.yaml": "a: 1\n"}
    assert trim_helpers(files) == files


def test_every_define_of_every_generated_chart_is_used() -> None:
    for helpers in sorted((ROOT / "charts").glob("*/templates/_helpers.tpl")):
        others = "".join(p.read_text() for p in helpers.parent.rglob("*") if p.is_file() and p != helpers)
        text = helpers.read_text()
        for name in _defines(text):
            uses = (
                others.count(f'"{name}"') + text.count(f'include "{name}"') + text.count(f'template "{name}"')
            )
            assert uses, f"{helpers.relative_to(ROOT)}: {name} is defined but never used"
