"""The archive writer fixes every byte that usually depends on the build environment."""

from __future__ import annotations

import gzip
import io
import tarfile

from chartforge.package.archive import FIXED_MTIME, read_tgz, write_tgz


def test_roundtrip_and_member_order() -> None:
    data = write_tgz({"c/values.yaml": b"v", "c/templates/a.yaml": b"a", "c/Chart.yaml": b"name: c\n"})
    assert read_tgz(data) == {"c/Chart.yaml": b"name: c\n", "c/templates/a.yaml": b"a", "c/values.yaml": b"v"}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        names = tar.getnames()
        assert names == ["c/Chart.yaml", "c/templates/a.yaml", "c/values.yaml"]
        for member in tar.getmembers():
            assert (member.mtime, member.mode, member.uid, member.gid) == (FIXED_MTIME, 0o644, 0, 0)
            assert (member.uname, member.gname) == ("", "")
            assert member.isfile()


def test_gzip_header_has_no_time_and_no_name() -> None:
    data = write_tgz({"c/Chart.yaml": b"x"})
    assert data[:3] == b"\x1f\x8b\x08"
    flags, mtime = data[3], int.from_bytes(data[4:8], "little")
    assert flags == 0, "no FNAME/FCOMMENT/FEXTRA"
    assert mtime == 0
    assert gzip.decompress(data)


def test_insertion_order_does_not_matter() -> None:
    members = {f"c/f{i}.txt": bytes([i]) * i for i in range(20)} | {"c/Chart.yaml": b"x"}
    assert write_tgz(members) == write_tgz(dict(reversed(list(members.items()))))
