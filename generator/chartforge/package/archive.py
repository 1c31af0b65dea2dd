"""Byte-reproducible chart archives: the exact layout helm reads, nothing that varies.

A chart archive is a gzip-compressed tar whose members are ``<chart>/<path>`` regular files
(helm's loader needs no directory entries). Everything that usually leaks the build
environment into the bytes is fixed here: member order (``Chart.yaml`` first, the rest
sorted), modification times (:data:`FIXED_MTIME`), owner (uid/gid 0, no names), mode
(``0644``, what ``helm package`` writes too), the gzip header (mtime 0, no file name, OS
"unknown") and the compression level. The build clock, the checkout's file times, the
umask and the time zone therefore cannot change a single byte.

:data:`FIXED_MTIME` is a constant on purpose, not ``SOURCE_DATE_EPOCH``: if the archive
bytes followed the commit time, every commit would change the digest of charts whose
content did not change, and publishing would refuse them as "same version, different
content".
"""

from __future__ import annotations

import gzip
import hashlib
import io
import tarfile
from collections.abc import Mapping

FIXED_MTIME = 0  # 1970-01-01T00:00:00Z, for tar members, the .tgz file itself and Chart.lock
FILE_MODE = 0o644
GZIP_LEVEL = 9


def _member_order(name: str) -> tuple[int, str]:
    # Chart.yaml first, as helm writes it, so tools that stream the archive meet it first.
    _, _, rest = name.partition("/")
    return (0 if rest == "Chart.yaml" else 1, name)


def write_tgz(members: Mapping[str, bytes]) -> bytes:
    """Deterministic ``.tgz`` of ``{archive path: bytes}`` (paths already prefixed by the chart name)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT, encoding="utf-8") as tar:
        for name in sorted(members, key=_member_order):
            data = members[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = FIXED_MTIME
            info.mode = FILE_MODE
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.type = tarfile.REGTYPE
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), compresslevel=GZIP_LEVEL, mtime=FIXED_MTIME)


def read_tgz(data: bytes) -> dict[str, bytes]:
    """Regular-file members of a chart archive, ``{path: bytes}`` (for comparisons and tests)."""
    out: dict[str, bytes] = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for info in tar.getmembers():
            if info.isfile():
                extracted = tar.extractfile(info)
                out[info.name] = extracted.read() if extracted is not None else b""
    return out


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
