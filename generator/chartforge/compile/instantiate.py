"""The seed's entry point: render one chart with variables into Kubernetes manifests.

``render_template("postgresql-ha", {"cluster_name": "prod-postgres", "node_count": 5})``
compiles the chart from ``sources/`` into a temporary directory, builds its values (chart
defaults ← the environment's section ← the variables) and runs ``helm template``.

Variables are the seed's names: ``cluster_name``, ``environment`` and the process-environment
``CLUSTER_ID``/``TENANT_ID``/``ENVIRONMENT`` map to ``global.*`` (catalog ``variables:``);
chart-specific ones (``node_count``, ``backup_retention_days``…) are mapped by each chart's
``variables:``; any other name must be a values path of the chart (``image.tag``).
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from chartforge import tools
from chartforge.compile.assemble import assemble
from chartforge.compile.catalog import Catalog, ChartSpec, load_catalog
from chartforge.compile.chartfiles import chart_files
from chartforge.compile.envvalues import merge, subchart_values, validate_values
from chartforge.compile.linemap import located_template_error
from chartforge.errors import ToolError, UsageError, UserError, ValuesError
from chartforge.helm import template, write_values
from chartforge.yamlio import did_you_mean, load_yaml, plain

PROCESS_ENV = ("CLUSTER_ID", "TENANT_ID", "ENVIRONMENT")  # the seed: read from the process environment


@dataclass(frozen=True)
class Instance:
    chart: str
    values: dict[str, Any]
    manifests: str


def _set_path(values: dict[str, Any], dotted: str, value: Any) -> None:
    node = values
    parts = dotted.split(".")
    for part in parts[:-1]:
        node = node.setdefault(part, {})
    node[parts[-1]] = value


def variable_targets(catalog: Catalog, chart: ChartSpec) -> dict[str, str]:
    """``{seed variable: values path}`` for ``chart`` (catalog ``variables:`` then the chart's)."""
    return {**dict(catalog.variables), **dict(chart.variables)}


def resolve_variables(
    catalog: Catalog,
    chart: ChartSpec,
    variables: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    *,
    defaults: bool = True,
) -> dict[str, Any]:
    """Turn seed variables into a values overlay for ``chart`` (the catalog's ``variable_defaults`` first)."""
    environ = os.environ if environ is None else environ
    mapping = variable_targets(catalog, chart)
    given: dict[str, Any] = {k: v for k, v in catalog.variable_defaults if k in mapping} if defaults else {}
    given.update({k: environ[k] for k in PROCESS_ENV if k in environ and k in mapping})
    if "ENVIRONMENT" in environ and "environment" in mapping:
        given["environment"] = environ["ENVIRONMENT"]
    given.update(variables)
    overlay: dict[str, Any] = {}
    known = set(mapping) | {leaf.path for leaf in chart.params.leaves()}
    for name, value in given.items():
        if name in mapping:
            target = mapping[name]
        elif chart.params.find(name) is not None or name.startswith("global."):
            target = name
        else:
            raise UserError(
                f"unknown variable '{name}' for chart {chart.name}", key=name, hint=did_you_mean(name, known)
            )
        _set_path(overlay, target, value)
    return overlay


def instance_values(
    catalog: Catalog,
    chart: ChartSpec,
    variables: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    *,
    environment: str | None = None,
    values_files: Sequence[Path] = (),
) -> dict[str, Any]:
    """Values for ``chart``: the environment's section, the variables' defaults, ``values_files`` in
    order, then the variables given (and the process environment's).

    The environment is ``environment`` when given, else the ``environment`` variable (or its default).
    """
    overlay = resolve_variables(catalog, chart, variables, environ)
    env = environment or str(
        overlay.get("global", {}).get("environment") or dict(catalog.variable_defaults).get("environment", "")
    )
    base: dict[str, Any] = {}
    if env in catalog.environments:
        env_data = plain(load_yaml(catalog.env_file(env))) or {}
        base = subchart_values(env_data, chart.name, umbrella=chart.is_umbrella)
    files: dict[str, Any] = {}
    for file in values_files:
        data = plain(load_yaml(Path(file), display=str(file), error=UserError))
        if data is not None and not isinstance(data, dict):
            raise UserError("a values file must be a mapping", path=str(file), line=1)
        files = merge(files, data or {})
    given = resolve_variables(catalog, chart, variables, environ, defaults=False) if values_files else {}
    values: dict[str, Any] = merge(merge(merge(base, overlay), files), given)
    try:
        validate_values(catalog, chart, values, display=f"variables for {chart.name}")
    except ValuesError as exc:
        named = _variable_for(catalog, chart, exc.key or "")
        if named is None:
            raise
        raise ValuesError(
            exc.message,
            key=named,
            hint=exc.hint or "a seed variable is one value, checked like the parameter",
        ) from exc
    return values


def _helm_error(stderr: str) -> str | None:
    """helm's own error line (``Error: …``), without its advice to re-run with --debug."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    found = next((line for line in lines if line.startswith("Error:")), lines[0] if lines else None)
    return found.removeprefix("Error:").strip() if found else None


def library_refusal(catalog: Catalog, chart: ChartSpec) -> str:
    """Why a library chart is not rendered (helm refuses: it has no objects), and what to render instead."""
    users = [c.name for c in catalog.charts if any(d.name == chart.name for d in c.dependencies)]
    instead = f"render a chart that includes its templates: {', '.join(users)}"
    if not users:
        instead = "render a chart that depends on it (add it to that chart's dependencies)"
    return f"chart {chart.name} is a library chart (named templates only, no objects): {instead}"


def _variable_for(catalog: Catalog, chart: ChartSpec, key: str) -> str | None:
    """The seed variable (as the user wrote it) that sets values path ``key``, with the path."""
    for name, target in variable_targets(catalog, chart).items():
        if key == target or key.startswith(target + "."):
            shown = f"{name} ({target})" if name != target else name
            return shown
    return None


def find_root(start: Path | str | None = None) -> Path:
    """The project holding ``start`` (default: the working directory): the nearest folder, ``start``
    or a parent, with ``sources/catalog.yaml`` — as git finds its repository."""
    here = Path(start if start is not None else Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "sources" / "catalog.yaml").is_file():
            return folder
    raise UserError(
        "no chartforge project here or in any parent folder",
        path=str(here),
        hint="pass root= (the folder holding sources/catalog.yaml)",
    )


def render_template(
    name: str,
    variables: Mapping[str, Any] | None = None,
    *,
    root: Path | str | None = None,
    environment: str | None = None,
    values_files: Sequence[Path | str] = (),
    namespace: str = "default",
    helm: str | None = None,
) -> str:
    """Render chart ``name`` with ``variables`` and return its Kubernetes manifests (multi-document YAML).

    The seed's entry point, ``chartforge render`` in Python. ``name`` is a chart of the catalog or
    one of its aliases (``postgresql_ha_cluster``). ``variables`` are the seed's variables
    (``cluster_name``, ``node_count``, ``environment``, …; defaults from ``variable_defaults`` in
    ``sources/catalog.yaml``; ``CLUSTER_ID``/``TENANT_ID``/``ENVIRONMENT`` read from the process
    environment) or values paths of the chart (``"image.tag"``). Values are layered as
    ``helm template`` layers them: the ``environment``'s section of ``sources/environments/``,
    the variables' defaults, each of ``values_files`` in order, then the variables given
    (``variables`` and the process environment's); they are checked against the
    chart's schema first. ``root`` is the project (the folder holding ``sources/``); by default
    the working directory or its nearest parent that holds ``sources/catalog.yaml``, so the call
    works from any directory of the project. The chart is compiled from ``sources/`` (never the
    possibly stale ``charts/``) and rendered by ``helm template --namespace namespace``; ``helm``
    names the binary (default: ``$HELM``, ``PATH``, the project's ``.tools/bin``).

    Raises :class:`chartforge.errors.UserError` (unknown chart, variable or environment, values
    the schema refuses, each with its location and a hint),
    :class:`chartforge.errors.TemplateError` (a template of the chart failed in helm: at the
    ``sources/`` line that wrote it once ``charts/`` is built, else the generated line) and
    :class:`chartforge.errors.ToolError` (helm failed otherwise).

    Example::

        manifests = render_template("postgresql-ha", {"cluster_name": "prod-postgres", "node_count": 5})
    """
    return instantiate(
        name, variables or {}, root=find_root(root) if root is None else root, helm=helm,
        environment=environment, values_files=[Path(f) for f in values_files], namespace=namespace,
    ).manifests  # fmt: skip


def instantiate(
    name: str,
    variables: Mapping[str, Any],
    *,
    root: Path | str = ".",
    helm: str | None = None,
    environment: str | None = None,
    values_files: Sequence[Path] = (),
    namespace: str = "default",
) -> Instance:
    """The chart, its values and its manifests (see :func:`render_template`)."""
    catalog = load_catalog(root)
    chart = catalog.chart(name)
    if chart.chart_type == "library":
        raise UserError(library_refusal(catalog, chart))
    if environment is not None and environment not in catalog.environments:
        raise UsageError(
            f"unknown environment '{environment}'", hint=did_you_mean(environment, catalog.environments)
        )
    if environment is not None and "environment" in variable_targets(catalog, chart):
        if variables.get("environment", environment) != environment:
            raise UsageError(
                f"--env {environment} and the variable environment={variables['environment']} disagree"
            )
        variables = {**variables, "environment": environment}  # the section and global.environment agree
    for file in values_files:
        if not Path(file).is_file():
            raise UserError("values file not found", path=str(file))
    values = instance_values(catalog, chart, variables, environment=environment, values_files=values_files)
    binary = tools.find_helm(helm, root=catalog.root)
    needed = [chart, *(catalog.chart(d.name) for d in chart.dependencies)]
    newest = catalog.kubernetes_versions[-1].full
    with tempfile.TemporaryDirectory(prefix="chartforge-render-") as tmp:
        compiled = Path(tmp)  # compiled from sources/, not read from charts/ (which may be stale)
        for spec in needed:
            for rel, text in chart_files(catalog, spec).items():
                target = compiled / spec.name / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8")
        release = str(values.get("global", {}).get("clusterName") or chart.name)[:53]
        with assemble(catalog, compiled, needed) as assembled:
            values_file = write_values(assembled / "values.yaml", values)
            try:
                manifests = template(
                    binary,
                    assembled / chart.name,
                    release=release,
                    values_files=[values_file],
                    namespace=namespace,
                    kube_version=newest,  # helm 4's default (1.35) may be past the chart's kubeVersion
                )
            except ToolError as exc:
                given = sorted(str(k) for k in variables) + [k for k in PROCESS_ENV if k in os.environ]
                if not given:
                    raise located_template_error(catalog.root, exc) from exc
                # Does the chart render with its defaults? Then the variables made it fail: a user error.
                defaults = write_values(
                    assembled / "defaults.yaml", instance_values(catalog, chart, {}, environ={})
                )
                fallback = chart.name
                try:
                    template(binary, assembled / chart.name, release=fallback, values_files=[defaults],
                             kube_version=newest)  # fmt: skip
                except ToolError:
                    raise located_template_error(catalog.root, exc) from None
                raise UserError(
                    f"chart {chart.name} does not render with these variables", key=", ".join(given),
                    hint=_helm_error(exc.stderr),
                ) from exc  # fmt: skip
    return Instance(chart.name, values, manifests)
