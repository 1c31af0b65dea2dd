"""``release``: build → check → package → publish on the compiler's base project."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from chartforge.errors import UserError
from chartforge.pipeline import release
from chartforge.publish.helmreg import select_helm
from chartforge.publish.oci import OciClient
from chartforge.publish.retry import RetryPolicy
from tests.conftest import CASES, copy_tree, run_cli
from tests.publish.conftest import LocalRegistry

BASE = CASES / "build" / "base"
FAST = RetryPolicy(attempts=3, initial_delay=0.1, max_delay=0.5)
HAS_CHECK = importlib.util.find_spec("chartforge.check") is not None


@pytest.fixture
def base_project(tmp_path: Path) -> Path:
    if not (BASE / "sources" / "catalog.yaml").is_file():
        pytest.skip("the compiler's base project is not there")
    return copy_tree(BASE, tmp_path / "project")


@pytest.mark.registry
@pytest.mark.helm
def test_release_builds_checks_packages_and_publishes(
    plain_registry: LocalRegistry, base_project: Path
) -> None:
    target = plain_registry.target()
    stages: list[str] = []
    result = release(
        base_project, target, select_helm(target), retry=FAST, check=HAS_CHECK, on_stage=stages.append
    )
    assert (
        stages == ["build", "compat", "check", "package", "publish"]
        if HAS_CHECK
        else ["build", "compat", "package", "publish"]
    )
    assert result.build.written and (base_project / "dist" / "SHA256SUMS").is_file()
    names = [c.name for c in result.publish.charts]
    assert names[-1] == "suite" and set(names) == {"alpha", "beta", "suite"}
    assert {c.status for c in result.publish.charts} == {"pushed"}
    again = release(base_project, target, select_helm(target), retry=FAST, check=False, frozen=True)
    assert not again.build.written and {c.status for c in again.publish.charts} == {"unchanged"}
    readme = base_project / "charts" / "alpha" / "README.md"
    readme.write_text(readme.read_text() + "hand edit\n")
    with pytest.raises(UserError, match=r"differ from sources/ in 1 file\(s\): charts/alpha/README.md"):
        release(base_project, target, select_helm(target), retry=FAST, check=False, frozen=True)


@pytest.mark.registry
@pytest.mark.helm
def test_release_cli(plain_registry: LocalRegistry, base_project: Path) -> None:
    target = plain_registry.target()
    args = ["-C", str(base_project), "release", *plain_registry.cli_args(target), "--skip-check"]
    done = run_cli(*args)
    assert done.returncode == 0, done.stderr
    assert "== build\n== compat\n== package\n== publish\n" in done.stderr
    assert "3 pushed, 0 unchanged" in done.stdout


@pytest.mark.registry
@pytest.mark.helm
@pytest.mark.skipif(not HAS_CHECK, reason="no chartforge.check in this installation")
def test_check_errors_stop_the_release_before_packaging(
    plain_registry: LocalRegistry, base_project: Path
) -> None:
    template = base_project / "sources/charts/alpha/templates/configmap.yaml.j2"
    template.write_text(template.read_text() + "bogusField: true\n")  # not a ConfigMap field
    target = plain_registry.target()
    with pytest.raises(UserError, match=r"check found \d+ error\(s\); nothing was packaged or published"):
        release(base_project, target, select_helm(target), retry=FAST)
    assert not (base_project / "dist").exists()
    assert OciClient(target).tags(target.repository("alpha")) == []
