"""``chartforge images`` — every image the catalog deploys, deduplicated (for scanners and mirrors)."""

from __future__ import annotations

import sys

import typer

from chartforge.cli._app import OutputFormat, app, complete_env, emit_json, err, state
from chartforge.images import ImagesResult, list_images
from chartforge.tools import find_helm


def format_text(result: ImagesResult) -> str:
    """One block per image: the reference, then where it runs (chart, workload, container, environments)."""
    lines: list[str] = []
    for image in result.images:
        lines.append(image.reference)
        places: dict[tuple[str, str, str], list[str]] = {}
        for use in image.uses:
            places.setdefault((use.chart, f"{use.kind}/{use.workload}", use.container), []).append(
                use.environment
            )
        for (chart, workload, container), envs in sorted(places.items()):
            lines.append(f"  {chart}  {workload}  {container}  ({', '.join(envs)})")
    return "".join(line + "\n" for line in lines)


@app.command("images")
def images_cmd(
    env: list[str] = typer.Option(
        [], "--env", "-e", autocompletion=complete_env, help="Environment(s) from values/ (default: all)."
    ),
    helm: str | None = typer.Option(None, "--helm", help="helm binary (default: $HELM, then PATH)."),
    output: OutputFormat = typer.Option(OutputFormat.text, "--output", "-o", help="text or json."),
) -> None:
    """Every image reference in every rendered environment (repository, tag, digest; chart, workload,
    container), deduplicated: the list trivy/grype scan and crane/skopeo mirror."""
    result = list_images(state.root, environments=env or None, helm=find_helm(helm))
    if output is OutputFormat.json:
        emit_json(result.to_dict())
    else:
        sys.stdout.write(format_text(result))
        err(
            f"{len(result.images)} images in {', '.join(result.environments)} "
            f"(helm template, Kubernetes {result.kubernetes_version})"
        )
