"""The files of one generated chart: Chart.yaml, values, schema, README, templates."""

from __future__ import annotations

from typing import Any

from chartforge.compile import generated, schema
from chartforge.compile.catalog import Catalog, ChartSpec
from chartforge.compile.declared import (
    changes_annotation,
    load_declared,
    upgrading_markdown,
    with_deprecations,
)
from chartforge.compile.helpers import trim_helpers
from chartforge.compile.jinja import environment, render_file
from chartforge.compile.render import chart_context, render_chart_files
from chartforge.compile.umbrellaschema import nested_schema
from chartforge.compile.unquoted import check_quoting
from chartforge.yamlio import dump, load_yaml, plain, read_text

HELMIGNORE = (
    generated.header(".helmignore")
    + """\
# Patterns to ignore when building packages.
.DS_Store
.git/
.gitignore
*.swp
*.bak
*.tmp
*.orig
*~
.idea/
.vscode/
"""
)


def chart_yaml(catalog: Catalog, chart: ChartSpec) -> str:
    data: dict[str, Any] = {
        "apiVersion": "v2",
        "name": chart.name,
        "description": chart.description,
        "type": chart.chart_type,
        "version": chart.version,
        "appVersion": chart.app_version,
        "kubeVersion": catalog.kube_version_constraint,
    }
    if chart.home:
        data["home"] = chart.home
    if chart.icon:
        data["icon"] = chart.icon
    if chart.sources:
        data["sources"] = list(chart.sources)
    if chart.keywords:
        data["keywords"] = list(chart.keywords)
    if catalog.maintainers:
        data["maintainers"] = [{"name": n, "email": e} if e else {"name": n} for n, e in catalog.maintainers]
    annotations = {"chartforge.io/generated-from": f"sources/charts/{chart.name}", **dict(chart.annotations)}
    changes = changes_annotation(load_declared(chart.source_dir, catalog.root), chart.version)
    if changes:
        annotations["artifacthub.io/changes"] = changes
    data["annotations"] = annotations
    if chart.dependencies:
        data["dependencies"] = [
            {
                "name": d.name,
                "version": d.version,
                "repository": f"file://../{d.name}",
                "condition": d.condition,
            }
            for d in chart.dependencies
        ]
    header = generated.header("Chart.yaml", f"sources/charts/{chart.name}/chart.yaml")
    return header + dump(data, width=96)  # PyYAML folds after the word passing width: stays in 120


def install_ref(catalog: Catalog, chart: ChartSpec) -> str:
    registry = catalog.registry.url or "oci://REGISTRY/NAMESPACE"
    return f"{registry.rstrip('/')}/{chart.name}"


def environment_table(catalog: Catalog, chart: ChartSpec) -> list[str]:
    """The umbrella's "Values per environment" table, read from sources/environments/: one row per
    sub-chart (and ``global``), one column per environment; a cell is ``off`` or the keys it sets."""
    envs = {
        env: plain(load_yaml(catalog.env_file(env), display=f"sources/environments/{env}.yaml")) or {}
        for env in catalog.environments
    }
    lines = [
        "## Values per environment",
        "",
        "What each `values/<env>.yaml` sets (generated from `sources/environments/`; "
        "unset keys keep the chart defaults):",
        "",
        "| | " + " | ".join(envs) + " |",
        "|---|" + "---|" * len(envs),
    ]
    for name in ["global", *(d.name for d in chart.dependencies)]:
        cells = []
        for data in envs.values():
            section = data.get(name) if isinstance(data, dict) else None
            section = section if isinstance(section, dict) else {}
            if section.get("enabled") is False:
                cells.append("off")
                continue
            keys = sorted(str(k) for k in section if k != "enabled")
            cells.append(", ".join(f"`{k}`" for k in keys) if keys else "defaults")
        label = f"[{name}](#{name})" if name != "global" else "`global`"
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return [*lines, ""]


