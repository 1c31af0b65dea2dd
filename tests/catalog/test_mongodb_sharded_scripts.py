"""The mongodb-sharded chart's scripts, run for real against stand-ins.

bootstrap.js and backup-prepare.js run under node with ``fake_mongosh.js`` (mongosh's globals
and a modelled sharded cluster that records every state-changing command); backup-dump.sh and
backup-upload.sh run under sh/bash with fake ``mongosh``, ``mongodump`` and ``aws`` commands on
PATH. Scripts and topology come from the chart rendered with the staging values (3 config
servers, 2 shards of 3 members). Needs node (and bash, GNU date).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from tests.catalog.conftest import find, rendered
from tests.conftest import require_tool

pytestmark = pytest.mark.helm

HARNESS = Path(__file__).with_name("fake_mongosh.js")
KEYFILE = "k3yf1le" * 100
PASSWORDS = {"root": "r00t/pa ss:@", "metrics": "m3trics", "backup": "b&ckup%"}


@dataclass
class Env:
    root: Path
    scripts: Path
    secrets: Path
    topology: dict[str, Any]

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    def state(self) -> dict[str, Any]:
        return dict(json.loads(self.state_file.read_text()))

    def write_state(self, state: dict[str, Any]) -> None:
        self.state_file.write_text(json.dumps(state))

    def write_topology(self) -> None:
        (self.scripts / "topology.json").write_text(json.dumps(self.topology))

    def variables(self, **extra: str) -> dict[str, str]:
        return {
            **os.environ,
            "TOPOLOGY_FILE": str(self.scripts / "topology.json"),
            "SECRETS_DIR": str(self.secrets),
            "ROOT_USER": "root",
            "METRICS_USER": "metrics",
            "BACKUP_USER": "backup",
            "MONGO_TLS": "false",
            "TLS_DIR": str(self.root / "tls"),
            "WAIT_SECONDS": "30",
            "BOOTSTRAP_SCOPE": "all",
            "RUNTIME_DIR": str(self.root / "runtime"),
            **extra,
        }

    def run_js(
        self, script: str, **extra: str
    ) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
        """Run ``script`` once; returns its result and the state-changing commands it sent."""
        self.write_state({**self.state(), "actions": []})
        done = subprocess.run(
            ["node", str(HARNESS), str(self.state_file), str(self.scripts / script)],
            env=self.variables(**extra), capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        return done, list(self.state()["actions"])


def _config_map() -> dict[str, str]:
    (cm,) = find(rendered("mongodb-sharded", "staging"), "ConfigMap", "-config")
    return dict(cm["data"])


@pytest.fixture
def env(tmp_path: Path) -> Iterator[Env]:
    require_tool("node")  # Debian's nodejs, installed by ci/install.sh
    data = _config_map()
    scripts = tmp_path / "scripts"
    scripts.mkdir()
    for name, text in data.items():
        (scripts / name).write_text(text)
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "mongodb-keyfile").write_text(KEYFILE + "\n")
    for user, password in PASSWORDS.items():
        (secrets / f"mongodb-{user}-password").write_text(password)
    (tmp_path / "runtime").mkdir()
    topology = json.loads(data["topology.json"])
    e = Env(tmp_path, scripts, secrets, topology)
    sets = [topology["configsvr"], *topology["shards"]]
    e.write_state({
        "keyfile": KEYFILE, "mongos": topology["mongos"], "shards": [], "balancer": "full",
        "replicaSets": {rs["name"]: {"members": rs["members"], "initiated": False, "config": None, "users": {}}
                        for rs in sets},
    })  # fmt: skip
    yield e


def kinds(actions: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(a["action"], a.get("rs") or a.get("name") or "") for a in actions]


def test_first_run_initiates_creates_users_and_adds_shards(env: Env) -> None:
    done, actions = env.run_js("bootstrap.js")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "bootstrap: cluster ok" in done.stdout
    assert env.state()["telemetryDisabled"] is True
    cfg = env.topology["configsvr"]["name"]
    shards = [s["name"] for s in env.topology["shards"]]
    initiated = [a for a in actions if a["action"] == "replSetInitiate"]
    assert [(a["rs"], a["configsvr"]) for a in initiated] == [(cfg, True)] + [(s, False) for s in shards]
    assert initiated[0]["members"] == env.topology["configsvr"]["members"]
    users = sorted((a["rs"], a["user"]) for a in actions if a["action"] == "createUser")
    assert users == sorted((rs, u) for rs in [cfg, *shards] for u in ("root", "metrics", "backup"))
    assert [a["name"] for a in actions if a["action"] == "addShard"] == shards
    state = env.state()
    assert state["replicaSets"][cfg]["users"]["metrics"]["roles"] == [
        {"role": "clusterMonitor", "db": "admin"}, {"role": "read", "db": "local"},
    ]  # fmt: skip


def test_second_run_changes_nothing(env: Env) -> None:
    assert env.run_js("bootstrap.js")[0].returncode == 0
    done, actions = env.run_js("bootstrap.js")
    assert done.returncode == 0, done.stdout + done.stderr
    assert actions == []


def test_rotated_password_updates_the_user_everywhere(env: Env) -> None:
    assert env.run_js("bootstrap.js")[0].returncode == 0
    (env.secrets / "mongodb-root-password").write_text("n3w-r00t")
    done, actions = env.run_js("bootstrap.js")
    assert done.returncode == 0, done.stdout + done.stderr
    assert {(a["action"], a["user"], a["pwd"]) for a in actions} == {("updateUser", "root", True)}
    assert len(actions) == 1 + len(env.topology["shards"])


def test_scale_up_adds_members_one_reconfig_at_a_time_and_new_shards(env: Env) -> None:
    assert env.run_js("bootstrap.js")[0].returncode == 0
    state = env.state()
    shard0 = env.topology["shards"][0]
    new_members = [shard0["members"][0].replace("-0.", f"-{i}.") for i in (3, 4)]
    shard0["members"] = shard0["members"] + new_members
    state["replicaSets"][shard0["name"]]["members"] += new_members
    shard2 = {"name": shard0["name"].replace("shard0", "shard2"),
              "members": [m.replace("shard0", "shard2") for m in shard0["members"][:3]]}  # fmt: skip
    env.topology["shards"].append(shard2)
    state["replicaSets"][shard2["name"]] = {
        "members": shard2["members"],
        "initiated": False,
        "config": None,
        "users": {},
    }
    env.write_state(state)
    env.write_topology()
    done, actions = env.run_js("bootstrap.js")
    assert done.returncode == 0, done.stdout + done.stderr
    reconfigs = [a["added"] for a in actions if a["action"] == "replSetReconfig"]
    assert reconfigs == [[new_members[0]], [new_members[1]]]
    assert kinds([a for a in actions if a["action"] in ("replSetInitiate", "addShard")]) == [
        ("replSetInitiate", shard2["name"]), ("addShard", shard2["name"]),
    ]  # fmt: skip


def test_config_server_scope_only_initiates_the_config_replica_set(env: Env) -> None:
    done, actions = env.run_js("bootstrap.js", BOOTSTRAP_SCOPE="configsvr")
    assert done.returncode == 0, done.stdout + done.stderr
    assert kinds(actions) == [("replSetInitiate", env.topology["configsvr"]["name"])]
    # the hook afterwards finds it initiated and does the rest
    done, actions = env.run_js("bootstrap.js")
    assert done.returncode == 0 and ("replSetInitiate", env.topology["configsvr"]["name"]) not in kinds(
        actions
    )


def test_an_unreachable_member_fails_the_job_after_the_deadline(env: Env) -> None:
    state = env.state()
    state["down"] = [env.topology["shards"][1]["members"][2]]
    env.write_state(state)
    done, actions = env.run_js("bootstrap.js", WAIT_SECONDS="1")
    assert done.returncode == 1
    assert "FAILED: timed out" in done.stdout and state["down"][0] in done.stdout
    assert ("addShard", env.topology["shards"][1]["name"]) not in kinds(actions)


def test_backup_prepare_writes_one_dump_config_per_replica_set(env: Env) -> None:
    assert env.run_js("bootstrap.js")[0].returncode == 0
    done, _ = env.run_js("backup-prepare.js", BACKUP_ACTION="configs")
    assert done.returncode == 0, done.stdout + done.stderr
    names = [env.topology["configsvr"]["name"]] + [s["name"] for s in env.topology["shards"]]
    assert done.stdout.split() == names
    for rs in [env.topology["configsvr"], *env.topology["shards"]]:
        config = env.root / "runtime" / f"{rs['name']}.yaml"
        assert config.stat().st_mode & 0o077 == 0
        text = config.read_text()
        assert "backup:b%26ckup%25@" in text and f"replicaSet={rs['name']}" in text
        assert ",".join(rs["members"]) in text


def _shim(path: Path, body: str) -> None:
    path.write_text(body)
    path.chmod(0o755)


def test_backup_dump_restarts_the_balancer_even_when_a_dump_fails(env: Env) -> None:
    assert env.run_js("bootstrap.js")[0].returncode == 0
    env.write_state({**env.state(), "actions": []})
    bin_dir = env.root / "bin"
    bin_dir.mkdir()
    # mongosh shim: the script is its last argument
    _shim(
        bin_dir / "mongosh",
        '#!/bin/sh\ncase "$*" in *--eval*) exit 0 ;; esac\neval "script=\\${$#}"\nexec node "'
        + str(HARNESS)
        + '" "$STATE_FILE" "$script"\n',
    )
    _shim(bin_dir / "mongodump", '#!/bin/sh\n'
          'for a in "$@"; do case "$a" in --archive=*) out="${a#--archive=}";; --config=*) cfg="${a#--config=}";; esac; done\n'
          'echo "$*" >> "$DUMP_LOG"\n'
          'case "$cfg" in *"$FAIL_ON"*) [ -n "$FAIL_ON" ] && exit 7;; esac\n'
          'echo archive > "$out"\n')  # fmt: skip
    spool = env.root / "spool"
    spool.mkdir()
    variables = env.variables(
        PATH=f"{bin_dir}{os.pathsep}{os.environ['PATH']}", STATE_FILE=str(env.state_file), SCRIPTS_DIR=str(env.scripts),
        SPOOL_DIR=str(spool), STOP_BALANCER="true", DUMP_LOG=str(env.root / "dump.log"), FAIL_ON="",
    )  # fmt: skip
    ok = subprocess.run(["sh", str(env.scripts / "backup-dump.sh")], env=variables, capture_output=True, text=True,
                        timeout=120)  # fmt: skip
    assert ok.returncode == 0, ok.stdout + ok.stderr
    stamp = (spool / "latest").read_text().strip()
    names = [env.topology["configsvr"]["name"]] + [s["name"] for s in env.topology["shards"]]
    assert sorted(p.name for p in (spool / stamp).iterdir()) == sorted(
        [f"{n}.archive.gz" for n in names] + ["topology.json"]
    )
    assert all("--oplog --gzip" in line for line in (env.root / "dump.log").read_text().splitlines())
    assert kinds(env.state()["actions"]) == [("balancerStop", ""), ("balancerStart", "")]
    variables["FAIL_ON"] = env.topology["shards"][0]["name"]
    env.write_state({**env.state(), "actions": []})
    failed = subprocess.run(["sh", str(env.scripts / "backup-dump.sh")], env=variables, capture_output=True,
                            text=True, timeout=120)  # fmt: skip
    assert failed.returncode == 7
    assert kinds(env.state()["actions"]) == [("balancerStop", ""), ("balancerStart", "")]
    assert env.state()["balancer"] == "full"


AWS = """#!/bin/sh
# fake aws: logs every call; `s3 ls` prints the listing in $LISTING
echo "$*" >> "$AWS_LOG"
for a in "$@"; do
  if [ "$a" = "ls" ]; then cat "$LISTING"; fi
