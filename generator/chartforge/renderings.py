"""The umbrella rendered per environment × Kubernetes version, parsed once for validate and policy.

``helm template`` of the umbrella (every sub-chart at once) with one environment's values file and
``--kube-version``: the objects exactly as ``helm install -f values/<env>.yaml`` would create them.
Renderings that come out identical for several Kubernetes versions are kept (and parsed) once.
"""

from __future__ import annotations

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
) -> list[Future[RenderOutcome]]:  # fmt: skip
    umbrella = assembled / catalog.umbrella
    values = {env: catalog.project.values_file(env) for env, _ in pairs}

    def render(env: str, version: KubeVersion) -> RenderOutcome:
        try:
            tracker.step(f"{env} × Kubernetes {version}")
            text = helmcmd.template(helm, umbrella, release=catalog.umbrella, values_files=[values[env]],
                                    kube_version=version.full, namespace=catalog.umbrella)  # fmt: skip
            return env, version, text
        except ToolNotFound:  # a missing helm stops the run; a failed template is a finding
            raise
        except ToolError as exc:
            return env, version, Diagnostic(
                "error", codes.RENDER_FAILED, exc.stderr.strip() or exc.message, stage="render",
                chart=catalog.umbrella, environment=env, kubernetes_version=str(version),
                path=f"values/{env}.yaml",
            )  # fmt: skip

    return [pool.submit(render, e, v) for e, v in pairs]


def collect_renders(
    futures: Sequence[Future[RenderOutcome]], umbrella: str
) -> tuple[list[Rendering], list[Diagnostic]]:
    results = [f.result() for f in futures]
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
