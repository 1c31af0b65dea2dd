"""The validate and policy stages over manifest files instead of the catalog's renderings.

``chartforge validate --manifests`` and ``chartforge policy --manifests`` read the files once
into :class:`~chartforge.manifests.Manifest` records, make them one :class:`Rendering`, and
run the same stage functions ``chartforge check`` runs on the catalog; the result is the same
:class:`CheckResult`, so both modes report (text, JSON, JUnit) the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from chartforge.check import CheckResult, validate_renderings
from chartforge.errors import UserError
from chartforge.kube import KubeVersion
from chartforge.manifests import load_manifests, objects_only
from chartforge.policy.stage import PolicyUnit, check_policy
from chartforge.policy.waivers import Waivers
from chartforge.renderings import Rendering
from chartforge.validate.engine import Engine
from chartforge.yamlio import load_yaml


def validate_files(
    paths: Sequence[Path], versions: Sequence[str], *, engine: Engine, crd_dir: Path | None
) -> CheckResult:
    """Every object under ``paths`` (``-`` = stdin) against every version in ``versions``."""
    manifests = tuple(load_manifests(paths))
    if not manifests:
        raise UserError(
            "no Kubernetes objects to validate", path=", ".join(map(str, paths)),
            hint="pass rendered manifests (.yaml/.yml/.json files or folders holding them)",
        )  # fmt: skip
    kube = tuple(KubeVersion.parse(v) for v in versions)
    rendering = Rendering("", kube, "", manifests)
    diagnostics, checked, records = validate_renderings([rendering], engine, crd_dir, lambda _path: "")
    return CheckResult(tuple(diagnostics), tuple(checked), (), kube, (), engine.name,
                       len(manifests), tuple(records))  # fmt: skip


def policy_files(
    paths: Sequence[Path],
    *,
    waivers: Waivers | None,
    checkov: bool,
    chart: str = "",
    environment: str = "",
    kubernetes_version: KubeVersion | None = None,
    namespace: str = "",
    values_file: Path | None = None,
    checkov_binary: str | None = None,
) -> CheckResult:
    """Every policy check on the objects under ``paths``, as one chart × environment × version.

    A document that is not a usable object is a user error (``chartforge validate`` reports
    such documents in full). ``values_file`` (the values the manifests were rendered from) is
    scanned for secrets. Stale waivers are reported among those that apply to this chart and
    environment (with neither given, the waivers whose chart and environment are ``*``).
    """
    manifests = tuple(objects_only(load_manifests(paths)))
    if not manifests:
        raise UserError(
            "no Kubernetes objects to check", path=", ".join(map(str, paths)),
            hint="pass rendered manifests (.yaml/.yml/.json files or folders holding them)",
        )  # fmt: skip
    values = load_yaml(values_file) if values_file is not None else None
    unit = PolicyUnit(
        manifests,
        chart,
        environment,
        str(kubernetes_version or ""),
        namespace,
        values if isinstance(values, dict) else None,
        str(values_file or ""),
    )
    result = check_policy([unit], waivers=waivers, checkov=checkov, charts=[chart],
                          environments=[environment], checkov_binary=checkov_binary)  # fmt: skip
    environments = (environment,) if environment else ()
    versions = (kubernetes_version,) if kubernetes_version else ()
    return CheckResult(result.diagnostics, result.checked, environments, versions, (), "", len(manifests),
                       checkov=checkov)  # fmt: skip
