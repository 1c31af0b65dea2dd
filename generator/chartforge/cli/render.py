"""``chartforge render NAME --set k=v`` — the seed's entry point."""

from __future__ import annotations

import sys
from pathlib import Path

import typer

from chartforge.cli._app import OutputFormat, app, complete_chart, complete_env, emit_json, state
from chartforge.compile.instantiate import instantiate
from chartforge.errors import UsageError, UserError
from chartforge.yamlio import load_yaml_text, plain


def parse_sets(pairs: list[str]) -> dict[str, object]:
    """``KEY=VALUE`` pairs; VALUE is one line of YAML (a scalar or a flow list/map), read safely.

    A value that is not valid YAML, spans lines, or carries a tag (``!!python/object``…) is a
    user error naming the variable: values are data, never YAML structure.
    """
    variables: dict[str, object] = {}
    for pair in pairs:
        if "=" not in pair:
            raise UsageError(f"--set expects KEY=VALUE, got {pair!r}")
        key, raw = pair.split("=", 1)
        key = key.strip()
        if not raw:
            variables[key] = ""
            continue
        if "\n" in raw or "\r" in raw:
            raise UserError("a --set value must be one line", key=key, hint="quote it as a YAML string")
        variables[key] = plain(load_yaml_text(raw, display=f"--set {key}", error=UserError))
    return variables


@app.command("render")
def render_cmd(
    name: str = typer.Argument(
        ..., autocompletion=complete_chart, help="Chart name (or an alias such as postgresql_ha_cluster)."
    ),
    sets: list[str] = typer.Option([], "--set", help="Variable KEY=VALUE (seed variable or values path)."),
    env: str | None = typer.Option(
        None,
        "--env",
        "-e",
        autocompletion=complete_env,
        help="Environment whose section of sources/environments/ applies (default: the environment variable).",
    ),
    values: list[Path] = typer.Option(
        [], "--values", "-f", help="Values file layered over the environment's, before --set (repeatable)."
    ),
    namespace: str = typer.Option(
        "default", "--namespace", "-n", help="Release namespace (helm template -n)."
    ),
    helm: str = typer.Option(None, "--helm", help="helm binary (default: $HELM, then PATH)."),
    output: OutputFormat = typer.Option(
        OutputFormat.text, "--output", "-o", help="text (manifests) or json."
    ),
) -> None:
    """Render one chart with variables into Kubernetes manifests (helm template under the hood).

    Values are layered as helm layers them: the environment's section, each -f file, then --set.
    Defaults come from `variable_defaults` in sources/catalog.yaml; CLUSTER_ID, TENANT_ID and
    ENVIRONMENT are read from the process environment. Rendered for the newest Kubernetes version
    the catalog supports. A library chart (type: library) has no objects and is refused (exit 1):
    render a chart that depends on it instead.
    """
    inst = instantiate(name, parse_sets(sets), root=state.root, helm=helm, environment=env, values_files=values,
                       namespace=namespace)  # fmt: skip
    if output is OutputFormat.json:
        emit_json({"chart": inst.chart, "values": inst.values, "manifests": inst.manifests})
    else:
        sys.stdout.write(inst.manifests)
