"""Stage ``diff``: what a release would change in the cluster, per chart and environment.

For each chart, the locally packaged archive and the newest version published in the
registry are both rendered with ``helm template`` and the same values, and the rendered
manifests are compared as a unified diff. Lines that only carry the chart's version
(``helm.sh/chart``, ``app.kubernetes.io/version``, ``chart: name-1.2.3``, ``*chart-version``
annotations) are masked first, so a version bump alone shows no difference; so are Secret
values (never printed; often generated at random per render) and ``checksum/*`` annotations.

The umbrella is rendered with ``values/<env>.yaml``; a sub-chart with its own section of that
file plus ``global`` — the values it receives inside the umbrella.
"""

from __future__ import annotations

import difflib
import re
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import yaml

from chartforge.compile.envvalues import subchart_values
from chartforge.errors import UserError
from chartforge.package import PackageResult
from chartforge.publish.helmreg import HelmRegistry
from chartforge.publish.oci import OciClient
from chartforge.publish.retry import RetryPolicy
from chartforge.publish.target import Credentials, RegistryTarget
from chartforge.tools import Helm
from chartforge.yamlio import did_you_mean, load_yaml, plain

MASK = "<chart version ignored>"
HIDDEN = "<hidden>"
_SECRET_KIND = re.compile(r"^kind:\s*[\"']?Secret[\"']?\s*$")
_KEY = re.compile(r"""^(\s+(?:"[^"]*"|'[^']*'|[^:#\s][^:#]*?)\s*:\s*).*$""")
_CHECKSUM = re.compile(r"""^(\s*["']?checksum/[^:"']+["']?\s*:\s*).*$""")
_VERSION_LINES = (
    re.compile(r"""^(\s*(?:-\s+)?["']?(?:helm\.sh/chart|app\.kubernetes\.io/version)["']?\s*:\s*).*$"""),
    re.compile(r"""^(\s*(?:-\s+)?["']?[\w./-]*chart[-_]?version["']?\s*:\s*).*$""", re.IGNORECASE),
    re.compile(r"""^(\s*(?:-\s+)?chart\s*:\s*)["']?[\w.-]+-v?\d+\.\d+\.\d+[\w.+-]*["']?\s*$"""),
)
_SEMVER = re.compile(r"^v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:[+_][0-9A-Za-z.-]+)?$")


@dataclass(frozen=True)
class ChartDiff:
    chart: str
    environment: str  # "" = the chart's default values
    local_version: str
    remote_version: str | None  # None: never published
    diff: str  # unified diff, "" when the rendered manifests are the same

    @property
    def changed(self) -> bool:
        return bool(self.diff)


@dataclass(frozen=True)
class DiffResult:
    registry: str
    diffs: tuple[ChartDiff, ...]

    @property
    def changed(self) -> bool:
        return any(d.changed for d in self.diffs)

    def to_dict(self) -> dict[str, Any]:
        return {"registry": self.registry, "diffs": [asdict(d) | {"changed": d.changed} for d in self.diffs]}


def _mask_secret_values(doc: list[str]) -> list[str]:
    """Values under a Secret's top-level ``data``/``stringData`` → :data:`HIDDEN` (keys stay)."""
    out: list[str] = []
    in_data, child_indent = False, -1
    for line in doc:
        indent = len(line) - len(line.lstrip())
        if line.strip() and indent == 0 and not line.startswith("#"):
            in_data, child_indent = line.split(":", 1)[0].strip() in ("data", "stringData"), -1
        elif in_data and line.strip():
            child_indent = indent if child_indent < 0 else child_indent
            if indent > child_indent:
                continue  # continuation of a block scalar value
            match = _KEY.match(line)
            line = f"{match.group(1)}{HIDDEN}" if match else line
        out.append(line)
    return out


