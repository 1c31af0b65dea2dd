"""Where things are in a chartforge project: one object instead of paths rebuilt at every use.

::

    <root>/sources/catalog.yaml, global.yaml, waivers.yaml, crds/, charts/<name>/, environments/<env>.yaml
    <root>/charts/<name>/          compiled charts (``chartforge build``)
    <root>/values/<env>.yaml       compiled environment values
    <root>/dist/                   packaged archives
    <root>/.tools/bin/             helm and kubeconform installed by ci/install.sh
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Project:
    root: Path

    @property
    def sources(self) -> Path:
        return self.root / "sources"

    @property
    def catalog_file(self) -> Path:
        return self.sources / "catalog.yaml"

    @property
    def global_file(self) -> Path:
        return self.sources / "global.yaml"

    @property
    def waivers_file(self) -> Path:
        return self.sources / "waivers.yaml"

    @property
    def crds(self) -> Path:
        return self.sources / "crds"

    def chart_source(self, chart: str) -> Path:
        return self.sources / "charts" / chart

    def environment_source(self, env: str) -> Path:
        return self.sources / "environments" / f"{env}.yaml"

    @property
    def charts(self) -> Path:
        return self.root / "charts"

    @property
    def values(self) -> Path:
        return self.root / "values"

    def values_file(self, env: str) -> Path:
        return self.values / f"{env}.yaml"

    @property
    def dist(self) -> Path:
        return self.root / "dist"

    @property
    def tools_bin(self) -> Path:
        return self.root / ".tools" / "bin"

    def has_catalog(self) -> bool:
        return self.catalog_file.is_file()
