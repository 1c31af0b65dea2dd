"""Where catalog mode finds the released side: an OCI registry namespace, or a git ref.

A :class:`Baseline` answers one question per chart, "what is its newest release?", with the
packaged archive (:class:`Released`). The registry's answer is the highest semantic-version tag;
git's is ``charts/`` as committed at the ref, packaged the way ``chartforge package`` does it,
with the ``values/`` files of that commit.
"""

from __future__ import annotations

import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from chartforge import proc
from chartforge.errors import ToolError, UsageError
from chartforge.package import package_charts
from chartforge.publish.diff import latest_version
from chartforge.publish.oci import OciClient
from chartforge.publish.target import RegistryTarget, tag_for


@dataclass(frozen=True)
class Released:
    name: str
    version: str
    archive: bytes
    origin: str  # oci://HOST/NS/NAME:VERSION or git:REF charts/NAME
    values: Mapping[str, Path] | None = None  # env → values file as released (git only)


class Baseline(Protocol):
    label: str

    def latest(self, chart: str) -> Released | None: ...


class RegistryBaseline:
    """The newest version of each chart in an OCI registry namespace."""

    def __init__(self, target: RegistryTarget, credentials: Any = None, retry: Any = None) -> None:

        self.target = target
        self.label = target.url
        self.client = OciClient(target, credentials, retry=retry)

    def latest(self, chart: str) -> Released | None:

        repository = self.target.repository(chart)
        version = latest_version(self.client.tags(repository))
        if version is None:
            return None
        manifest = self.client.manifest(repository, tag_for(version))
        layer = manifest.chart_layer if manifest is not None else None
        if layer is None:
            raise ToolError(f"{self.target.chart_url(chart)}:{version} is not a helm chart (no chart layer)")
        return Released(chart, version, self.client.blob(repository, layer.digest),
                        f"{self.target.chart_url(chart)}:{version}")  # fmt: skip


class GitBaseline:
    """The charts as committed at a git ref (``git:v1.2.0``, ``git:origin/main``), packaged the same way."""

    def __init__(self, root: Path, ref: str, scratch: Path) -> None:
        self.label = f"git:{ref}"
        self.ref = ref
        tar = scratch / "ref.tar"
        try:
            proc.run(
                ["git", "-C", root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}"],
                what="git rev-parse",
            )
            proc.run(["git", "-C", root, "archive", "--format=tar", "-o", tar, ref, "--", "charts", "values"],
                     what=f"git archive {ref}")  # fmt: skip
        except ToolError as exc:
            raise UsageError(f"git ref '{ref}' has no charts/ to compare with", key="--against",
                             hint=exc.stderr.strip() or exc.message) from None  # fmt: skip
        self.tree = scratch / "ref"
        with tarfile.open(tar) as archive:
            archive.extractall(self.tree, filter="data")
        self.package = package_charts(self.tree / "charts", scratch / "ref-dist")
        self.values = {p.stem: p for p in sorted((self.tree / "values").glob("*.yaml"))}

    def latest(self, chart: str) -> Released | None:
        try:
            packaged = self.package.get(chart)
        except KeyError:
            return None
        return Released(chart, packaged.version, packaged.path.read_bytes(), f"{self.label} charts/{chart}",
                        self.values)  # fmt: skip


def baseline_for(against: str, root: Path, scratch: Path, **registry: Any) -> Baseline:
    """``oci://…`` → :class:`RegistryBaseline`; ``git:REF`` → :class:`GitBaseline`."""
    if against.startswith("git:") and against[4:]:
        return GitBaseline(root, against[4:], scratch)
    if against.startswith("oci://"):
        target = RegistryTarget.parse(against, plain_http=bool(registry.get("plain_http")),
                                      ca_file=registry.get("ca_file"))  # fmt: skip
        return RegistryBaseline(target, registry.get("credentials"), registry.get("retry"))
    raise UsageError(f"cannot compare against '{against}'", key="--against",
                     hint="oci://REGISTRY/NAMESPACE or git:REF")  # fmt: skip