def normalize(manifests: str) -> list[str]:
    """Rendered manifests as lines, minus what changes without changing the cluster's intent.

    Masked: values that only carry the chart version; Secret ``data``/``stringData`` values
    (they must not reach a CI log, and templates often generate them at random); and
    ``checksum/*`` annotations (derived from the objects whose own diff is shown).
    """
    docs: list[list[str]] = [[]]
    for line in manifests.splitlines():
        if line.startswith("---"):
            docs.append([])
        docs[-1].append(line)
    lines: list[str] = []
    for doc in docs:
        if any(_SECRET_KIND.match(line) for line in doc):
            doc = _mask_secret_values(doc)
        for line in doc:
            for pattern in _VERSION_LINES:
                line = pattern.sub(lambda m: m.group(1) + MASK, line)
            lines.append(_CHECKSUM.sub(lambda m: m.group(1) + HIDDEN, line))
    return lines


def _semver_key(tag: str) -> tuple[int, int, int, int, str] | None:
    match = _SEMVER.match(tag)
    if match is None:
        return None
    major, minor, patch, pre = match.groups()
    return (int(major), int(minor), int(patch), 0 if pre else 1, pre or "")


def latest_version(tags: Sequence[str]) -> str | None:
    """The highest semantic version among ``tags`` (helm's ``_`` for ``+`` restored)."""
    keyed = [(key, tag) for tag in tags if (key := _semver_key(tag)) is not None]
    return max(keyed)[1].replace("_", "+") if keyed else None


def environments_of(values_dir: Path | None, wanted: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
    """``(env, umbrella values)`` for each ``values/<env>.yaml`` (or only ``wanted``)."""
    found = (
        {p.stem: p for p in sorted(values_dir.glob("*.yaml"))} if values_dir and values_dir.is_dir() else {}
    )
    for env in wanted:
        if env not in found:
            raise UserError(f"no values file for environment '{env}'", path=values_dir or "values",
                            hint=did_you_mean(env, found))  # fmt: skip
    names = list(wanted) or list(found)
    loaded = [
        (env, plain(load_yaml(found[env], display=f"values/{env}.yaml", error=UserError))) for env in names
    ]
    for env, data in loaded:
        if data is not None and not isinstance(data, dict):
            raise UserError("values must be a mapping", path=f"values/{env}.yaml", line=1)
    return [(env, data or {}) for env, data in loaded] or [("", {})]


def diff_charts(
    package: PackageResult,
    target: RegistryTarget,
    helm: Helm,
    *,
    values_dir: Path | None,
    environments: Sequence[str] = (),
    credentials: Credentials | None = None,
    retry: RetryPolicy | None = None,
) -> DiffResult:
    """Render every packaged chart locally and as last published; diff per environment."""
    client = OciClient(target, credentials, retry=retry)
    envs = environments_of(values_dir, environments)
    embedded = {dep for chart in package.charts for dep in chart.dependencies}
    umbrellas = {c.name for c in package.charts if c.dependencies and c.name not in embedded}
    diffs = []
    with (
        HelmRegistry(helm, target, credentials, retry=retry) as session,
        tempfile.TemporaryDirectory() as tmp,
    ):
        for chart in package.charts:
            remote = latest_version(client.tags(target.repository(chart.name)))
            for env, values in envs:
                values_file = Path(tmp) / f"{chart.name}-{env or 'default'}.yaml"
                values_file.write_text(
                    yaml.safe_dump(subchart_values(values, chart.name, umbrella=chart.name in umbrellas))
                )
                local = session.template(chart.name, str(chart.path), version=None, values=[values_file])
                published = ""
                if remote is not None:
                    url = target.chart_url(chart.name)
                    published = session.template(chart.name, url, version=remote, values=[values_file])
                label = f" ({env})" if env else ""
                origin = f"{target.chart_url(chart.name)}:{remote}" if remote else "/dev/null"
                text = "\n".join(
                    difflib.unified_diff(
                        normalize(published),
                        normalize(local),
                        fromfile=origin + label,
                        tofile=f"local {chart.name}-{chart.version}{label}",
                        lineterm="",
                    )
                )
                diffs.append(ChartDiff(chart.name, env, chart.version, remote, text + "\n" if text else ""))
    return DiffResult(target.url, tuple(diffs))