def _subchart_sections(catalog: Catalog, chart: ChartSpec) -> list[str]:
    """One section per sub-chart: links to it stay inside this README (``helm show readme``,
    Artifact Hub), and it says where the sub-chart's own README is."""
    lines: list[str] = []
    for dep in chart.dependencies:
        spec = catalog.chart(dep.name)
        lines += [
            f"### {dep.name}",
            "",
            f"{spec.description.rstrip('.')}. Version `{dep.version}`, switched by `{dep.condition}`; its README: "
            f"`helm show readme {install_ref(catalog, spec)} --version {dep.version}` "
            f"(also packaged in this chart as `charts/{dep.name}/README.md`).",
            "",
        ]
    return lines


def readme(catalog: Catalog, chart: ChartSpec) -> str:
    ref = install_ref(catalog, chart)
    extra = ""
    docs = chart.source_dir / "docs.md.j2"
    if docs.is_file():
        name = docs.relative_to(catalog.sources).as_posix()
        extra = render_file(
            environment(catalog.sources), catalog.sources, name, chart_context(catalog, chart)
        )
    plain_http = " --plain-http" if catalog.registry.plain_http else ""
    lines = [
        generated.header("README.md", f"sources/charts/{chart.name}").rstrip("\n"),
        f"# {chart.name}",
        "",
        chart.description,
        "",
        f"Chart version `{chart.version}`, app version `{chart.app_version}`, "
        f"Kubernetes `{catalog.kube_version_constraint}`.",
        "",
        "## TL;DR",
        "",
        *(
            ["```console", f"helm install my-release {ref} --version {chart.version}{plain_http}", "```"]
            if chart.chart_type != "library"
            # a library is a dependency, never installed
            else [
                "```yaml",
                "dependencies:",
                f"  - name: {chart.name}",
                f"    version: {chart.version}",
                f"    repository: {ref.rsplit('/', 1)[0]}",
                "```",
            ]
        ),
        "",
        "## Prerequisites",
        "",
        f"- Kubernetes {catalog.kubernetes_versions[0]} to {catalog.kubernetes_versions[-1]}",
        "- Helm 3.17+ or Helm 4",
        "",
    ]
    if chart.dependencies:
        lines += ["## Sub-charts", "", "| Chart | Version | Enabled by |", "|-------|---------|------------|"]
        lines += [f"| [{d.name}](#{d.name}) | `{d.version}` | `{d.condition}` |" for d in chart.dependencies]
        lines += ["", *_subchart_sections(catalog, chart), *environment_table(catalog, chart)]
    if extra.strip():
        lines += [extra.strip(), ""]
    upgrading = upgrading_markdown(load_declared(chart.source_dir, catalog.root))
    if upgrading:
        lines += [upgrading.strip(), ""]
    lines += ["## Parameters", "", schema.parameters_markdown(catalog, chart)]
    return "\n".join(lines).rstrip("\n") + "\n"


def chart_files(catalog: Catalog, chart: ChartSpec) -> dict[str, str]:
    """``{path inside the chart: text}`` for one chart."""
    values_schema = schema.chart_schema(catalog, chart)
    files = {
        "Chart.yaml": chart_yaml(catalog, chart),
        "values.yaml": schema.values_yaml(catalog, chart),
        "values.schema.json": schema.schema_json(values_schema),
        "README.md": readme(catalog, chart),
        ".helmignore": HELMIGNORE,
    }
    rendered_files = render_chart_files(catalog, chart)
    # the umbrella's templates may read a sub-chart's section: what it can hold is in the sub-chart's schema
    whole = nested_schema(catalog, chart) if chart.is_umbrella else values_schema
    check_quoting(catalog, chart, rendered_files, whole)
    for rendered in rendered_files:
        files[rendered.path] = rendered.text
    files = with_deprecations(chart.name, files, load_declared(chart.source_dir, catalog.root).deprecations)
    environments = [catalog.project.environment_source(e) for e in catalog.environments]
    if chart.chart_type != "library":  # a library's named templates are what it is for: keep them all
        files = trim_helpers(
            files, also_read=[read_text(p, display=f"sources/environments/{p.name}") for p in environments]
        )
    return dict(sorted(files.items()))
