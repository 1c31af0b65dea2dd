"""``chartforge new``: a skeleton per kind, registered in place (comments kept), all or nothing.

The end-to-end test builds and checks the new charts with the real tools (helm 3 + helm 4 lint
--strict, kubeconform on every Kubernetes version of the catalog, policy incl. Pod Security
"restricted") in a copy of the project, as generated and then with every optional object on.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import shutil
from pathlib import Path

import pytest
import yaml

from chartforge.errors import UsageError
from chartforge.scaffold import bundled, new_chart
from chartforge.scaffold import new as scaffold_new
from tests.conftest import ROOT, require_tool, run_cli

ENVS = ("development", "staging", "production")
REGISTERED = ["sources/catalog.yaml", "sources/charts/spotify-ai-agent/chart.yaml"] + [
    f"sources/environments/{e}.yaml" for e in ENVS
]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    shutil.copytree(ROOT / "sources", root / "sources")
    return root


def tree_digest(root: Path) -> dict[str, str]:
    """Every project file's digest, but ``.chartforge/`` (the compiled-template cache loading the
    catalog may fill: gitignored, not the author's files)."""
    return {
        p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.relative_to(root).parts[0] != ".chartforge"
    }


def added_lines(before: str, after: str) -> list[str]:
    diff = difflib.unified_diff(before.splitlines(), after.splitlines(), lineterm="", n=0)
    changed = [line for line in diff if line[:1] in "+-" and not line.startswith(("+++", "---"))]
    assert all(line.startswith("+") for line in changed), f"lines removed or rewritten: {changed}"
    return [line[1:] for line in changed]


@pytest.mark.parametrize("kind", ["stateless", "stateful"])
def test_new_writes_the_skeleton_and_registers_it_keeping_every_other_line(project: Path, kind: str) -> None:
    before = {f: (project / f).read_text() for f in REGISTERED}
    result = run_cli("-C", str(project), "new", "api-gateway", "--kind", kind)
    assert result.returncode == 0, result.stderr
    assert "created sources/charts/api-gateway/chart.yaml" in result.stdout
    chart = project / "sources" / "charts" / "api-gateway"
    main = "deployment.yaml.j2" if kind == "stateless" else "statefulset.yaml.j2"
    assert (chart / "templates" / main).is_file() and (chart / "parameters.yaml.j2").is_file()
    assert "@@NAME@@" not in (chart / "chart.yaml").read_text()
    assert (
        chart.stat().st_mode & 0o777
        == (project / "sources" / "charts" / "redis-cluster").stat().st_mode & 0o777
    )
    assert "api-gateway: a state" in (chart / "chart.yaml").read_text()
    after = {f: (project / f).read_text() for f in REGISTERED}
    assert added_lines(before["sources/catalog.yaml"], after["sources/catalog.yaml"]) == ["  - api-gateway"]
    # before the umbrella, which stays last
    assert after["sources/catalog.yaml"].rstrip().endswith("  - api-gateway\n  - spotify-ai-agent")
    umbrella = "sources/charts/spotify-ai-agent/chart.yaml"
    assert added_lines(before[umbrella], after[umbrella]) == ["  - name: api-gateway"]
    for env in ENVS:
        f = f"sources/environments/{env}.yaml"
        assert added_lines(before[f], after[f]) == [
            f"# api-gateway: added by `chartforge new`; its {env} values go here (charts/api-gateway/README.md).",
            "api-gateway:",
            "  enabled: true",
        ]


