"""--chart / --changed-since: the changed charts plus their dependents, over a real git repository."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from chartforge.compile.build import build
from chartforge.compile.catalog import load_catalog
from chartforge.errors import UsageError
from chartforge.selection import select
from tests.conftest import CASES, copy_tree, require_tool, run_cli

BASE = CASES / "build" / "base"  # alpha and beta, both sub-charts of the umbrella "suite"
GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}  # fmt: skip


def git(root: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, env={**os.environ, **GIT_ENV}, capture_output=True,
                          text=True, check=True)  # fmt: skip
    return done.stdout


def committed_base(dest: Path) -> Path:
    """The built base project at ``dest``, committed as ``main`` of a new git repository."""
    require_tool("git")
    root = copy_tree(BASE, dest)
    build(root)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    return committed_base(tmp_path / "project")


def changed(root: Path, ref: str = "HEAD") -> tuple[str, ...]:
    selection = select(load_catalog(root), changed_since=ref)
    assert selection is not None
    return selection.charts


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1))


def test_nothing_changed_selects_nothing(repo: Path) -> None:
    (repo / "README.md").write_text("docs only\n")  # outside the sources: no chart
    assert changed(repo) == ()


def test_sub_chart_change_selects_it_and_the_umbrella(repo: Path) -> None:
    (repo / "sources/charts/alpha/templates/configmap.yaml.j2").open("a").write("{# touched #}\n")
    assert changed(repo) == ("alpha", "suite")


def test_committed_and_untracked_changes_count(repo: Path) -> None:
    (repo / "sources/charts/beta/templates/extra.yaml.j2").write_text("{# new, untracked #}\n")
    assert changed(repo) == ("beta", "suite")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "beta")
    assert changed(repo) == ()  # HEAD now has it
    assert changed(repo, "HEAD~1") == ("beta", "suite")


def test_generated_chart_change_selects_that_chart(repo: Path) -> None:
    (repo / "charts/beta/values.yaml").open("a").write("# hand edit\n")
    assert changed(repo) == ("beta", "suite")


def test_environment_file_change_selects_every_chart_it_configures(repo: Path) -> None:
    env = repo / "sources/environments/production.yaml"
    edit(env, "global:\n", "global:\n  extra: 1\n")  # the global section configures every chart
    assert changed(repo) == ("alpha", "beta", "suite")


def test_environment_section_change_selects_that_chart_and_umbrella(repo: Path) -> None:
    env = repo / "sources/environments/production.yaml"
    edit(env, "  replicaCount: 4", "  replicaCount: 5")  # in the beta: section
    assert changed(repo) == ("beta", "suite")


def test_new_environment_file_selects_every_chart(repo: Path) -> None:
    git(repo, "rm", "-q", "--cached", "sources/environments/development.yaml")
    git(repo, "commit", "-qm", "untrack development")  # the file is now new since HEAD
    assert changed(repo) == ("alpha", "beta", "suite")


@pytest.mark.parametrize("path", ["sources/macros/k8s.j2", "sources/global.yaml", "sources/catalog.yaml"])
def test_shared_sources_select_every_chart(repo: Path, path: str) -> None:
    (repo / path).open("a").write("\n# touched\n" if path.endswith(".yaml") else "{# touched #}\n")
    assert changed(repo) == ("alpha", "beta", "suite")


def test_chart_option_adds_dependents_and_accepts_union(repo: Path) -> None:
    catalog = load_catalog(repo)
    only = select(catalog, charts=["beta"])
    assert only is not None and only.charts == ("beta", "suite")
    both = select(catalog, charts=["suite"], changed_since="HEAD")
    assert both is not None and both.charts == ("suite",)
    assert select(catalog) is None


def test_unknown_chart_and_bad_ref_are_usage_errors(repo: Path) -> None:
    with pytest.raises(UsageError, match="did you mean 'alpha'"):
        select(load_catalog(repo), charts=["alhpa"])
    result = run_cli("-C", str(repo), "check", "--chart", "alhpa")
    assert result.returncode == 2 and "did you mean 'alpha'" in result.stderr
    assert "Traceback" not in result.stderr and result.stderr.count("\n") == 1
    result = run_cli("-C", str(repo), "package", "--changed-since", "no-such-ref")
    assert result.returncode == 2 and "--changed-since" in result.stderr and "Traceback" not in result.stderr


def test_build_check_reports_only_selected_drift(repo: Path) -> None:
    (repo / "charts/beta/values.yaml").open("a").write("# hand edit\n")
    assert run_cli("-C", str(repo), "build", "--check", "--chart", "alpha").returncode == 0
    result = run_cli("-C", str(repo), "build", "--check", "--changed-since", "HEAD", "-o", "json")
    assert result.returncode == 1
    assert [c["path"] for c in json.loads(result.stdout)["changes"]] == ["charts/beta/values.yaml"]
    assert run_cli("-C", str(repo), "build", "--chart", "alpha").returncode == 2  # only with --check


def test_package_writes_only_selected_archives(repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    result = run_cli("-C", str(repo), "package", "--chart", "beta", "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in out.glob("*.tgz")) == ["beta-0.1.0.tgz", "suite-1.0.0.tgz"]
    assert len((out / "SHA256SUMS").read_text().splitlines()) == 2


@pytest.mark.helm
def test_check_changed_since_checks_only_selected_charts(repo: Path) -> None:
    require_tool("helm")
    edit(repo / "sources/environments/production.yaml", "  replicaCount: 4", "  replicaCount: 5")  # beta:
    result = run_cli("-C", str(repo), "check", "--changed-since", "HEAD", "--engine", "builtin", "-o", "json")
    data = json.loads(result.stdout)
    assert data["matrix"]["charts"] == ["beta", "suite"]
    assert "charts selected (changed since HEAD): beta, suite" in result.stderr
    # values/ was not rebuilt: drift is reported (values/ is shared by every chart)
    assert {d["code"] for d in data["diagnostics"]} == {"CF-BUILD-DRIFT"}
    build(repo)
    result = run_cli("-C", str(repo), "check", "--changed-since", "HEAD", "--engine", "builtin", "-o", "json",
                     "--junit", str(repo / "r.xml"))  # fmt: skip
    data = json.loads(result.stdout)
    assert result.returncode in (0, 1), result.stderr
    assert {d["chart"] for d in data["diagnostics"]} <= {"beta", "suite"}
    junit = (repo / "r.xml").read_text()
    assert "lint.beta" in junit and "lint.suite" in junit and "lint.alpha" not in junit
