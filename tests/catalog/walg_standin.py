#!/usr/bin/python3
"""Stand-in for WAL-G (no package of it exists here): the commands the drill, archiving and the
walg-status report use.

``backup-push DIR``, ``backup-fetch DIR LATEST``, ``wal-push PATH``, ``wal-fetch NAME DEST``,
``backup-list --json --detail`` against
a real S3 API (moto's server on 127.0.0.1) under ``WALG_S3_PREFIX`` at ``AWS_ENDPOINT``, in a
layout like WAL-G's (basebackups_005/, wal_005/). Base backups are tarballs of a
``pg_basebackup`` directory, not WAL-G's format; requests are path-style with a dummy signature (moto's
server does not check signatures). Standard library only: it runs as PostgreSQL's archive_command.
"""

from __future__ import annotations

import io
import json
import os
import sys
import tarfile
import time
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path


def url(key: str = "", query: str = "") -> str:
    bucket, _, prefix = os.environ["WALG_S3_PREFIX"].removeprefix("s3://").partition("/")
    path = f"{prefix.strip('/')}/{key}" if key else ""
    return f"{os.environ['AWS_ENDPOINT'].rstrip('/')}/{bucket}/{path}{query}"


# moto's server does not verify signatures, but treats a request without one as anonymous.
AUTH = {"Authorization": "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, "
        "SignedHeaders=host, Signature=0"}  # fmt: skip


def request(target: str, data: bytes | None = None, method: str = "GET") -> bytes:
    headers = {**AUTH, "Content-Type": "application/octet-stream"}
    with urllib.request.urlopen(
        urllib.request.Request(target, data=data, method=method, headers=headers), timeout=30
    ) as r:
        return bytes(r.read())


def put(key: str, data: bytes) -> None:
    request(url(key), data, "PUT")


def get(key: str) -> bytes:
    return request(url(key))


def main(argv: list[str]) -> int:
    command = argv[0]
    if command == "backup-push":
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w:gz") as tar:
            tar.add(argv[1], arcname=".", filter=lambda t: None if t.name.endswith("postmaster.pid") else t)
        started = time.time()
        name = f"base_{time.time_ns()}"
        put(f"basebackups_005/{name}.tar.gz", buf.getvalue())
        # Like WAL-G, the stop sentinel is written last, only after the data is uploaded: only
        # backups with one are listed by backup-list.
        sentinel = {"StartTime": rfc3339(started), "FinishTime": rfc3339(time.time()), "Hostname": "standin"}
        put(f"basebackups_005/{name}_backup_stop_sentinel.json", json.dumps(sentinel).encode())
    elif command == "backup-list":
        if argv[1:] != ["--json", "--detail"]:
            print(f"unsupported: backup-list {' '.join(argv[1:])}", file=sys.stderr)
            return 2
        prefix = os.environ["WALG_S3_PREFIX"].removeprefix("s3://").partition("/")[2].strip("/")
        listing = []
        for key in sorted(get_listing(f"{prefix}/basebackups_005/")):
            if key.endswith("_backup_stop_sentinel.json"):
                sentinel = json.loads(get(key.removeprefix(prefix + "/")))
                name = key.rsplit("/", 1)[1].removesuffix("_backup_stop_sentinel.json")
                # the fields of WAL-G's `backup-list --json --detail` the report reads
                listing.append({"backup_name": name, "time": sentinel["FinishTime"], "start_time": sentinel["StartTime"],
                                "finish_time": sentinel["FinishTime"], "hostname": sentinel["Hostname"]})  # fmt: skip
        if listing:
            print(json.dumps(listing))
        else:
            print("INFO: No backups found", file=sys.stderr)  # WAL-G: nothing on stdout, exit 0
    elif command == "backup-fetch":
        prefix = os.environ["WALG_S3_PREFIX"].removeprefix("s3://").partition("/")[2].strip("/")
        listing = [k for k in get_listing(f"{prefix}/basebackups_005/") if k.endswith(".tar.gz")]
        if not listing:
            print("no base backup", file=sys.stderr)
            return 1
        key = max(listing).removeprefix(prefix + "/")
        with tarfile.open(fileobj=io.BytesIO(get(key)), mode="r:gz") as tar:
            tar.extractall(argv[1])  # our own test tarball
    elif command == "wal-push":
        put(f"wal_005/{Path(argv[1]).name}", Path(argv[1]).read_bytes())
    elif command == "wal-fetch":
        try:
            Path(argv[2]).write_bytes(get(f"wal_005/{argv[1]}"))
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return 1  # end of the archive: recovery stops here
            raise
    else:
        print(f"unsupported: {command}", file=sys.stderr)
        return 2
    return 0


def rfc3339(when: float) -> str:
    """WAL-G's time format (Go's RFC3339Nano, UTC)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(when)) + f".{int(when % 1 * 1e9):09d}Z"


def get_listing(prefix: str) -> list[str]:
    bucket = os.environ["WALG_S3_PREFIX"].removeprefix("s3://").partition("/")[0]
    endpoint = os.environ["AWS_ENDPOINT"].rstrip("/")
    root = ET.fromstring(request(f"{endpoint}/{bucket}?list-type=2&prefix={prefix}"))
    return [el.text or "" for el in root.iter() if el.tag.endswith("}Key") or el.tag == "Key"]


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
