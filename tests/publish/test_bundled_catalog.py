"""The bundled catalog (charts/ and values/ of this repository), packaged and published for real.

Packaging must not change a chart: the umbrella archive renders exactly like the directory
tree ``check`` lints. From the registry, the umbrella is pulled, shown, templated and
installed (client dry run) with every ``values/<env>.yaml``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from chartforge import proc
from chartforge.compile.assemble import assemble
from chartforge.compile.catalog import load_catalog
from chartforge.package import PackageResult, package_charts
from chartforge.publish.diff import diff_charts
from chartforge.publish.helmreg import HelmRegistry, select_helm
from chartforge.publish.publish import publish
from chartforge.publish.retry import RetryPolicy
from chartforge.tools import find_helms
from tests.conftest import ROOT
from tests.publish.conftest import LocalRegistry

pytestmark = [pytest.mark.slow, pytest.mark.helm]
FAST = RetryPolicy(attempts=3, initial_delay=0.2, max_delay=1.0)
ENV_FILES = sorted((ROOT / "values").glob("*.yaml"))


@pytest.fixture(scope="module")
def bundled(tmp_path_factory: pytest.TempPathFactory) -> PackageResult:
    if not (ROOT / "sources" / "catalog.yaml").is_file() or not ENV_FILES:
        pytest.skip("the bundled catalog is not built (run chartforge build)")
    return package_charts(ROOT / "charts", tmp_path_factory.mktemp("bundled-dist"))


def _comparable(rendered: str) -> list[object]:
    """Manifests with the values templates randomise per render (generated passwords) masked."""
    docs = [d for d in yaml.safe_load_all(rendered) if d]
    for doc in docs:
        if doc.get("kind") == "Secret":
            for key in ("data", "stringData"):
                doc[key] = {k: "<random>" for k in doc.get(key) or {}}
        for meta in (
            doc.get("metadata") or {},
            ((doc.get("spec") or {}).get("template") or {}).get("metadata") or {},
        ):
            notes = meta.get("annotations") or {}
            meta["annotations"] = {
                k: "<random>" if k.startswith("checksum/") else v for k, v in notes.items()
            }
    return docs


def _umbrella() -> str:
    return load_catalog(ROOT).umbrella


@pytest.mark.parametrize("env_file", ENV_FILES, ids=[p.stem for p in ENV_FILES])
def test_packaged_umbrella_renders_like_the_chart_directories(bundled: PackageResult, env_file: Path) -> None:
    catalog = load_catalog(ROOT)
    umbrella = bundled.get(catalog.umbrella)
    chart_yaml = yaml.safe_load((ROOT / "charts" / catalog.umbrella / "Chart.yaml").read_text())
    assert umbrella.dependencies == tuple(d["name"] for d in chart_yaml["dependencies"])
    for helm in find_helms():
        args = ["--namespace", catalog.umbrella, "-f", str(env_file)]
        from_archive = proc.run([helm.path, "template", catalog.umbrella, umbrella.path, *args]).stdout
        with assemble(catalog) as tree:
            from_tree = proc.run(
                [helm.path, "template", catalog.umbrella, tree / catalog.umbrella, *args]
            ).stdout
        assert _comparable(from_archive) == _comparable(from_tree), (
            f"helm {helm.version}: packaging changed it"
        )


@pytest.mark.registry
def test_bundled_catalog_from_the_registry(bundled: PackageResult, plain_registry: LocalRegistry) -> None:
    target = plain_registry.target()
    name = _umbrella()
    version = bundled.get(name).version
    result = publish(bundled, target, select_helm(target), retry=FAST)
    assert [c.name for c in result.charts][-1] == name and {c.status for c in result.charts} == {"pushed"}
    again = publish(bundled, target, select_helm(target), retry=FAST)
    assert {c.status for c in again.charts} == {"unchanged"}
    review = diff_charts(bundled, target, select_helm(target), values_dir=ROOT / "values", retry=FAST)
    assert len(review.diffs) == len(bundled.charts) * len(ENV_FILES)
    assert not review.changed, "\n".join(d.diff for d in review.diffs)  # generated secrets are masked
    ref = target.chart_url(name)
    for helm in find_helms():
        with HelmRegistry(helm, target, retry=FAST) as session:
            flags = ["--version", version, *session.transport_flags]
            shown = yaml.safe_load(session.run(["show", "chart", ref, *flags], what="helm show chart").stdout)
            assert (shown["name"], shown["version"]) == (name, version)
            assert session.run(["show", "values", ref, *flags], what="helm show values").stdout.strip()
            for env_file in ENV_FILES:
                rendered = session.template(name, ref, version=version, values=[env_file])
                kinds = {d["kind"] for d in yaml.safe_load_all(rendered) if d}
                assert kinds, f"{env_file.name}: nothing rendered"
                if helm.major >= 4:  # helm 3.17's client dry run still asks an API server for its version
                    install: list[str | Path] = ["install", name, ref, *flags, "--dry-run=client",
                                                 "--namespace", name, "-f", env_file]  # fmt: skip
                    out = session.run(install, what="helm install --dry-run=client").stdout
                    assert "STATUS: pending-install" in out
