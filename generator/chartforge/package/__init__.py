"""Stage ``package``: byte-reproducible chart archives, a self-contained umbrella, provenance."""

from __future__ import annotations

from chartforge.package.packager import SUMS_FILE, PackagedChart, PackageResult, package_charts
from chartforge.package.provenance import Signer

__all__ = ["SUMS_FILE", "PackageResult", "PackagedChart", "Signer", "package_charts"]
