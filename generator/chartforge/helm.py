"""Every helm call chartforge makes (``helm template``, ``helm lint``), through ``proc.run``.

It knows nothing of catalogs: ``compile.assemble`` lays charts out the way helm wants them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

from chartforge import proc
from chartforge.errors import ToolError
from chartforge.helmerrors import without_noise
from chartforge.tools import Helm


def write_values(path: Path, values: Mapping[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(dict(values), sort_keys=True), encoding="utf-8")
    return path


def template(
    helm: Helm,
    chart_dir: Path,
    *,
    release: str,
    values_files: Sequence[Path] = (),
    kube_version: str | None = None,
    namespace: str = "default",
    extra: Sequence[str] = (),
) -> str:
    """``helm template`` → the rendered manifests (multi-document YAML); a failure's stderr without helm's noise."""
    args = [helm.path, "template", release, str(chart_dir), "--namespace", namespace]
    for file in values_files:
        args += ["-f", str(file)]
    if kube_version:
        args += ["--kube-version", kube_version]
    args += list(extra)
    try:
        return proc.run(args, what=f"helm template {chart_dir.name}").stdout
    except ToolError as exc:
        exc.stderr = without_noise(exc.stderr)  # the symlink notices of an assembled umbrella, --debug advice
        raise


def lint(
    helm: Helm, chart_dir: Path, *, values_files: Sequence[Path] = (), strict: bool = True
) -> proc.Completed:
    """``helm lint [--strict]``; returns the completed process (callers parse its findings)."""
    args = [helm.path, "lint", str(chart_dir)]
    if strict:
        args.append("--strict")
    for file in values_files:
        args += ["-f", str(file)]
    return proc.run(args, check=False, what=f"helm lint {chart_dir.name}")


def lint_many(
    helm: Helm, chart_dirs: Sequence[Path], *, values_files: Sequence[Path] = (), strict: bool = True
) -> proc.Completed:
    """One ``helm lint`` over several charts with the same values: one ``==> Linting DIR`` section each."""
    args = [helm.path, "lint", *(str(d) for d in chart_dirs)]
    if strict:
        args.append("--strict")
    for file in values_files:
        args += ["-f", str(file)]
    return proc.run(args, check=False, what=f"helm lint ({len(chart_dirs)} charts)")
