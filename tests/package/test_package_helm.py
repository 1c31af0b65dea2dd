"""The archives are charts helm 3 and helm 4 accept: lint, template, show; the umbrella is self-contained."""

from __future__ import annotations

import tarfile
from pathlib import Path

import pytest
import yaml

from chartforge import proc
from chartforge.package import PackageResult, package_charts
from chartforge.package.archive import read_tgz
from tests.conftest import require_tool
from tests.package import SAMPLE

ENVS = sorted(p for p in (SAMPLE / "values").glob("*.yaml"))
HELMS = ["helm3", "helm4"]


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> PackageResult:
    return package_charts(SAMPLE / "charts", tmp_path_factory.mktemp("dist"))


def test_umbrella_embeds_the_exact_subchart_archives(dist: PackageResult) -> None:
    umbrella = read_tgz(dist.get("stack").path.read_bytes())
    for name in ("db", "cache"):
        sub = dist.get(name)
        assert umbrella[f"stack/charts/{sub.archive_name}"] == sub.path.read_bytes()
    assert not any(n.startswith("stack/charts/") and not n.endswith(".tgz") for n in umbrella)
    lock = yaml.safe_load(umbrella["stack/Chart.lock"])
    assert [(d["name"], d["version"]) for d in lock["dependencies"]] == [("db", "1.0.0"), ("cache", "1.0.0")]
    assert dist.get("stack").dependencies == ("db", "cache")
    assert [c.name for c in dist.charts].index("stack") == 2, "sub-charts come first"


def test_sums_file_lists_every_archive(dist: PackageResult) -> None:
    lines = dist.sums_file.read_text().splitlines()
    by_name = sorted(dist.charts, key=lambda c: c.archive_name)
    assert lines == [f"{c.sha256}  {c.archive_name}" for c in by_name]


@pytest.mark.helm
@pytest.mark.parametrize("helm_name", HELMS)
@pytest.mark.parametrize("values", ENVS, ids=[p.stem for p in ENVS])
def test_helm_lint_and_template_the_umbrella_archive(
    helm_name: str, values: Path, dist: PackageResult
) -> None:
    helm = require_tool(helm_name)
    archive = dist.get("stack").path
    proc.run([helm, "lint", "--strict", archive, "-f", values])
    rendered = proc.run([helm, "template", "rel", archive, "-f", values]).stdout
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    wanted = yaml.safe_load(values.read_text())
    deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
    assert deployments["rel-db"]["spec"]["replicas"] == wanted["db"]["replicaCount"]
    assert ("rel-cache" in deployments) is wanted["cache"]["enabled"]


@pytest.mark.helm
@pytest.mark.parametrize("helm_name", HELMS)
def test_helm_show_and_dependency_list(helm_name: str, dist: PackageResult, tmp_path: Path) -> None:
    helm = require_tool(helm_name)
    for chart in dist.charts:
        shown = yaml.safe_load(proc.run([helm, "show", "chart", chart.path]).stdout)
        assert (shown["name"], shown["version"]) == (chart.name, chart.version)
        proc.run([helm, "lint", "--strict", chart.path])
    with tarfile.open(dist.get("stack").path) as tar:
        tar.extractall(tmp_path, filter="data")
    listing = proc.run([helm, "dependency", "list", tmp_path / "stack"]).stdout
    rows = [line.split() for line in listing.splitlines()[1:] if line.strip()]
    assert {(r[0], r[1], r[-1]) for r in rows} == {("db", "1.0.0", "ok"), ("cache", "1.0.0", "ok")}
