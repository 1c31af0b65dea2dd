"""Parsing manifests once into Manifest records: documents, lines, helm sources, bad input."""

from __future__ import annotations

import io
import random
import re
from pathlib import Path

import pytest

from chartforge.errors import UserError
from chartforge.manifests import load_manifests, parse_manifest_text, source_comment, split_documents

HELM_OUTPUT = """\
---
# Source: api/templates/service.yaml
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: prod
---
# Source: api/templates/empty.yaml
---
# Source: api/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  generateName: api-
"""


def test_documents_keep_index_line_and_helm_source() -> None:
    service, deployment = parse_manifest_text(HELM_OUTPUT, "<helm template api>")
    assert (service.document_index, service.line, service.kind, service.name, service.namespace) == (
        0, 1, "Service", "api", "prod",
    )  # fmt: skip
    assert service.source == "api/templates/service.yaml"
    assert service.location == "api/templates/service.yaml"
    assert (deployment.document_index, deployment.line, deployment.name) == (2, 10, "api-")
    assert deployment.source == "api/templates/deployment.yaml"
    assert service.raw.lstrip().startswith("# Source:")


def test_leading_comment_and_end_marker_do_not_make_documents() -> None:
    text = "# header only\n---\na: 1\n...\n# trailer\n---\nb: 2\n"
    chunks = list(split_documents(text))
    assert [(c.index, c.line) for c in chunks] == [(0, 2), (1, 6)]


def test_yaml_error_is_a_record_with_its_line_not_a_crash() -> None:
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: [unclosed\n---\n"
    text += "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n"
    first, broken, last = parse_manifest_text(text, "f.yaml")
    assert first.ok and last.ok and last.name == "c"
    assert not broken.ok and broken.error is not None and broken.error.startswith("invalid YAML")
    assert broken.error_line == 6  # where the flow sequence that never closes begins


def test_duplicate_key_is_an_error_like_kubeconform_strict() -> None:
    (res,) = parse_manifest_text("apiVersion: v1\nkind: ConfigMap\ndata:\n  a: '1'\n  a: '2'\n")
    assert res.error is not None and "duplicate key 'a'" in res.error
    assert res.error_line == 5


def test_merge_keys_may_be_overridden() -> None:
    (res,) = parse_manifest_text("apiVersion: v1\nkind: X\nbase: &b {a: 1}\nm:\n  <<: *b\n  a: 2\n")
    assert res.ok and res.obj["m"] == {"a": 2}


@pytest.mark.parametrize(
    ("scalar", "value"),
    [("y", True), ("n", False), ("on", True), ("2024-01-01", "2024-01-01"), ("1e3", 1000.0),
     ("0o17", 15), ("1:30", "1:30"), ("'y'", "y"), ("1_000", 1000)],
)  # fmt: skip
def test_scalars_resolve_like_go_yaml(scalar: str, value: object) -> None:
    (res,) = parse_manifest_text(f"apiVersion: v1\nkind: X\nv: {scalar}\n")
    assert res.obj["v"] == value and type(res.obj["v"]) is type(value)


def test_non_string_keys_become_strings() -> None:
    (res,) = parse_manifest_text("apiVersion: v1\nkind: X\ndata: {1: a, true: b, null: c}\n")
    assert res.obj["data"] == {"1": "a", "true": "b", "null": "c"}


def test_list_items_are_resources_of_their_own() -> None:
    text = (
        "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- 3\n"
    )
    item, bad = parse_manifest_text(text, "l.yaml")
    assert (item.kind, item.name, item.item_index, item.label) == ("ConfigMap", "a", 0, "l.yaml#0.0")
    assert bad.error == "List item is not a mapping (got int)"


@pytest.mark.parametrize(
    ("text", "error"),
    [("- a\n- b\n", "document is not a mapping (got list)"),
     ("apiVersion: v1\nmetadata: {name: a}\n", "missing or empty kind"),
     ("kind: ConfigMap\n", "missing or empty apiVersion"),
     ("{}\n", "missing or empty kind and apiVersion")],
)  # fmt: skip
def test_documents_that_are_not_objects(text: str, error: str) -> None:
    (res,) = parse_manifest_text(text)
    assert res.error == error


def test_empty_and_null_documents_are_skipped() -> None:
    assert parse_manifest_text("---\n---\n~\n---\n# only a comment\n") == []


def test_load_manifests_files_directories_and_stdin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.yml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n")
    (tmp_path / "a.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    (tmp_path / "notes.txt").write_text("not a manifest")
    monkeypatch.setattr("sys.stdin", io.StringIO("apiVersion: v1\nkind: Secret\nmetadata: {name: s}\n"))
    resources = load_manifests([tmp_path, Path("-")])
    assert [(r.file, r.name) for r in resources] == [
        (str(tmp_path / "a.yaml"), "a"), (str(tmp_path / "sub" / "b.yml"), "b"), ("<stdin>", "s"),
    ]  # fmt: skip


def test_missing_path_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no such file or directory"):
        load_manifests([tmp_path / "nope.yaml"])


def test_undecodable_file_is_a_record(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_bytes(b"\xff\xfe\x00binary")
    (res,) = load_manifests([bad])
    assert res.error is not None and res.error.startswith("cannot read file")


def test_explicit_tags_and_aliases() -> None:
    text = "apiVersion: v1\nkind: X\nquoted: !!str 123\nfloat: !!float 1\nanchor: &a {x: [1, 2]}\nalias: *a\n"
    (res,) = parse_manifest_text(text)
    assert res.ok, res.error
    assert res.obj["quoted"] == "123" and res.obj["float"] == 1.0
    assert res.obj["alias"] == {"x": [1, 2]}


def test_recursive_alias_is_an_error_not_a_crash() -> None:
    (res,) = parse_manifest_text("apiVersion: v1\nkind: X\nloop: &l [*l]\n")
    assert res.error == "invalid YAML: recursive alias: an anchor that contains itself cannot become JSON"


def test_fast_loader_matches_pyyaml_on_plain_documents() -> None:
    import yaml

    text = "a: {b: [1, 2.5, 'x', null, true]}\nc: |\n  line\n  two\nd: 'quoted: yes'\n"
    assert parse_manifest_text("apiVersion: v1\nkind: X\n" + text)[0].obj == {
        "apiVersion": "v1", "kind": "X", **yaml.safe_load(text),
    }  # fmt: skip


def test_the_source_comment_is_read_as_the_multiline_regex_reads_it() -> None:
    """``source_comment`` replaced ``^# Source: (\\S.*?)\\s*$`` (multi-line): the same on every input
    made of the pieces where the two could part (line starts, blanks of every kind, line breaks
    that are not ``\\n``)."""
    regex = re.compile(r"^# Source: (\S.*?)\s*$", re.MULTILINE)
    pieces = ["# Source: ", "# Source:", "\n", " ", "\t", "\r", "\f", "\x0b", "\x85", "\u2028", "\xa0",
              "a", "b/c.yaml", "#", "x# Source: y"]  # fmt: skip
    rng = random.Random(15)
    for _ in range(100_000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        found = regex.search(text)
        assert source_comment(text) == (found.group(1) if found else ""), repr(text)
