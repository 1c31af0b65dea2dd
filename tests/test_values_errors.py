"""Values errors of a build: all at once, by file and line, in plain words, as strict as helm.

Each folder of tests/cases/build/negative-multi holds files laid over tests/cases/build/base and
``expected.txt``: the exact stderr of ``chartforge build`` (one ``error:`` line per problem).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import jsonschema
import pytest

from chartforge.compile.build import existing_files
from chartforge.compile.schemaerrors import FORMATS, plain_message
from chartforge.tools import find_helms
from tests.conftest import CASES, ROOT, apply_case, copy_tree, run_cli

MULTI = sorted(p for p in (CASES / "build" / "negative-multi").iterdir() if p.is_dir())
HOSTNAME_CASE = CASES / "build" / "negative" / "hostname-format-in-environment"


@pytest.fixture
def built_base(tmp_path: Path) -> Path:
    root = copy_tree(CASES / "build" / "base", tmp_path / "project")
    assert run_cli("-C", str(root), "build").returncode == 0
    return root


@pytest.mark.parametrize("case", MULTI, ids=[p.name for p in MULTI])
def test_every_values_error_at_once(case: Path, built_base: Path) -> None:
    before = existing_files(built_base)
    apply_case(case, built_base)
    result = run_cli("-C", str(built_base), "build")
    assert result.returncode == 1, result.stderr
    assert result.stderr == (case / "expected.txt").read_text()
    assert existing_files(built_base) == before


@pytest.mark.parametrize(
    ("schema", "value", "message"),
    [
        ({"not": {"enum": ["latest"]}}, "latest", "must not be 'latest'"),
        ({"enum": ["a", "b"]}, "c", "must be one of 'a', 'b' (got 'c')"),
        ({"type": "integer"}, "x", "must be an integer (got 'x')"),
        ({"type": ["string", "null"]}, 3, "must be a string or null (got 3)"),
        ({"pattern": "^v[0-9]+$"}, "x1", "must match the pattern '^v[0-9]+$' (got 'x1')"),
        ({"minimum": 1}, 0, "must be at least 1 (got 0)"),
        ({"maximum": 9}, 10, "must be at most 9 (got 10)"),
        ({"maxLength": 3}, "abcd", "must be at most 3 characters long (got 'abcd')"),
        ({"format": "hostname"}, "a_b.example", "must be a valid hostname (got 'a_b.example')"),
        ({"format": "uri"}, "no scheme", "must be a valid uri (got 'no scheme')"),
    ],
)
def test_plain_messages(schema: dict[str, object], value: object, message: str) -> None:
    errors = list(jsonschema.Draft7Validator(schema, format_checker=FORMATS).iter_errors(value))
    assert [plain_message(e) for e in errors] == [message]


@pytest.mark.parametrize(
    "good", ["db.example.com", "a", "x-1.internal.", "https://example.com/x", "s3://bucket"]
)
def test_formats_accept_valid_values(good: str) -> None:
    fmt = "uri" if "://" in good else "hostname"
    assert FORMATS.conforms(good, fmt)


def test_build_rejects_what_helm_rejects(built_base: Path) -> None:
    """The format the build checks is the one helm 3 and helm 4 enforce at install (real binaries)."""
    apply_case(HOSTNAME_CASE, built_base)
    (built_base / "sources/environments/production.yaml").write_text(
        "global:\n  environment: production\nalpha:\n  replicaCount: 3\n"
    )
    assert run_cli("-C", str(built_base), "build").returncode == 0
    helms = find_helms(root=ROOT)
    assert len(helms) >= 2, "helm 3 and helm 4 are both needed (ci/install.sh)"
    for helm in helms:
        for value, accepted in (("alpha-api.example.com", True), ("alpha_api.example.com", False)):
            done = subprocess.run(
                [helm.path, "template", "x", str(built_base / "charts/alpha"), "--set", f"host={value}",
                 "--kube-version", "1.33"],
                capture_output=True, text=True, check=False,
            )  # fmt: skip
            assert (done.returncode == 0) is accepted, (helm.version, value, done.stderr)
    apply_case(HOSTNAME_CASE, built_base)
    result = run_cli("-C", str(built_base), "build")
    assert result.returncode == 1
    assert "sources/environments/production.yaml:5: alpha.host: must be a valid hostname" in result.stderr
    assert "charts/alpha/values.yaml" not in result.stderr
