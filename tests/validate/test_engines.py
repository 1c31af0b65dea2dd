"""Engine internals: kubeconform's message tree, packing, choosing an engine, tool failures."""

from __future__ import annotations

from pathlib import Path

import pytest

from chartforge import tools
from chartforge.errors import ToolError, ToolNotFound, UsageError
from chartforge.validate import FieldError, parse_manifest_text, validate_resources
from chartforge.validate.builtin import BuiltinEngine, is_duration
from chartforge.validate.engine import make_engine
from chartforge.validate.kubeconform import KubeconformEngine, pack, parse_message
from tests.validate.conftest import CRD_DIR

KUBECONFORM_MSG = (
    "problem validating schema. Check JSON formatting: jsonschema validation failed with "
    "'file:///c/v1.34.0-standalone-strict/deployment-apps-v1.json#' - at '/metadata/labels/x': got number,"
    " want null or string - at '/spec': validation failed   - at '/spec': missing property 'selector'   "
    "- at '/spec/strategy/rollingUpdate/maxSurge': oneOf failed, none matched     - at "
    "'/spec/strategy/rollingUpdate/maxSurge': got boolean, want null or string     - at "
    "'/spec/strategy/rollingUpdate/maxSurge': got boolean, want null or integer   - at "
    "'/spec/template/spec/containers/0': validation failed     - at '/spec/template/spec/containers/0': "
    "additional properties 'bar', 'foo' not allowed"
)


def test_kubeconform_message_tree_is_normalised() -> None:
    assert [e.path for e in parse_message(KUBECONFORM_MSG)] == [
        "/metadata/labels/x",
        "/spec/selector",
        "/spec/strategy/rollingUpdate/maxSurge",
        "/spec/template/spec/containers/0/bar",
        "/spec/template/spec/containers/0/foo",
    ]
    assert FieldError("/spec/selector", "missing required field 'selector'") in parse_message(KUBECONFORM_MSG)


def test_unparsable_kubeconform_message_is_kept_whole() -> None:
    assert parse_message("error unmarshalling resource: boom") == (
        FieldError("", "error unmarshalling resource: boom"),
    )


@pytest.mark.parametrize(
    ("value", "ok"),
    [("30s", True), ("1h30m", True), ("-1.5h", True), ("0", True), ("PT30S", True), ("P1W", True),
     ("P1Y2M3DT4H", True), ("PT", False), ("P", False), ("1d", False), ("", False), ("soon", False)],
)  # fmt: skip
def test_duration_format_matches_kubeconform(value: str, ok: bool) -> None:
    assert is_duration(value) is ok


def test_pack_keeps_kubeconform_signatures_unique_per_file() -> None:
    text = "".join(
        f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {n}, namespace: {ns}}}\n"
        for n, ns in [("a", "x"), ("a", "y"), ("b", "x"), ("a", "z")]
    )
    text += "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {generateName: g-}\n"
    resources = parse_manifest_text(text)
    files = pack(resources, 2)
    assert sorted(i for f in files for i in f) == list(range(5))
    for members in files:
        names = [(resources[i].kind, resources[i].name) for i in members]
        assert len(names) == len(set(names))
    assert [4] in files  # generateName: a file of its own


@pytest.mark.kubeconform
def test_kubeconform_maps_same_name_in_different_namespaces(kubeconform_bin: str, schema_cache: Path) -> None:
    text = "".join(
        f"---\napiVersion: v1\nkind: ConfigMap\nmetadata: {{name: same, namespace: {ns}}}\ndata: {{k: {v}}}\n"
        for ns, v in [("a", '"ok"'), ("b", "1"), ("c", '"ok"'), ("d", "true")]
    )
    resources = parse_manifest_text(text)
    for engine in (KubeconformEngine(kubeconform_bin, workers=1), BuiltinEngine()):
        report = validate_resources(
            resources, ["1.34"], engine=engine, crd_dir=CRD_DIR, cache_root=schema_cache
        )
        assert [(r.resource.namespace, r.status) for r in report.results] == [
            ("a", "valid"), ("b", "invalid"), ("c", "valid"), ("d", "invalid"),
        ], engine.name  # fmt: skip


def test_auto_engine_falls_back_to_builtin(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tools, "find_kubeconform", lambda explicit=None: None)
    assert make_engine("auto").name == "builtin"
    with pytest.raises(ToolNotFound, match="kubeconform not found"):
        make_engine("kubeconform")


@pytest.mark.kubeconform
def test_auto_engine_prefers_kubeconform(kubeconform_bin: str) -> None:
    engine = make_engine("auto")
    assert isinstance(engine, KubeconformEngine) and engine.name == "kubeconform"


@pytest.mark.kubeconform
def test_kubeconform_crash_is_a_tool_error_with_its_stderr(
    kubeconform_bin: str, schema_cache: Path, tmp_path: Path
) -> None:
    # kubeconform 0.7 panics on a non-string value for a schema "format: duration" without "type"
    (tmp_path / "example.com").mkdir()
    (tmp_path / "example.com" / "thing_v1.json").write_text('{"properties": {"d": {"format": "duration"}}}')
    resources = parse_manifest_text("apiVersion: example.com/v1\nkind: Thing\nmetadata: {name: t}\nd: 30\n")
    with pytest.raises(ToolError, match="printed no JSON report") as caught:
        validate_resources(resources, ["1.34"], engine=KubeconformEngine(kubeconform_bin), crd_dir=tmp_path,
                           cache_root=schema_cache)  # fmt: skip
    assert "panic" in caught.value.stderr
    builtin = validate_resources(
        resources, ["1.34"], engine="builtin", crd_dir=tmp_path, cache_root=schema_cache
    )
    assert builtin.results[0].status == "valid"  # a number has no format to check


def test_unknown_engine_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="unknown validation engine 'nope'") as info:
        make_engine("nope")  # type: ignore[arg-type]
    assert info.value.exit_code == 2