done
"""


def test_backup_upload_copies_the_set_and_deletes_only_expired_sets(env: Env) -> None:
    require_tool("bash")
    bin_dir = env.root / "bin"
    bin_dir.mkdir()
    _shim(bin_dir / "aws", AWS)
    now = datetime.now(UTC)
    old = (now - timedelta(days=31)).strftime("%Y%m%dT%H%M%SZ")
    recent = (now - timedelta(days=29)).strftime("%Y%m%dT%H%M%SZ")
    listing = env.root / "listing"
    listing.write_text(f"                           PRE {old}/\n                           PRE {recent}/\n"
                       f"                           PRE manual-copy/\n2024-01-01 00:00:00  12 README\n")  # fmt: skip
    spool = env.root / "spool"
    (spool / recent).mkdir(parents=True)
    (spool / "latest").write_text(recent + "\n")
    creds = env.root / "s3"
    creds.mkdir()
    (creds / "AWS_ACCESS_KEY_ID").write_text("AKIA")
    (creds / "AWS_SECRET_ACCESS_KEY").write_text("s3cr3t")
    (creds / "S3_BUCKET").write_text("from-secret")
    log = env.root / "aws.log"
    variables = {
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "HOME": str(env.root), "AWS_LOG": str(log),
        "LISTING": str(listing), "S3_CREDENTIALS_DIR": str(creds), "S3_ENDPOINT": "https://minio.example:9000",
        "S3_BUCKET": "from-values", "S3_REGION": "eu-west-1", "S3_PREFIX": "mongodb-sharded", "S3_PATH_STYLE": "true",
        "SPOOL_DIR": str(spool), "RETENTION_DAYS": "30",
    }  # fmt: skip
    done = subprocess.run(["bash", str(env.scripts / "backup-upload.sh")], env=variables, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    calls = log.read_text().splitlines()
    endpoint = "--endpoint-url https://minio.example:9000"
    assert calls[0] == f"{endpoint} s3 cp --recursive --only-show-errors {spool}/{recent}/ " \
                       f"s3://from-secret/mongodb-sharded/{recent}/"  # fmt: skip
    removed = [c for c in calls if " s3 rm " in c]
    assert removed == [
        f"{endpoint} s3 rm --recursive --only-show-errors s3://from-secret/mongodb-sharded/{old}/"
    ]
    assert "addressing_style = path" in (env.root / ".aws" / "config").read_text()
    (creds / "AWS_SECRET_ACCESS_KEY").unlink()
    missing = subprocess.run(["bash", str(env.scripts / "backup-upload.sh")], env=variables, capture_output=True,
                             text=True, timeout=60)  # fmt: skip
    assert missing.returncode == 1 and "AWS_SECRET_ACCESS_KEY" in missing.stderr
