"""The umbrella rendered per environment × Kubernetes version, parsed once for validate and policy.

``helm template`` of the umbrella (every sub-chart at once) with one environment's values file and
``--kube-version``: the objects exactly as ``helm install -f values/<env>.yaml`` would create them.
Renderings that come out identical for several Kubernetes versions are kept (and parsed) once;
when no template can tell the versions apart (:mod:`chartforge.renderreuse`) the umbrella is
rendered once per environment and that text serves every version.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from chartforge import codes
from chartforge import helm as helmcmd
from chartforge.compile.catalog import Catalog
from chartforge.diagnostics import Diagnostic
from chartforge.errors import ToolError, ToolNotFound
from chartforge.kube import KubeVersion
from chartforge.manifests import Manifest, parse_manifest_text
from chartforge.progress import Tracker
from chartforge.renderreuse import values_independent, version_independent
from chartforge.renderstub import RenderStubs
from chartforge.tools import Helm


@dataclass(frozen=True)
class Rendering:
    environment: str
    versions: tuple[KubeVersion, ...]  # the Kubernetes versions that produced exactly this text
    text: str
    resources: tuple[Manifest, ...]  # parsed once, shared by validate and policy


RenderOutcome = tuple[str, KubeVersion, "str | Diagnostic"]


def submit_renders(
    pool: ThreadPoolExecutor, catalog: Catalog, helm: Helm, assembled: Path,
    pairs: Sequence[tuple[str, KubeVersion]], tracker: Tracker,
    stubs: RenderStubs | None = None, selected: Sequence[str] = (),
) -> list[Future[list[RenderOutcome]]]:  # fmt: skip
    """One ``helm template`` per environment × version, or per environment when no chart can tell the versions apart.

    With ``stubs`` (a run over the ``selected`` charts only), unselected sub-charts print the documents
    a full rendering recorded wherever :mod:`chartforge.renderstub` proves that gives the same text, and
    every full rendering records them."""
    umbrella = assembled / catalog.umbrella
    values = {env: catalog.project.values_file(env) for env, _ in pairs}
    by_env: dict[str, list[KubeVersion]] = {}
    for env, version in pairs:
        by_env.setdefault(env, []).append(version)
    subset = stubs is not None and len(selected) < len(catalog.charts)

    def template(env: str, version: KubeVersion, tree: Path) -> str:
        return helmcmd.template(helm, tree, release=catalog.umbrella, values_files=[values[env]],
                                kube_version=version.full, namespace=catalog.umbrella)  # fmt: skip

    def render(env: str, version: KubeVersion, group: Sequence[KubeVersion] = ()) -> RenderOutcome:
        group = group or (version,)
        tree = stubs.stubbed(selected, env, group) if stubs is not None and subset else None
        try:
            if tree is not None:
                with contextlib.suppress(ToolError):  # not expected; the full tree says what fails
                    return env, version, template(env, version, tree)
            text = template(env, version, umbrella)
            if stubs is not None:
                stubs.record(env, group, text)
            return env, version, text
        except ToolNotFound:  # a missing helm stops the run; a failed template is a finding
            raise
        except ToolError as exc:
            return env, version, Diagnostic(
                "error", codes.RENDER_FAILED, exc.stderr.strip() or exc.message, stage="render",
                chart=catalog.umbrella, environment=env, kubernetes_version=str(version),
                path=f"values/{env}.yaml",
            )  # fmt: skip

    def each(env: str, version: KubeVersion) -> list[RenderOutcome]:
        tracker.step(f"{env} × Kubernetes {version}")
        return [render(env, version)]

    def shared(env: str, versions: Sequence[KubeVersion]) -> list[RenderOutcome]:
        # nothing reads .Capabilities and every kubeVersion admits them all: one text for every version
        _, _, out = render(env, max(versions), versions)
        if isinstance(out, Diagnostic):  # a failure is reported per version, exactly as before
            return [o for v in versions for o in each(env, v)]
        for v in versions:
            tracker.step(f"{env} × Kubernetes {v}")
        return [(env, v, out) for v in versions]

    futures = []
    tree: dict[tuple[KubeVersion, ...], bool] = {}  # the charts are walked once, whatever the environments
    for env, versions in by_env.items():
        if len(versions) > 1 and tuple(versions) not in tree:
            tree[tuple(versions)] = version_independent(umbrella, [], versions)
        if len(versions) > 1 and tree[tuple(versions)] and values_independent([values[env]]):
            futures.append(pool.submit(shared, env, versions))
        else:
            futures += [pool.submit(each, env, v) for v in versions]
    return futures


def collect_renders(
    futures: Sequence[Future[list[RenderOutcome]]], umbrella: str
) -> tuple[list[Rendering], list[Diagnostic]]:
    results = [r for f in futures for r in f.result()]
    failures = [r for _, _, r in results if isinstance(r, Diagnostic)]
    grouped: dict[tuple[str, str], list[KubeVersion]] = {}
    for env, version, out in results:
        if isinstance(out, str):
            grouped.setdefault((env, out), []).append(version)
    renderings = [
        Rendering(
            env,
            tuple(vs),
            text,
            tuple(parse_manifest_text(text, f"<helm template {umbrella} {env}>")),
        )
        for (env, text), vs in grouped.items()
    ]
    return renderings, failures
