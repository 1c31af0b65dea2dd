"""The umbrella rendered with unselected sub-charts as stubs printing recorded documents (real helm 3 and 4).

The stubbed rendering must be byte for byte the full one, and a ``--changed-since`` run must report
what a ``--no-cache`` full check reports for the selected charts and the umbrella."""

from __future__ import annotations

import importlib.util
import json
import os
import re
from pathlib import Path

import pytest

from chartforge import helm as helmcmd
from chartforge.compile.assemble import assemble
from chartforge.compile.build import build
from chartforge.compile.catalog import Catalog, load_catalog
from chartforge.kube import KubeVersion
from chartforge.renderstub import RenderStubs, split_documents
from chartforge.resultcache import ResultCache
from chartforge.stubcharts import keep
from chartforge.tools import Helm, find_helms
from chartforge.umbrellastub import Stubber
from tests.conftest import ROOT as REPO
from tests.conftest import require_tool, run_cli
from tests.test_selection import git

V1, V2 = KubeVersion.parse("1.31"), KubeVersion.parse("1.34")


def _synthetic(dest: Path, charts: int) -> Path:
    """bench/synthetic.py's catalog: Deployments, Services, PDBs and ServiceAccounts written with the bundled macros."""
    spec = importlib.util.spec_from_file_location("synthetic", REPO / "bench" / "synthetic.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    root: Path = module.make_catalog(dest, charts)
    return root


def _render(catalog: Catalog, helm: Helm, tree: Path, env: str, version: KubeVersion) -> str:
    return helmcmd.template(helm, tree, release=catalog.umbrella, values_files=[catalog.project.values_file(env)],
                            kube_version=version.full, namespace=catalog.umbrella)  # fmt: skip


def test_split_documents_accepts_only_what_helm_template_prints() -> None:
    text = "---\n# Source: u/charts/a/templates/x.yaml\nkind: A\n---\n# Source: u/templates/y.yaml\n# only\n"
    assert split_documents(text) == [
        ("u/charts/a/templates/x.yaml", "kind: A"),
        ("u/templates/y.yaml", "# only"),
    ]
    assert split_documents("kind: A\n") is None, "no Source comment"
    assert split_documents(text.replace("kind: A", "kind: A  ")) is None, "not trimmed as helm trims"
    assert split_documents(text.rstrip("\n")) is None
    assert split_documents("") is None


@pytest.mark.helm
@pytest.mark.parametrize("random", [[], ["mongodb-sharded"]])
def test_stubbed_rendering_of_the_bundled_catalog_is_the_full_rendering(
    tmp_path: Path, random: list[str]
) -> None:
    """Byte for byte, helm 3 and 4, every environment, hooks included (Jobs of redis-cluster, mongodb-sharded).

    The bundled charts generate passwords (``randAlphaNum``): made fixed here so that two renderings can be
    compared, except in ``random``, which is then rendered in full beside the stubs (its documents compared
    by place only)."""
    require_tool("helm")
    catalog = load_catalog(REPO)
    selected = ["postgresql-ha", catalog.umbrella]
    stubbable = {c.name for c in catalog.charts} - {*selected, *random}
    with assemble(catalog) as tree:
        for template in tree.glob("*/templates/*"):
            if template.parent.parent.name not in random:
                template.write_text(re.sub(r"randAlphaNum \d+", '"fixed"', template.read_text()))
        printed: set[str] = set()
        for helm in find_helms():
            (tmp_path / helm.version).mkdir()
            stubs = RenderStubs(
                Stubber(catalog, tree, ResultCache(tmp_path / "cache"), tmp_path / helm.version), helm
            )
            for env in catalog.environments:
                version = max(catalog.kubernetes_versions)
                assert stubs.stubbed(selected, env, (version,)) is None, "nothing recorded yet"
                full = _render(catalog, helm, tree / catalog.umbrella, env, version)
                stubs.record(env, (version,), full)
                stubbed = stubs.stubbed(selected, env, (version,))
                assert stubbed is not None, f"helm {helm.version} {env}: no stub"
                stubbed_charts = {
                    p.name
                    for p in (stubbed / "charts").iterdir()
                    if tmp_path / "stub-charts" in p.resolve().parents
                }
                assert stubbed_charts == stubbable
                printed |= {
                    p.name for p in (stubbed / "charts").iterdir() if (p / "templates").is_dir()
                } & stubbable
                again = _render(catalog, helm, stubbed, env, version)
                if not random:
                    assert again == full, f"helm {helm.version} {env}"
                full_docs, again_docs = split_documents(full), split_documents(again)
                assert full_docs is not None and again_docs is not None
                assert [p for p, _ in again_docs] == [p for p, _ in full_docs]
                for (path, doc), (_, other) in zip(full_docs, again_docs, strict=True):
                    assert doc == other or any(f"/charts/{r}/" in path for r in random), path
        assert printed == stubbable, "each prints its recorded documents where it is enabled"


def _recorded(tmp_path: Path) -> tuple[Catalog, Path, RenderStubs, Helm]:
    root = _synthetic(tmp_path / "project", 3)
    build(root)
    catalog = load_catalog(root)
    tree = tmp_path / "assembled"
    with assemble(catalog) as made:
        os.rename(made, tree)
    tree.mkdir(exist_ok=True)  # assemble removes its directory on exit: keep ours
    helm = find_helms()[-1]
    stubs = RenderStubs(Stubber(catalog, tree, ResultCache(tmp_path / "cache"), tmp_path), helm)
    stubs.record("production", (V1, V2), _render(catalog, helm, tree / "platform", "production", V2))
    return catalog, tree, stubs, helm


@pytest.mark.helm
def test_recorded_documents_are_reused_only_for_the_same_helm_environment_versions_values_and_content(
    tmp_path: Path,
) -> None:
    require_tool("helm")
    catalog, tree, stubs, helm = _recorded(tmp_path)
    selected = ["svc-000", "platform"]
    cache = stubs.stubber.cache

    def stubs_for(
        env: str = "production", versions: tuple[KubeVersion, ...] = (V1, V2), helm_version: str = ""
    ) -> set[str]:
        """The sub-charts a fresh run would stub (the others rendered in full)."""
        scratch = tmp_path / f"scratch-{len(list(tmp_path.glob('scratch-*')))}"
        scratch.mkdir()
        fresh = RenderStubs(
            Stubber(catalog, tree, cache, scratch), Helm(helm.path, helm_version or helm.version)
        )
        stubbed = fresh.stubbed(selected, env, versions)
        return (
            set()
            if stubbed is None
            else {
                p.name
                for p in (stubbed / "charts").iterdir()
                if tmp_path / "stub-charts" in p.resolve().parents
            }
        )

    assert stubs_for() == {"svc-001", "svc-002"}
    assert stubs_for(helm_version="v0.0.1") == set(), "another helm version"
    assert stubs_for("development") == set(), "another environment"
    assert stubs_for(versions=(V2,)) == set(), "other Kubernetes versions"
    values = catalog.project.values_file("production")
    text = values.read_text()
    for old, new, left in [
        ("svc-000:\n", "svc-000:\n  extra: 1\n", {"svc-001", "svc-002"}),  # the selected chart's values
        ("svc-001:\n", "svc-001:\n  extra: 1\n", {"svc-002"}),  # the stub's values: svc-001 in full
        ("global:\n", "global:\n  extra: 1\n", set()),  # global reaches every chart
        ("global:\n", "tags:\n  x: true\nglobal:\n", set()),
    ]:
        values.write_text(text.replace(old, new, 1))
        assert stubs_for() == left, new
    values.write_text(text)
    with (tree / "svc-002/templates/service.yaml").open("a") as out:
        out.write("# changed\n")
    assert stubs_for() == {"svc-001"}, "the stub's content"


@pytest.mark.helm
@pytest.mark.parametrize(
    ("line", "why"),
    [
        ("  annotations:\n    x: {{ randAlphaNum 8 | quote }}\n", "random"),
        ('  annotations:\n    x: {{ now | date "2006" | quote }}\n', "time"),
        ("  annotations:\n    x: {{ uuidv4 | quote }}\n", "random too"),
    ],
)
def test_a_sub_chart_whose_documents_can_change_between_renderings_is_rendered_in_full(
    tmp_path: Path, line: str, why: str
) -> None:
    require_tool("helm")
    catalog, tree, stubs, helm = _recorded(tmp_path)
    sa = tree / "svc-001/templates/serviceaccount.yaml"
    sa.write_text(sa.read_text().replace("metadata:\n", "metadata:\n" + line, 1))
    (tmp_path / "again").mkdir()
    again = RenderStubs(Stubber(catalog, tree, stubs.stubber.cache, tmp_path / "again"), helm)
    full = _render(catalog, helm, tree / "platform", "production", V2)
    again.record("production", (V2,), full)
    stubbed = again.stubbed(["svc-000", "platform"], "production", (V2,))
    assert stubbed is not None, "svc-002 is still a stub"
    assert (stubbed / "charts/svc-001").resolve() == (tree / "svc-001").resolve(), why
    assert (stubbed / "charts/svc-002").resolve() != (tree / "svc-002").resolve()
    if why == "time":  # the same text whenever both renderings run in the same second and process
        assert _render(catalog, helm, stubbed, "production", V2) == full


@pytest.mark.helm
def test_changed_since_renders_stubs_and_reports_what_a_full_check_reports(tmp_path: Path) -> None:
    require_tool("helm")
    require_tool("git")
    root = _synthetic(tmp_path / "project", 3)
    build(root)
    for args in (("init", "-q", "-b", "main"), ("add", "-A"), ("commit", "-qm", "base")):
        git(root, *args)
    log, bin_dir = tmp_path / "calls.log", tmp_path / "bin"
    bin_dir.mkdir()
    for helm in find_helms():
        wrapper = bin_dir / f"helm{helm.major}"
        wrapper.write_text(f'#!/bin/sh\n[ "$1" = template ] && echo "$@" >> {log}\nexec {helm.path} "$@"\n')
        wrapper.chmod(0o755)
    env = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "CHARTFORGE_CACHE": str(tmp_path / "cache"),
        "HELM": "",
    }
    args = ("-C", str(root), "check", "--engine", "builtin", "-o", "json")
    assert run_cli(*args, env=env).returncode == 0  # the base commit's full check records each sub-chart

    sources = root / "sources/charts"
    service = sources / "svc-000/templates/service.yaml.j2"  # the changed sub-chart: an invalid field
    service.write_text(
        service.read_text().replace("  ports:\n", "  ports:\n    - name: bad\n      port: nope\n", 1)
    )
    (
        sources / "platform/templates/pod.yaml.j2"
    ).write_text(  # the umbrella's own: a policy and a schema error
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: own\nspec:\n  containers:\n    - name: c\n"
        "      image: nginx:latest\n      bogus: 1\n"
    )
    build(root)
    log.write_text("")
    changed = run_cli(*args, "--changed-since", "HEAD", env=env)
    assert changed.returncode == 1, changed.stderr
    renders = log.read_text().splitlines()
    assert len(renders) == 2 and all("chartforge-stubs-" in r for r in renders), renders
    full = json.loads(run_cli(*args, "--no-cache", env=env).stdout)
    found = json.loads(changed.stdout)
    kept = ("svc-000", "platform", "")
    assert {d["code"] for d in found["diagnostics"] if d["chart"] == "platform"} >= {"IMAGE-LATEST"}
    assert any(d["chart"] == "svc-000" and d["stage"] == "validate" for d in found["diagnostics"]), found
    assert found["diagnostics"] == [d for d in full["diagnostics"] if d["chart"] in kept], (
        "same findings, same order"
    )
    assert found["resources"] == [r for r in full["resources"] if r["chart"] in kept], (
        "same objects, same places"
    )


