#!/usr/bin/env python3
"""A stand-in for Percona Backup for MongoDB's ``pbm`` CLI and ``pbm-agent`` (no package here).

Installed on PATH under both names by test_mongodb_sharded_pbm.py. It keeps what PBM keeps in
the cluster (its configuration, the agents that registered) in ``$PBM_STATE`` (JSON) and what PBM
keeps in the object store in the real S3 API (moto's server on 127.0.0.1, through boto3): one
``<prefix>/<name>.pbm.json`` metadata object per snapshot, as PBM writes, plus the snapshot's data.
The data is the ``databases`` of the fake_mongosh cluster state in ``$CLUSTER_STATE``: a backup
reads it, a restore writes it, so the chart's integrity checks see what was restored.

Checks what the real tools require: a connection string in PBM_MONGODB_URI (its password must be
``$EXPECT_PASSWORD``, or the content of ``$EXPECT_PASSWORD_FILE``, when set: the scripts
percent-encode it), no credentials in the configuration
file (they come from the environment or the workload identity), PITR off and one agent per replica
set for a restore. Every call is appended to ``actions`` in the state.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import sys
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3  # type: ignore[import-untyped]
import yaml

STATE = Path(os.environ["PBM_STATE"])


@contextlib.contextmanager
def locked() -> Iterator[None]:
    """Agents start together: one read-modify-write of the state at a time."""
    with STATE.with_suffix(".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def load() -> dict[str, Any]:
    return dict(json.loads(STATE.read_text())) if STATE.exists() else {"actions": [], "agents": {}}


def save(state: dict[str, Any]) -> None:
    tmp = STATE.with_suffix(".tmp")
    tmp.write_text(json.dumps(state, indent=2))
    tmp.replace(STATE)


def fail(message: str) -> None:
    print(f"Error: {message}", file=sys.stderr)
    sys.exit(1)


def connection() -> urllib.parse.SplitResult:
    uri = os.environ.get("PBM_MONGODB_URI", "")
    if not uri.startswith("mongodb://"):
        fail("PBM_MONGODB_URI is not set")
    parsed = urllib.parse.urlsplit(uri)
    expected = os.environ.get("EXPECT_PASSWORD")
    if os.environ.get("EXPECT_PASSWORD_FILE"):  # the user's password as mongod knows it now
        expected = Path(os.environ["EXPECT_PASSWORD_FILE"]).read_text()
    if expected is not None and urllib.parse.unquote(parsed.password or "") != expected:
        fail("authentication failed")
    return parsed


def bucket(state: dict[str, Any]) -> tuple[Any, str, str]:
    s3 = state.get("config", {}).get("storage", {}).get("s3")
    if not s3:
        fail("storage is not configured")
    client = boto3.client("s3", endpoint_url=s3.get("endpointUrl"), region_name=s3["region"])
    return client, s3["bucket"], s3["prefix"]


def snapshots(state: dict[str, Any]) -> list[dict[str, Any]]:
    client, name, prefix = bucket(state)
    listing = client.list_objects_v2(Bucket=name, Prefix=f"{prefix}/")
    out = []
    for item in listing.get("Contents", []):
        key = item["Key"]
        if key.endswith(".pbm.json") and key.count("/") == prefix.count("/") + 1:
            out.append(json.loads(client.get_object(Bucket=name, Key=key)["Body"].read()))
    return sorted(out, key=lambda m: m["name"])


def cluster() -> dict[str, Any]:
    return dict(json.loads(Path(os.environ["CLUSTER_STATE"]).read_text()))


def agent() -> None:
    """pbm-agent: registers its node, then runs until terminated (like the real agent)."""
    parsed = connection()
    node = parsed.netloc.rsplit("@", 1)[-1]
    with locked():
        state = load()
        state["agents"][node] = os.getpid()
        state["actions"].append(
            {
                "action": "agent",
                "node": node,
                "user": urllib.parse.unquote(parsed.username or ""),
                "query": parsed.query,
                "key": os.environ.get("AWS_ACCESS_KEY_ID"),
            }
        )
        save(state)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        time.sleep(1)


def command(args: list[str]) -> None:
    parsed = connection()
    with locked():
        state = load()
        state["actions"].append(
            {
                "action": " ".join(args),
                "user": urllib.parse.unquote(parsed.username or ""),
                "query": parsed.query,
                "key": os.environ.get("AWS_ACCESS_KEY_ID"),
            }
        )
        save(state)
    options: dict[str, str] = {}
    words: list[str] = []
    rest = list(args)
    while rest:  # cobra's forms: --name=value, --name value (value options), -o value, --flag
        arg = rest.pop(0)
        if arg.startswith("--") and "=" in arg:
            key, value = arg[2:].split("=", 1)
            options[key] = value
        elif arg in ("--file", "--time", "--out", "-o") and rest:
            options[arg.lstrip("-")] = rest.pop(0)
        elif arg.startswith("-"):
            options[arg.lstrip("-")] = ""
        else:
            words.append(arg)
    if words[:1] == ["config"] and "file" in options:
        config = yaml.safe_load(Path(options["file"]).read_text())
        if "credentials" in config["storage"]["s3"]:
            fail("the test wants no credentials in the configuration file")
        with locked():
            state = load()
            state["config"] = config
            save(state)
    elif words[:1] == ["config"] and "force-resync" in options:
        bucket(state)
    elif words[:1] == ["list"]:
        print(json.dumps({"snapshots": snapshots(state), "pitr": {"on": state["config"]["pitr"]["enabled"]}}))
    elif words[:1] == ["backup"]:
        client, name, prefix = bucket(state)
        stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        data = {"databases": cluster().get("databases", {})}
        client.put_object(Bucket=name, Key=f"{prefix}/{stamp}/data.json", Body=json.dumps(data).encode())
        meta = {
            "name": stamp,
            "type": options.get("type"),
            "compression": options.get("compression"),
            "status": "done",
        }
        client.put_object(Bucket=name, Key=f"{prefix}/{stamp}.pbm.json", Body=json.dumps(meta).encode())
        print(f"Starting backup '{stamp}'....Backup '{stamp}' to remote store 's3://{name}/{prefix}'")
    elif words[:1] == ["cleanup"]:
        client, name, prefix = bucket(state)
        days = int(options["older-than"].removesuffix("d"))
        cutoff = (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")
        kept = snapshots(state)
        for snap in kept[:-1]:  # PBM keeps the newest snapshot whatever its age
            if snap["name"] < cutoff:
                client.delete_object(Bucket=name, Key=f"{prefix}/{snap['name']}.pbm.json")
                client.delete_object(Bucket=name, Key=f"{prefix}/{snap['name']}/data.json")
    elif words[:1] == ["restore"]:
        if state["config"]["pitr"]["enabled"]:
            fail("PITR is enabled: disable it before a restore")
        sets = cluster()["replicaSets"]
        if len(state["agents"]) != len(sets):
            fail(f"{len(state['agents'])} agents for {len(sets)} replica sets")
        client, name, prefix = bucket(state)
        listed = [m["name"] for m in snapshots(state) if m["status"] == "done"]
        if "time" in options:  # the newest snapshot before the point in time, then its oplog
            before = [n for n in listed if n <= options["time"] + "Z"]
            target = before[-1] if before else ""
        else:
            target = words[1] if len(words) > 1 else ""
        if target not in listed:
            fail(f"backup '{target}' not found")
        data = json.loads(client.get_object(Bucket=name, Key=f"{prefix}/{target}/data.json")["Body"].read())
        time.sleep(float(os.environ.get("RESTORE_SECONDS", "0")))
        path = Path(os.environ["CLUSTER_STATE"])
        restored = cluster()
        restored["databases"] = data["databases"]
        path.write_text(json.dumps(restored))
        print(f"Restore of the snapshot from '{target}' has started....Restore successfully finished!")
    else:
        fail(f"unknown command {args}")


if __name__ == "__main__":
    if os.environ.get("PBM_FAKE_AS") == "agent":  # set by the pbm-agent shim
        agent()
    else:
        command(sys.argv[1:])
