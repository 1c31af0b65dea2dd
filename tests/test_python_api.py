"""The Python API and ``chartforge render``'s helm-like options (issue 14, "What Helm users expect").

``chartforge.render_template`` is discoverable (``dir``, ``__all__``), typed for mypy through the
lazy package attribute, works from any directory of a project; ``render`` takes ``--env``,
``-f FILE`` (repeatable) and ``--namespace`` and layers values as ``helm template`` does.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import chartforge
from chartforge.errors import UsageError, UserError
from tests.conftest import CASES, ROOT, copy_tree, require_tool, run_cli

BASE = CASES / "build" / "base"
PROBE = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: probe
  namespace: {{ .Release.Namespace }}
data:
  environment: {{ .Values.global.environment | quote }}
  replicas: {{ .Values.replicaCount | quote }}
  tag: {{ .Values.image.tag | quote }}
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = copy_tree(BASE, tmp_path / "project")
    (root / "sources/charts/alpha/templates/probe.yaml.j2").write_text(PROBE)
    return root


def _probe(manifests: str) -> dict[str, object]:
    found = [d for d in yaml.safe_load_all(manifests) if d and d["metadata"]["name"] == "probe"]
    assert len(found) == 1
    return dict(found[0]["metadata"]) | dict(found[0]["data"])


def test_public_api_is_discoverable() -> None:
    public = [n for n in dir(chartforge) if not n.startswith("_")]
    assert public == ["build", "load_catalog", "render_template"]
    assert set(chartforge.__all__) == {"__version__", *public}
    assert chartforge.render_template.__doc__ and "values_files" in chartforge.render_template.__doc__
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        chartforge.nope  # noqa: B018


def test_mypy_sees_the_real_signature(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("import chartforge\n\nx: int = chartforge.render_template('alpha', {}, namespace='n')\n")
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", "--follow-imports=silent", "--ignore-missing-imports", str(probe)],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert (
        'Incompatible types in assignment (expression has type "str", variable has type "int")' in done.stdout
    )


@pytest.mark.helm
def test_render_layers_env_then_files_then_sets_and_takes_a_namespace(project: Path, tmp_path: Path) -> None:
    require_tool("helm")
    first, second = tmp_path / "a.yaml", tmp_path / "b.yaml"
    first.write_text("replicaCount: 7\nimage:\n  tag: '1.0'\n")
    second.write_text("image:\n  tag: '2.0'\n")
    args = [
        "-C",
        str(project),
        "render",
        "alpha",
        "--env",
        "development",
        "-f",
        str(first),
        "-f",
        str(second),
    ]
    done = run_cli(*args, "--namespace", "databases")
    assert done.returncode == 0, done.stderr
    assert _probe(done.stdout) == {"name": "probe", "namespace": "databases", "environment": "development",
                                   "replicas": "7", "tag": "2.0"}  # fmt: skip
    over = run_cli(*args, "--set", "replicaCount=2", "-n", "ns2")
    assert _probe(over.stdout)["replicas"] == "2" and _probe(over.stdout)["namespace"] == "ns2"
    default = _probe(run_cli("-C", str(project), "render", "alpha").stdout)
    assert (default["environment"], default["replicas"], default["namespace"]) == (
        "production",
        "6",
        "default",
    )


def test_render_refuses_unknown_env_and_missing_values_file(project: Path) -> None:
    bad_env = run_cli("-C", str(project), "render", "alpha", "--env", "prodution")
    assert bad_env.returncode == 2 and "did you mean 'production'?" in bad_env.stderr
    missing = run_cli("-C", str(project), "render", "alpha", "-f", "nope.yaml")
    assert missing.returncode == 1 and "nope.yaml: values file not found" in missing.stderr
    clash = run_cli(
        "-C", str(project), "render", "alpha", "--env", "development", "--set", "environment=production"
    )
    assert clash.returncode == 2 and "disagree" in clash.stderr


@pytest.mark.helm
def test_render_template_works_from_any_directory_of_the_project(
    project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    require_tool("helm")
    monkeypatch.delenv("ENVIRONMENT", raising=False)
    monkeypatch.chdir(project / "sources" / "charts" / "beta")
    probe = _probe(
        chartforge.render_template("alpha", {"node_count": 4}, environment="development", namespace="x")
    )
    assert (probe["replicas"], probe["environment"], probe["namespace"]) == ("4", "development", "x")
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    monkeypatch.chdir(outside)
    with pytest.raises(UserError, match="no chartforge project here or in any parent folder"):
        chartforge.render_template("alpha")
    assert _probe(chartforge.render_template("alpha", root=Path("..") / "project"))["replicas"] == "6"
    with pytest.raises(UsageError, match="unknown environment 'qa'"):
        chartforge.render_template("alpha", root=project, environment="qa")
