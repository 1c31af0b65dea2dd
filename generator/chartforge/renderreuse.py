"""Whether ``helm template`` of a chart can differ between Kubernetes versions.

``--kube-version`` reaches a rendering in two ways only: templates reading ``.Capabilities``
(``KubeVersion``, ``APIVersions``) and the ``kubeVersion`` constraint of a ``Chart.yaml``, which
makes the rendering fail for a version outside it. :func:`version_independent` says a chart tree
(its sub-charts through ``charts/``, links followed) and its values files use neither for the given
versions; then one rendering serves every version (validation still runs per version).

It errs on the side of rendering again: any file under a ``templates/`` directory naming
``Capabilities``, any other file (values, ``files/`` read through ``tpl``) with a template action
naming it, an archived sub-chart it cannot read, or a ``kubeVersion`` constraint not of the plain
``>=A.B.C[-0] <D.E.F[-0]`` form all say "may differ".
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path

import yaml

from chartforge.kube import KubeVersion

_ACTION = re.compile(rb"\{\{[^}]*Capabilities")
_RANGE = re.compile(r"^>=\s*v?(\d+)\.(\d+)\.(\d+)(?:-0)?\s*,?\s*<\s*v?(\d+)\.(\d+)\.(\d+)(?:-0)?$")


def _in_range(constraint: object, versions: Sequence[KubeVersion]) -> bool:
    if constraint is None:
        return True
    match = _RANGE.match(str(constraint).strip()) if isinstance(constraint, str) else None
    if not match:
        return False
    low, high = tuple(map(int, match.groups()[:3])), tuple(map(int, match.groups()[3:]))
    return all(low <= (v.major, v.minor, 0) < high for v in versions)


def version_independent(
    chart_dir: Path, values_files: Sequence[Path], versions: Sequence[KubeVersion]
) -> bool:
    """True when rendering ``chart_dir`` with ``values_files`` gives the same text at every one of ``versions``."""
    return values_independent(values_files) and _tree_independent(chart_dir, versions)


def values_independent(values_files: Sequence[Path]) -> bool:
    """No values file has a template action naming ``.Capabilities`` (read through ``tpl``)."""
    return not any(_ACTION.search(file.read_bytes()) for file in values_files)


def _tree_independent(chart_dir: Path, versions: Sequence[KubeVersion]) -> bool:
    for folder, _, files in os.walk(chart_dir, followlinks=True):
        in_templates = "templates" in Path(folder).relative_to(chart_dir).parts
        for name in files:
            path = Path(folder) / name
            if name.endswith((".tgz", ".tar.gz")):
                return False
            data = path.read_bytes()
            if (b"Capabilities" in data) if in_templates else bool(_ACTION.search(data)):
                return False
            if name == "Chart.yaml":
                try:
                    meta = yaml.safe_load(data)
                except yaml.YAMLError:
                    return False  # helm reports it; render every version as before
                if not isinstance(meta, dict) or not _in_range(meta.get("kubeVersion"), versions):
                    return False
    return True
