"""The mongodb-sharded chart's bootstrap script, run for real against a stand-in.

MongoDB and mongosh have no package here: bootstrap.js runs under node with ``fake_mongosh.js``
(mongosh's globals and a modelled sharded cluster that records every state-changing command).
Scripts and topology come from the chart rendered with the staging values (3 config servers,
2 shards of 3 members). Needs node. The other scripts: test_mongodb_sharded_reload.py
(entrypoint.sh, reload.js) and test_mongodb_sharded_pbm.py (backup, restore, drill).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
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
    # PBM's role exists on every replica set before the backup user that holds it
    roles = [(a["rs"], a["role"]) for a in actions if a["action"] == "createRole"]
    assert roles == [(rs, "pbmAnyAction") for rs in [cfg, *shards]]
    for rs in [cfg, *shards]:
        order = [(a["action"], a.get("user") or a.get("role")) for a in actions if a.get("rs") == rs]
        assert order.index(("createRole", "pbmAnyAction")) < order.index(("createUser", "backup"))
    assert [a["name"] for a in actions if a["action"] == "addShard"] == shards
    state = env.state()
    assert state["replicaSets"][cfg]["users"]["metrics"]["roles"] == [
        {"role": "clusterMonitor", "db": "admin"}, {"role": "read", "db": "local"},
    ]  # fmt: skip
    backup_roles = {r["role"] for r in state["replicaSets"][shards[0]]["users"]["backup"]["roles"]}
    assert backup_roles == {"backup", "clusterMonitor", "readWrite", "restore", "pbmAnyAction"}
    assert state["replicaSets"][cfg]["roles"]["pbmAnyAction"]["privileges"] == [
        {"resource": {"anyResource": True}, "actions": ["anyAction"]}
    ]


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


def test_users_scope_only_updates_users_of_a_running_cluster(env: Env) -> None:
    """What the first config server runs when the mounted auth Secret changes (rotation)."""
    assert env.run_js("bootstrap.js")[0].returncode == 0
    (env.secrets / "mongodb-backup-password").write_text("r0tated")
    done, actions = env.run_js("bootstrap.js", BOOTSTRAP_SCOPE="users")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "bootstrap: users ok" in done.stdout
    sets = [env.topology["configsvr"]["name"]] + [s["name"] for s in env.topology["shards"]]
    assert [(a["action"], a["rs"], a["user"]) for a in actions] == [
        ("updateUser", rs, "backup") for rs in sets
    ]
    assert all(env.state()["replicaSets"][rs]["users"]["backup"]["pwd"] == "r0tated" for rs in sets)


def test_users_scope_never_initiates_anything(env: Env) -> None:
    done, actions = env.run_js("bootstrap.js", BOOTSTRAP_SCOPE="users", WAIT_SECONDS="1")
    assert done.returncode == 1 and "FAILED: timed out" in done.stdout
    assert actions == []


def test_a_keyfile_listing_two_keys_authenticates_with_the_first(env: Env) -> None:
    """Keyfile rotation (README): members accept every listed key and send the first one."""
    new_key = "n3wk3y" * 100
    (env.secrets / "mongodb-keyfile").write_text(f"- {KEYFILE}\n- {new_key}\n")
    done, _ = env.run_js("bootstrap.js")
    assert done.returncode == 0, done.stdout + done.stderr
    state = env.state()
    state["keyfile"] = new_key
    env.write_state(state)
    (env.secrets / "mongodb-keyfile").write_text(f"- '{new_key}'\n- {KEYFILE}\n")
    done, actions = env.run_js("bootstrap.js")
    assert done.returncode == 0, done.stdout + done.stderr
    assert actions == []


def test_feature_compatibility_version_warns_after_an_upgrade_and_is_set_on_request(env: Env) -> None:
    state = env.state()
    state.update(fcv="7.0", binaryVersion="8.0.17")
    env.write_state(state)
    done, actions = env.run_js("bootstrap.js")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "WARNING: feature compatibility version 7.0, binaries 8.0.17" in done.stdout
    assert 'featureCompatibilityVersion: "8.0"' in done.stdout
    assert "setFeatureCompatibilityVersion" not in [a["action"] for a in actions]
    done, actions = env.run_js("bootstrap.js", FEATURE_COMPATIBILITY_VERSION="8.0")
    assert done.returncode == 0, done.stdout + done.stderr
    assert [a for a in actions if a["action"] == "setFeatureCompatibilityVersion"] == [
        {"action": "setFeatureCompatibilityVersion", "version": "8.0"}
    ]
    done, actions = env.run_js("bootstrap.js", FEATURE_COMPATIBILITY_VERSION="8.0")
    assert done.returncode == 0 and actions == []  # already there: nothing to do
    assert "feature compatibility version 8.0" in done.stdout


# --- entrypoint.sh: certificate and password rotation without a restart -------------------------
# The server is a stand-in too (a `mongod` on PATH that records its arguments and sleeps): what is
# under test is the chart's entrypoint (PEM rebuild, WiredTiger sizing, the watcher) and reload.js.


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=60)


def _certificates(root: Path) -> dict[str, tuple[Path, Path, str]]:
    """A CA and two server certificates A and B it signs (distinct serials): name -> (crt, key, serial)."""
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2",
             "-subj", "/CN=test-ca", "-keyout", str(root / "ca.key"), "-out", str(root / "ca.crt"))  # fmt: skip
    out = {}
    for name, serial in (("a", "0A0A"), ("b", "0B0B")):
        key, csr, crt = root / f"{name}.key", root / f"{name}.csr", root / f"{name}.crt"
        _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost",
                 "-keyout", str(key), "-out", str(csr))  # fmt: skip
        _openssl("x509", "-req", "-in", str(csr), "-CA", str(root / "ca.crt"), "-CAkey", str(root / "ca.key"),
                 "-set_serial", f"0x{serial}", "-days", "1", "-out", str(crt))  # fmt: skip
        out[name] = (crt, key, serial)
    return out


def _mount(tls: Path, version: str, crt: Path, key: Path, ca: Path) -> None:
    """Publish a Secret version the way the kubelet does: a new timestamped directory, then an
    atomic rename of the `..data` symlink onto it (the file names are symlinks through `..data`)."""
    data = tls / f"..{version}"
    data.mkdir()
    for name, source in (("tls.crt", crt), ("tls.key", key), ("ca.crt", ca)):
        (data / name).write_bytes(source.read_bytes())
        if not (tls / name).is_symlink():
            (tls / name).symlink_to(f"..data/{name}")
    (tls / "..data_tmp").symlink_to(data.name)
    os.replace(tls / "..data_tmp", tls / "..data")


def _serial(pem: Path) -> str:
    out = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in", str(pem)], capture_output=True, text=True,
                         check=True, timeout=30)  # fmt: skip
    return out.stdout.strip().removeprefix("serial=").upper()


def _wait_for(what: str, check: Any, seconds: float) -> float:
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if check():
            return time.monotonic() - start
        time.sleep(0.1)
    raise AssertionError(f"not within {seconds}s: {what}")


def _shim(path: Path, body: str) -> None:
    path.write_text(body)
    path.chmod(0o755)


FAKE_MONGOD = """#!/bin/sh
# stand-in server: records its pid and arguments, then runs until terminated
echo "$$ $*" > "$SERVER_LOG"
exec sleep 600
"""


def _entrypoint(env: Env, **extra: str) -> tuple[subprocess.Popen[str], Path]:
    bin_dir = env.root / "bin"
    bin_dir.mkdir(exist_ok=True)
    _shim(bin_dir / "mongosh",
          '#!/bin/sh\ncase "$*" in *--eval*) exit 0 ;; esac\neval "script=\\${$#}"\nexec node "'
          + str(HARNESS) + '" "$STATE_FILE" "$script"\n')  # fmt: skip
    _shim(bin_dir / "mongod", FAKE_MONGOD)
    log = env.root / "entrypoint.log"
    variables = env.variables(**{
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "STATE_FILE": str(env.state_file),
        "SCRIPTS_DIR": str(env.scripts), "SERVER_LOG": str(env.root / "server"), "RELOAD_INTERVAL_SECONDS": "1",
        "MONGO_PORT": "27018", "SELF_INIT": "false", "POD_NAME": "mongodb-sharded-shard0-1", **extra,
    })  # fmt: skip
    with log.open("w") as out:
        proc = subprocess.Popen(["sh", str(env.scripts / "entrypoint.sh"), "mongod", "--shardsvr"], env=variables,
                                stdout=out, stderr=subprocess.STDOUT, text=True, start_new_session=True)  # fmt: skip
    return proc, log


def _stop(proc: subprocess.Popen[str]) -> int:
    proc.terminate()
    try:
        return proc.wait(timeout=20)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)


def test_a_renewed_certificate_is_reloaded_without_a_restart(env: Env) -> None:
    require_tool("openssl")
    local = "localhost:27018"
    env.write_state({**env.state(), "replicaSets": {"rs": {
        "members": [local], "initiated": True, "users": {},
        "config": {"_id": "rs", "members": [{"_id": 0, "host": local}], "version": 1, "term": 1}}}})  # fmt: skip
    certs = _certificates(env.root)
    tls = env.root / "tls"
    tls.mkdir()
    _mount(tls, "2026_12_01_a", certs["a"][0], certs["a"][1], env.root / "ca.crt")
    proc, log = _entrypoint(
        env, MONGO_TLS="true", TLS_DIR=str(tls), MEMORY_LIMIT_MB="8192", WT_CACHE_RATIO="0.5"
    )
    try:
        pem = env.root / "runtime" / "server.pem"
        server = env.root / "server"
        _wait_for("the server starts", lambda: server.exists(), 20)
        pid, *args = server.read_text().split()
        assert args == ["--shardsvr", "--wiredTigerCacheSizeGB=3.50"]  # (8 GiB - 1 GiB) x 0.5
        assert _serial(pem) == certs["a"][2]
        assert pem.read_text().startswith("-----BEGIN PRIVATE KEY-----")
        assert pem.stat().st_mode & 0o777 == 0o400
        time.sleep(1.5)  # a few watcher rounds with nothing to do
        assert not [a for a in env.state().get("actions", []) if a["action"] == "rotateCertificates"]

        _mount(tls, "2026_12_02_b", certs["b"][0], certs["b"][1], env.root / "ca.crt")
        shutil.rmtree(tls / "..2026_12_01_a")  # the kubelet removes the old version
        _wait_for(  # the watcher polls every second; the bound only absorbs a loaded CI machine
            "rotateCertificates after the PEM holds B",
            lambda: (
                _serial(pem) == certs["b"][2]
                and any(a["action"] == "rotateCertificates" for a in env.state().get("actions", []))
            ),
            30,
        )
        (rotation,) = [a for a in env.state().get("actions", []) if a["action"] == "rotateCertificates"]
        assert rotation["host"] == local
        assert not (env.root / "runtime" / "server.pem.new").exists()
        assert server.read_text().split()[0] == pid and proc.poll() is None  # never restarted
        os.kill(int(pid), 0)
        time.sleep(1.5)  # reloaded once, not on every round
        assert len([a for a in env.state().get("actions", []) if a["action"] == "rotateCertificates"]) == 1
    finally:
        status = _stop(proc)
    assert status == 143 or status == 0, log.read_text()  # the server's status after SIGTERM


def test_a_changed_password_updates_the_users_from_the_first_config_server(env: Env) -> None:
    assert env.run_js("bootstrap.js")[0].returncode == 0
    env.write_state({**env.state(), "actions": []})
    proc, log = _entrypoint(env, SELF_INIT="true", POD_NAME="mongodb-sharded-configsvr-0")
    try:
        _wait_for("the background bootstrap (scope configsvr)", lambda: "ok, primary" in log.read_text(), 20)
        time.sleep(1.5)
        assert env.state()["actions"] == []
        (env.secrets / "mongodb-metrics-password").write_text("r0tated-by-external-secrets")
        _wait_for("updateUser on every replica set", lambda: "users ok" in log.read_text(), 15)
        actions = env.state()["actions"]
        sets = [env.topology["configsvr"]["name"]] + [s["name"] for s in env.topology["shards"]]
        assert [(a["action"], a["rs"], a["user"]) for a in actions] == [
            ("updateUser", rs, "metrics") for rs in sets
        ]
        assert proc.poll() is None
    finally:
        _stop(proc)


def test_other_members_do_not_manage_users(env: Env) -> None:
    assert env.run_js("bootstrap.js")[0].returncode == 0
    env.write_state({**env.state(), "actions": []})
    proc, log = _entrypoint(env, SELF_INIT="false", POD_NAME="mongodb-sharded-configsvr-1")
    try:
        _wait_for("the server starts", lambda: (env.root / "server").exists(), 20)
        (env.secrets / "mongodb-metrics-password").write_text("r0tated")
        time.sleep(2.5)
        assert env.state()["actions"] == [], log.read_text()
    finally:
        _stop(proc)