def test_a_library_is_registered_in_the_catalog_and_the_umbrella_only(project: Path) -> None:
    envs = {e: (project / f"sources/environments/{e}.yaml").read_text() for e in ENVS}
    result = run_cli("-C", str(project), "new", "shared-lib", "--kind", "library", "-o", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["registered"] == REGISTERED[:2]
    assert data["created"] == [
        "sources/charts/shared-lib/chart.yaml",
        "sources/charts/shared-lib/docs.md.j2",
        "sources/charts/shared-lib/templates/_helpers.tpl.j2",
    ]
    assert all((project / f"sources/environments/{e}.yaml").read_text() == envs[e] for e in ENVS)
    assert run_cli("-C", str(project), "build").returncode == 0
    chart = (project / "charts" / "shared-lib" / "Chart.yaml").read_text()
    assert "\ntype: library\n" in chart
    helpers = (project / "charts" / "shared-lib" / "templates" / "_helpers.tpl").read_text()
    assert 'define "shared-lib.commonAnnotations"' in helpers and 'define "shared-lib.labels"' in helpers
    readme = (project / "charts" / "shared-lib" / "README.md").read_text()
    assert "helm install" not in readme and "  - name: shared-lib\n    version: 0.1.0\n" in readme
    assert "\ntype: application\n" in (project / "charts" / "redis-cluster" / "Chart.yaml").read_text()


def test_an_unknown_chart_type_is_a_source_error_at_its_line(project: Path) -> None:
    chart = project / "sources" / "charts" / "redis-cluster" / "chart.yaml"
    chart.write_text(chart.read_text() + "type: libary\n")
    result = run_cli("-C", str(project), "build")
    line = len(chart.read_text().splitlines())
    assert result.returncode == 1
    assert f"sources/charts/redis-cluster/chart.yaml:{line}: unknown chart type 'libary'" in result.stderr
    assert "did you mean 'library'?" in result.stderr


def test_new_json_output_lists_created_and_registered_files(project: Path) -> None:
    result = run_cli("-C", str(project), "new", "orders", "--kind", "stateful", "-o", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["name"] == "orders" and data["kind"] == "stateful"
    assert sorted(data["registered"]) == sorted(REGISTERED)
    assert "sources/charts/orders/templates/statefulset.yaml.j2" in data["created"]
    assert all((project / f).is_file() for f in data["created"])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["new", "redis-cluster"], "chart 'redis-cluster' exists in sources/catalog.yaml"),
        (["new", "security_hardening"], "invalid chart name 'security_hardening'"),
        (["new", "production-configs"], None),  # a valid new name: control case, must succeed
        (["new", "Api"], "invalid chart name 'Api'"),
        (["new", "-api"], None),  # click reads it as an option: usage error
        (["new", "api-"], "invalid chart name 'api-'"),
        (["new", "a" * 41], "at most 40 characters"),
        (["new", "global"], "'global' is reserved"),
        (["new", "api", "--kind", "daemon"], "'daemon' is not one of"),
    ],
)
def test_refusals_are_one_message_exit_2_and_change_nothing(
    project: Path, args: list[str], expected: str | None
) -> None:
    before = tree_digest(project)
    result = run_cli("-C", str(project), *args)
    if args[1] == "production-configs":
        assert result.returncode == 0, result.stderr
        return
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    if expected is not None:
        assert expected in result.stderr
        assert result.stderr.lower().count("error") == 1, result.stderr
    assert tree_digest(project) == before


def test_an_alias_is_refused(project: Path) -> None:
    # security_hardening is not a valid name anyway; an alias that is one is refused as taken
    chart = project / "sources" / "charts" / "redis-cluster" / "chart.yaml"
    chart.write_text(chart.read_text() + "aliases: [cache]\n" if "aliases" not in chart.read_text()
                     else chart.read_text().replace("aliases: [", "aliases: [cache, "))  # fmt: skip
    with pytest.raises(UsageError, match="'cache' is an alias of chart 'redis-cluster'"):
        new_chart(project, "cache", "stateless")


def test_a_leftover_environment_section_is_refused_with_its_line(project: Path) -> None:
    env = project / "sources" / "environments" / "staging.yaml"
    env.write_text(env.read_text() + "payments:\n  replicaCount: 3\n")
    before = tree_digest(project)
    result = run_cli("-C", str(project), "new", "payments")
    assert result.returncode == 2
    line = env.read_text().splitlines().index("payments:") + 1
    assert (
        f"error: sources/environments/staging.yaml:{line}: 'payments' already has a section here"
        in result.stderr
    )
    assert tree_digest(project) == before


