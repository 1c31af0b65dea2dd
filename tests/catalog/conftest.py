"""Fixtures for tests of the bundled catalog: its charts rendered by the real helm per environment."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest
import yaml

from chartforge import tools
from chartforge.compile.assemble import assemble, chart_values
from chartforge.compile.catalog import Catalog, load_catalog
from chartforge.helm import template, write_values

ROOT = Path(__file__).resolve().parents[2]
ENVIRONMENTS = ("development", "staging", "production")


@functools.cache
def catalog() -> Catalog:
    return load_catalog(ROOT)


def render_text(chart: str, env: str, *sets: str, release: str | None = None) -> str:
    """``helm template`` of ``chart`` (committed charts/) with ``env``'s values plus ``--set`` overrides.

    An override prefixed ``json:`` goes through ``--set-json`` (``--set`` makes floats strings).
    """
    cat = catalog()
    spec = cat.chart(chart)
    extra = [arg for s in sets for arg in (("--set-json", s[5:]) if s.startswith("json:") else ("--set", s))]
    with assemble(cat) as tmp:
        values = write_values(tmp / "values.yaml", chart_values(cat, spec, env))
        return template(
            tools.find_helm(), tmp / spec.name, release=release or spec.name, values_files=[values],
            namespace=spec.name, extra=extra,
        )  # fmt: skip


def render_with(chart: str, env: str, *sets: str, release: str | None = None) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(render_text(chart, env, *sets, release=release)) if d]


@functools.cache
def rendered_text(chart: str, env: str) -> str:
    """``helm template`` of one chart with its values for ``env`` (cached: tests only read it)."""
    return render_text(chart, env)


def rendered(chart: str, env: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(rendered_text(chart, env)) if d]


def find(objects: list[dict[str, Any]], kind: str, name_part: str = "") -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] == kind and name_part in o["metadata"]["name"]]


@pytest.fixture(params=ENVIRONMENTS)
def env(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def pod_specs(objects: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """``(Kind/name, pod spec)`` of every workload, CronJobs' job templates included."""
    out = []
    for obj in objects:
        spec = obj.get("spec") or {}
        if "jobTemplate" in spec:
            spec = spec["jobTemplate"]["spec"]
        if "template" in spec:
            out.append((f"{obj['kind']}/{obj['metadata']['name']}", spec["template"]["spec"]))
    return out


def assert_restricted(where: str, spec: dict[str, Any]) -> None:
    """Pod Security "restricted", non-root, read-only root, resources and pinned images in one pod spec."""
    pod = spec["securityContext"]
    assert pod["runAsNonRoot"] is True and pod["runAsUser"] > 0 and pod["fsGroup"] > 0, where
    assert pod["seccompProfile"]["type"] == "RuntimeDefault", where
    for c in spec.get("initContainers", []) + spec["containers"]:
        sc = c["securityContext"]
        assert sc["allowPrivilegeEscalation"] is False, (where, c["name"])
        assert sc["capabilities"]["drop"] == ["ALL"], (where, c["name"])
        assert sc["readOnlyRootFilesystem"] is True, (where, c["name"])
        assert sc["runAsNonRoot"] is True and sc["runAsUser"] > 0, (where, c["name"])
        assert c["resources"]["requests"] and c["resources"]["limits"], (where, c["name"])
        image = c["image"]
        assert ":" in image.rsplit("/", 1)[-1] and not image.endswith(":latest"), image
