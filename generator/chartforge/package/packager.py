"""Stage ``package``: every chart of ``charts/`` → ``dist/<chart>-<version>.tgz`` + ``SHA256SUMS``.

Archives are written by :mod:`chartforge.package.archive`, not by ``helm package``, because
helm stamps the build time into every tar header (and into the OCI manifest, via the
archive file's mtime) — so two clones would never agree on a digest. The umbrella archive
is self-contained: ``charts/<dep>-<version>.tgz`` inside it are the very bytes of the
sub-chart archives written beside it (what ``helm dependency build`` lays out), with a
``Chart.lock`` whose digest is helm's.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from chartforge.errors import UserError
from chartforge.package.archive import FIXED_MTIME, sha256_hex, write_tgz
from chartforge.package.charts import LocalChart, chart_files, discover
from chartforge.package.lock import chart_lock
from chartforge.package.provenance import Signer, sign_archives

SUMS_FILE = "SHA256SUMS"


@dataclass(frozen=True)
class PackagedChart:
    name: str
    version: str
    path: Path
    sha256: str
    size: int
    dependencies: tuple[str, ...] = ()  # names of the charts embedded in this archive
    provenance: Path | None = None

    @property
    def digest(self) -> str:
        """The OCI digest of this archive as a chart layer (``sha256:<hex>``)."""
        return f"sha256:{self.sha256}"

    @property
    def archive_name(self) -> str:
        return self.path.name


@dataclass(frozen=True)
class PackageResult:
    out_dir: Path
    charts: tuple[PackagedChart, ...]  # dependencies before the charts that embed them
    sums_file: Path

    def to_dict(self) -> dict[str, object]:
        """The ``--output json`` form."""
        return {
            "out_dir": str(self.out_dir),
            "sums_file": str(self.sums_file),
            "charts": [
                {
                    "name": c.name, "version": c.version, "path": str(c.path), "digest": c.digest,
                    "size": c.size, "embeds": list(c.dependencies),
                    "provenance": str(c.provenance) if c.provenance else None,
                }
                for c in self.charts
            ],
        }  # fmt: skip

    def get(self, name: str) -> PackagedChart:
        for chart in self.charts:
            if chart.name == name:
                return chart
        raise KeyError(name)


def chart_members(chart: LocalChart, archives: dict[str, bytes]) -> dict[str, bytes]:
    """Archive members of ``chart``; ``archives`` maps already-packaged chart names to bytes."""
    members = {f"{chart.name}/{rel}": data for rel, data in chart_files(chart).items()}
    if chart.dependencies:
        locked = [
            {"name": d.name, "repository": d.repository, "version": d.version} for d in chart.dependencies
        ]
        members[f"{chart.name}/Chart.lock"] = chart_lock([d.declared for d in chart.dependencies], locked)
        for dep in chart.dependencies:
            members[f"{chart.name}/charts/{dep.name}-{dep.version}.tgz"] = archives[dep.name]
    return members


def _write(path: Path, data: bytes) -> None:
    """Atomic write; the file's mtime is fixed too, since ``helm push`` stamps it into the manifest."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data)
    os.chmod(tmp, 0o644)
    os.utime(tmp, (FIXED_MTIME, FIXED_MTIME))
    os.replace(tmp, path)


def package_charts(
    charts_dir: Path, out_dir: Path, *, signer: Signer | None = None, only: Collection[str] | None = None
) -> PackageResult:
    """Package every chart under ``charts_dir`` (or the ``only`` ones) into ``out_dir``; optionally sign them.

    With ``only``, every chart is still archived in memory (an umbrella embeds its sub-charts'
    archives) but only the selected ones are written, signed and listed in ``SHA256SUMS``.

    Everything is written into a staging folder inside ``out_dir`` first: a full disk or any
    failure there leaves ``out_dir`` as it was (no new sub-chart beside an old umbrella, no
    ``SHA256SUMS`` that fails). Then the files are renamed into place (no space needed),
    ``SHA256SUMS`` last. A ``.prov`` left from an earlier signed run beside an archive that is
    not signed this time is removed: provenance always matches the archive beside it.
    """
    charts = discover(charts_dir)
    archives: dict[str, bytes] = {}
    for chart in charts:
        archives[chart.name] = write_tgz(chart_members(chart, archives))
    charts = tuple(c for c in charts if only is None or c.name in only)
    signed: dict[str, bytes] = {}
    if signer is not None:
        items = [(archives[c.name], c.archive_name, c.metadata) for c in charts]
        for chart, text in zip(charts, sign_archives(items, signer), strict=True):
            signed[chart.name] = text.encode("utf-8")
    packaged = [
        PackagedChart(
            chart.name,
            chart.version,
            out_dir / chart.archive_name,
            sha256_hex(archives[chart.name]),
            len(archives[chart.name]),
            tuple(d.name for d in chart.dependencies),
            out_dir / f"{chart.archive_name}.prov" if chart.name in signed else None,
        )
        for chart in charts
    ]
    sums = "".join(f"{p.sha256}  {p.archive_name}\n" for p in sorted(packaged, key=lambda p: p.archive_name))
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=".chartforge-package-", dir=out_dir))
    except OSError as exc:
        raise UserError(f"cannot create the output folder: {exc.strerror or exc}", path=out_dir) from exc
    try:
        try:
            for chart in charts:
                _write(stage / chart.archive_name, archives[chart.name])
                if chart.name in signed:
                    _write(stage / f"{chart.archive_name}.prov", signed[chart.name])
            _write(stage / SUMS_FILE, sums.encode("ascii"))
        except OSError as exc:
            raise UserError(
                f"cannot write the packages: {exc.strerror or exc}; {out_dir} is unchanged", path=out_dir
            ) from exc
        for chart in charts:
            os.replace(stage / chart.archive_name, out_dir / chart.archive_name)
            prov = out_dir / f"{chart.archive_name}.prov"
            if chart.name in signed:
                os.replace(stage / prov.name, prov)
            else:
                prov.unlink(missing_ok=True)  # stale: it signs another archive
        os.replace(stage / SUMS_FILE, out_dir / SUMS_FILE)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return PackageResult(out_dir, tuple(packaged), out_dir / SUMS_FILE)