def test_a_failed_write_rolls_everything_back(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Fault injection: the third file replacement fails (as on a full disk); nothing may remain."""
    before = tree_digest(project)
    real, calls = scaffold_new._replace, []

    def failing(path: Path, data: bytes) -> None:
        calls.append(path)
        if len(calls) == 3:
            raise OSError(28, "No space left on device", str(path))
        real(path, data)

    monkeypatch.setattr(scaffold_new, "_replace", failing)
    with pytest.raises(OSError, match="No space left"):
        new_chart(project, "payments", "stateless")
    assert tree_digest(project) == before
    assert not list((project / "sources" / "charts").glob(".new-*"))


@pytest.mark.slow
@pytest.mark.helm
@pytest.mark.kubeconform
def test_each_kind_builds_and_passes_check_in_every_environment(project: Path) -> None:
    require_tool("helm")
    require_tool("kubeconform")
    for name, kind in (("api-gateway", "stateless"), ("ledger", "stateful"), ("shared-lib", "library")):
        assert run_cli("-C", str(project), "new", name, "--kind", kind).returncode == 0
    build = run_cli("-C", str(project), "build")
    assert build.returncode == 0, build.stderr
    new_charts = ["--chart", "api-gateway", "--chart", "ledger", "--chart", "shared-lib"]
    check = run_cli("-C", str(project), "check", *new_charts)
    assert check.returncode == 0, check.stdout + check.stderr
    summary = check.stdout + check.stderr
    assert "3 environment(s) × 7 Kubernetes version(s)" in summary and " 0 errors, 0 warnings" in summary
    # every optional object switched on (Ingress with TLS, HPA, ServiceMonitor, extra egress)
    prod = project / "sources" / "environments" / "production.yaml"
    text = (
        prod.read_text()
        .replace(
            "api-gateway:\n  enabled: true\n",
            "api-gateway:\n  enabled: true\n"
            "  ingress: {enabled: true, className: nginx, host: api.example.com, tls: {enabled: true}}\n"
            "  autoscaling: {enabled: true}\n  serviceMonitor: {enabled: true}\n"
            "  networkPolicy: {extraEgress: [{to: [{ipBlock: {cidr: 10.0.0.0/8}}], ports: [{protocol: TCP, port: 443}]}]}\n",
        )
        .replace(
            "ledger:\n  enabled: true\n",
            "ledger:\n  enabled: true\n  replicaCount: 3\n  serviceMonitor: {enabled: true}\n",
        )
    )
    prod.write_text(text)
    assert run_cli("-C", str(project), "build").returncode == 0
    rendered = run_cli("-C", str(project), "render", "api-gateway", "--set", "environment=production")
    check = run_cli(
        "-C", str(project), "check", "--chart", "api-gateway", "--chart", "ledger", "-e", "production"
    )
    assert check.returncode == 0, check.stdout + check.stderr
    manifests = (project / "charts").rglob("*.yaml")
    assert manifests and rendered.returncode == 0, rendered.stderr
    for kind in (
        "Ingress",
        "HorizontalPodAutoscaler",
        "ServiceMonitor",
        "PodDisruptionBudget",
        "NetworkPolicy",
    ):
        assert f"kind: {kind}" in rendered.stdout, kind


BUNDLED_MACROS = ("blocks.j2", "k8s.j2", "objects.j2", "params.j2")


def test_the_packaged_macros_are_the_bundled_catalogs() -> None:
    """scaffold/bundled/ (package data: what a fresh project gets) is a copy of the bundled sources/."""
    for name in BUNDLED_MACROS:
        assert (bundled.MACROS / name).read_bytes() == (ROOT / "sources" / "macros" / name).read_bytes(), (
            f"re-copy: cp sources/macros/{name} generator/chartforge/scaffold/bundled/macros/"
        )
    ours = yaml.safe_load((ROOT / "sources" / "global.yaml").read_text())["monitoring"]
    assert yaml.safe_load(bundled.MONITORING.read_text()) == {"monitoring": ours}


def _fresh_project(tmp_path: Path) -> Path:
    """The small fixture project with no sources/macros/ at all (its charts inline their labels)."""
    root = tmp_path / "fresh"
    shutil.copytree(ROOT / "tests" / "cases" / "build" / "base", root)
    shutil.rmtree(root / "sources" / "macros")
    for chart in ("alpha", "beta"):
        template = root / "sources" / "charts" / chart / "templates" / "configmap.yaml.j2"
        lines = template.read_text().splitlines(keepends=True)
        kept = [line for line in lines if "k8s" not in line]
        template.write_text("".join(kept).replace("  labels:\n", "  labels:\n    app: [[ chart.name ]]\n"))
    return root


@pytest.mark.helm
def test_new_in_a_fresh_project_installs_the_bundled_macros(tmp_path: Path) -> None:
    require_tool("helm")
    root = _fresh_project(tmp_path)
    assert run_cli("-C", str(root), "build").returncode == 0
    result = run_cli("-C", str(root), "new", "gamma", "--kind", "stateless")
    assert result.returncode == 0, result.stderr
    for name in BUNDLED_MACROS:
        assert (
            f"installed sources/macros/{name} (bundled with chartforge; the skeleton uses it)\n"
            in result.stdout
        )
        assert (root / "sources" / "macros" / name).read_bytes() == (
            ROOT / "sources" / "macros" / name
        ).read_bytes()
    build = run_cli("-C", str(root), "build")
    assert build.returncode == 0, build.stderr
    check = run_cli("-C", str(root), "check", "--chart", "gamma", "-e", "development", "-k", "1.33",
                    "--engine", "builtin")  # fmt: skip
    assert check.returncode == 0, check.stdout + check.stderr


def test_new_with_the_bundled_macros_installs_nothing(project: Path) -> None:
    result = run_cli("-C", str(project), "new", "gamma", "-o", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["installed"] == []


def test_a_projects_own_macros_are_kept_and_a_skeleton_they_do_not_fit_is_refused(tmp_path: Path) -> None:
    """The fixture project's own macros/k8s.j2 has no ``helpers``: refused, naming the file and the fix."""
    root = tmp_path / "own"
    shutil.copytree(ROOT / "tests" / "cases" / "build" / "base", root)
    before = tree_digest(root)
    result = run_cli("-C", str(root), "new", "gamma")
    assert result.returncode == 1, result.stderr
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("error: sources/charts/gamma/templates/_helpers.tpl.j2:4: ")
    assert "this project's sources/macros/k8s.j2 differs; nothing was changed" in result.stderr
    assert f"add the macros it calls from {bundled.MACROS}/ to yours" in result.stderr
    assert tree_digest(root) == before  # neither the missing macros nor the chart were left behind