def test_assemble_links_the_charts_a_run_reads_only_through_the_umbrella(tmp_path: Path) -> None:
    root = _synthetic(tmp_path / "project", 2)
    build(root)
    catalog = load_catalog(root)
    with assemble(catalog, linked={"svc-001", "platform"}) as tree:
        assert (tree / "svc-001").is_symlink() and (tree / "svc-001").resolve() == (
            root / "charts/svc-001"
        ).resolve()
        assert not (tree / "svc-000").is_symlink(), "a selected chart is copied"
        assert not (tree / "platform").is_symlink(), "the umbrella gets its charts/ directory: always a copy"
        assert (tree / "platform/charts/svc-001/templates/service.yaml").is_file()
    assert (root / "charts/svc-001/Chart.yaml").is_file(), "removing the scratch tree keeps the linked chart"


def test_a_kept_stub_chart_is_written_once_and_a_damaged_one_is_never_used(tmp_path: Path) -> None:
    chart = tmp_path / "chart"
    chart.mkdir()
    (chart / "Chart.yaml").write_text("name: c\n")
    (chart / "values.yaml").write_text("a: 1\n")
    (chart / "secret.yaml").write_text("not copied\n")
    cache = ResultCache(tmp_path / "cache" / "results")
    kept = keep(cache, "k1", chart, lambda stub: (stub / "extra").write_text("x"))
    assert kept == tmp_path / "cache/stub-charts/k1"
    assert sorted(p.name for p in kept.iterdir()) == ["Chart.yaml", "extra", "values.yaml"]
    (chart / "Chart.yaml").write_text("name: changed\n")
    assert keep(cache, "k1", chart) == kept and (kept / "Chart.yaml").read_text() == "name: c\n", (
        "by key, once"
    )
    damaged = tmp_path / "cache/stub-charts/k2"
    damaged.mkdir()
    (damaged / "values.yaml").write_text("a: 1\n")  # no Chart.yaml: not a whole entry
    assert keep(cache, "k2", chart) is None
    assert keep(ResultCache(None), "k3", chart) is None, "--no-cache keeps nothing"
    assert not list((tmp_path / "cache/stub-charts").glob(".*")), "no temporary directory left behind"
