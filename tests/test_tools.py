"""tools: helm and kubeconform are found through explicit path, env, PATH, then the project's .tools/bin."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from chartforge import tools
from chartforge.errors import ToolNotFound
from tests.conftest import require_tool

REAL: dict[str, str] = {}


@pytest.fixture
def bare_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No helm/kubeconform on PATH or in the environment; the current directory is elsewhere."""
    for name in ("helm", "kubeconform"):
        REAL[name] = os.path.realpath(require_tool(name))
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    monkeypatch.delenv("HELM", raising=False)
    monkeypatch.delenv("KUBECONFORM", raising=False)
    monkeypatch.chdir(empty)
    return tmp_path


def _project_with(root: Path, name: str, real: str) -> Path:
    bin_dir = root / ".tools" / "bin"
    bin_dir.mkdir(parents=True)
    os.symlink(real, bin_dir / name)
    return root


def test_helm_found_in_the_projects_tools_dir(bare_path: Path) -> None:
    project = _project_with(bare_path / "project", "helm", REAL["helm"])
    helm = tools.find_helm(root=project)
    assert helm.path == str(project / ".tools" / "bin" / "helm")
    assert helm.version.startswith("v")


def test_helm_not_found_outside_a_project(bare_path: Path) -> None:
    with pytest.raises(ToolNotFound, match="helm not found"):
        tools.find_helm(root=bare_path / "elsewhere")


def test_kubeconform_found_in_the_current_projects_tools_dir(
    bare_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = _project_with(bare_path / "project", "kubeconform", REAL["kubeconform"])
    assert tools.find_kubeconform() is None  # cwd has no .tools
    monkeypatch.chdir(project)
    assert tools.find_kubeconform() == str(Path.cwd() / ".tools" / "bin" / "kubeconform")
