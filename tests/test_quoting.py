"""CF-BUILD-UNQUOTED: which Helm actions may write a values parameter as they are (docs/source-format.md).

Each case is a Helm template against one values schema: the refused ones name the parameter and
the place; the accepted ones are the forms the fix uses (quote, toYaml, toJson, int, enums, …).
"""

from __future__ import annotations

from typing import Any

import pytest

from chartforge.compile.quoting import Checker
from chartforge.compile.yamlchars import BREAKS, pattern_chars

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "s": {"type": "string"},
        "n": {"type": "integer"},
        "f": {"type": "number"},
        "b": {"type": "boolean"},
        "policy": {"type": "string", "enum": ["Always", "Never"]},
        "yn": {"type": "string", "enum": ["yes", "no"]},
        "duration": {"type": "string", "pattern": "^[0-9]+(h|m|s)$"},
        "metric": {"type": "string", "pattern": "^[a-zA-Z_:][a-zA-Z0-9_:]*$"},
        "text": {"type": "string", "pattern": "^[^\r\x85\u2028\u2029]*$"},
        "intOrString": {"type": ["integer", "string"]},
        "obj": {"type": "object", "properties": {"name": {"type": "string"}}},
        "list": {"type": "array", "items": {"type": "string"}},
        "map": {"type": "object", "additionalProperties": {"type": "string"}},
    },
}

ACCEPTED = {
    "quote": "a: {{ .Values.s | quote }}",
    "squote": "a: {{ .Values.s | squote }}",
    "toJson": "a: {{ .Values.intOrString | toJson }}",
    "toYaml": "a:\n  {{- toYaml .Values.obj | nindent 2 }}",
    "integer": "a: {{ .Values.n }}",
    "number": "a: {{ .Values.f }}",
    "boolean": "a: {{ .Values.b }}",
    "int conversion": "a: {{ .Values.s | int }}",
    "float64 conversion": "a: {{ float64 .Values.s }}",
    "safe enum": "a: {{ .Values.policy }}",
    "ternary of literals": 'a: {{ ternary "x" "y" .Values.b }}',
    "tpl then quote": "a: {{ tpl .Values.s . | quote }}",
    "dollar root, quoted": "a: {{ $.Values.s | quote }}",
    "variable, quoted": "{{- $x := .Values.s }}\na: {{ $x | quote }}",
    "with, quoted": "{{- with .Values.s }}\na: {{ . | quote }}\n{{- end }}",
    "range, quoted": "{{- range .Values.list }}\n- {{ . | quote }}\n{{- end }}",
    "range key and value, quoted": "{{- range $k, $v := .Values.map }}\n{{ $k | quote }}: {{ $v | quote }}\n{{- end }}",
    "named template writing YAML with quotes": (
        '{{- define "t.labels" }}\nname: {{ .Values.s | quote }}\n{{- end }}\nmetadata:\n'
        '  labels:\n    {{- include "t.labels" . | nindent 4 }}'
    ),
    "value template, include quoted": '{{- define "t.v" -}}{{ .Values.s }}{{- end -}}\na: {{ include "t.v" . | quote }}',
    "printf of the whole scalar, quoted": 'expr: {{ printf "sum(%s{%s})" .Values.metric .Values.s | quote }}',
    "patterned string in a block scalar": "conf: |\n  timeout = {{ .Values.duration }}",
    "patterned string inside a quoted scalar": 'a: "every {{ .Values.duration }}"',
    "patterned string inside a plain scalar": "a: every {{ .Values.duration }} or so",
    "multi-line text re-indented in a block scalar": "conf: |\n  x\n  {{- .Values.text | nindent 2 }}",
    "printf %q in a block scalar": 'expr: |\n  up{job={{ printf "%q" .Values.s }}}',
    "not a values parameter": "a: {{ .Release.Name }}",
    "control actions only": "{{- if .Values.s }}\na: 1\n{{- end }}",
}

REFUSED = {
    "raw string": ("a: {{ .Values.s }}", "s", "as a YAML value"),
    "dollar root": ("a: {{ $.Values.s }}", "s", "as a YAML value"),
    "context chain": ("a: {{ .context.Values.s }}", "s", "as a YAML value"),
    "variable": ("{{- $x := .Values.s }}\na: {{ $x }}", "s", "as a YAML value"),
    "with": ("{{- with .Values.s }}\na: {{ . }}\n{{- end }}", "s", "as a YAML value"),
    "range item": ("{{- range .Values.list }}\n- {{ . }}\n{{- end }}", "list.[]", "as a YAML value"),
    "range key": (
        "{{- range $k, $v := .Values.map }}\n{{ $k }}: {{ $v | quote }}\n{{- end }}",
        "map",
        "as a YAML value",
    ),
    "index": ('a: {{ index .Values.obj "name" }}', "obj.name", "as a YAML value"),
    "nindent is not quoting": ("a: {{ .Values.s | nindent 2 }}", "s", "as a YAML value"),
    "tpl": ("a: {{ tpl .Values.s . }}", "s", "as a YAML value"),
    "default": ('a: {{ default "x" .Values.s }}', "s", "as a YAML value"),
    "printf": ('a: {{ printf "%s-x" .Values.s }}', "s", "as a YAML value"),
    "b64enc can be all digits": ("a: {{ .Values.s | b64enc }}", "s", "as a YAML value"),
    "object": ("a: {{ .Values.obj }}", "obj", "as a YAML value"),
    "undeclared": ("a: {{ .Values.nope }}", "nope", "as a YAML value"),
    "enum read as a boolean": ("a: {{ .Values.yn }}", "yn", "as a YAML value"),
    "patterned string starting a value": ("a: {{ .Values.duration }}", "duration", "as a YAML value"),
    "int-or-string": ("a: {{ .Values.intOrString }}", "intOrString", "as a YAML value"),
    "inside a quoted scalar": ('a: "x-{{ .Values.s }}"', "s", 'inside a "…" scalar'),
    "inside a plain scalar": ("a: up{ {{- .Values.s }}}", "s", "inside a plain YAML scalar"),
    "metric with a colon inside a plain scalar": ("a: rate({{ .Values.metric }}[5m])", "metric", "plain"),
    "free string in a block scalar": ("conf: |\n  x = {{ .Values.s }}", "s", "inside a block scalar"),
    "multi-line text not re-indented": ("conf: |\n  {{ .Values.text }}", "text", "inside a block scalar"),
    "comment": ("# {{ .Values.s }}\na: 1", "s", "in a comment"),
    "as a key": ("{{ .Values.s }}: 1", "s", "as a YAML value"),
    "value template passes its value to the include": (
        '{{- define "t.v" -}}{{ .Values.s }}{{- end -}}\na: {{ include "t.v" . }}',
        "s",
        "as a YAML value",
    ),
    "named template writing YAML raw": (
        '{{- define "t.labels" }}\nname: {{ .Values.s }}\n{{- end }}\nb: 1',
        "s",
        "as a YAML value",
    ),
}


@pytest.mark.parametrize("text", ACCEPTED.values(), ids=ACCEPTED.keys())
def test_accepted(text: str) -> None:
    assert Checker(SCHEMA).check_files({"t.yaml": text})["t.yaml"] == []


@pytest.mark.parametrize(("text", "param", "place"), REFUSED.values(), ids=REFUSED.keys())
def test_refused(text: str, param: str, place: str) -> None:
    found = Checker(SCHEMA).check_files({"t.yaml": text})["t.yaml"]
    assert [h.param for h in found] == [param]
    assert place in found[0].message
    assert text[found[0].offset :].startswith("{{")


def test_named_templates_resolve_across_files() -> None:
    files = {
        "_helpers.tpl": '{{- define "t.v" -}}{{ .Values.s }}{{- end -}}',
        "a.yaml": 'a: {{ include "t.v" . }}',
    }
    found = Checker(SCHEMA).check_files(files)
    assert found["_helpers.tpl"] == [] and [h.param for h in found["a.yaml"]] == ["s"]


@pytest.mark.parametrize(
    ("pattern", "breaks"),
    [
        ("^[0-9]+(h|m|s)$", set()),
        ("^[a-z]+", BREAKS),  # not anchored at the end: anything may follow
        ("^.*$", BREAKS - {"\n"}),  # Go's "." matches every break but LF
        ("^[a-z\\s]+$", BREAKS),
        ("^[^,]+$", BREAKS),
        ("^a$|b", BREAKS),
        ("^[^\\s/]+$", BREAKS - {"\n", "\r"}),
        ("^[^\r\x85\u2028\u2029]*$", {"\n"}),
        ("[", BREAKS),
    ],
)
def test_pattern_line_breaks(pattern: str, breaks: set[str]) -> None:
    assert pattern_chars(pattern) & BREAKS == breaks
