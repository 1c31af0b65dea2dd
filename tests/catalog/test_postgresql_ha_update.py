"""postgresql-ha's switchover-first update (files/scripts/update.py) against a real Patroni cluster.

Real servers: etcd (Debian's etcd-server) as the DCS and three Patroni members (Debian's patroni
3.0, PostgreSQL 15) on 127.0.0.1. The script is the one the chart renders into its update
ConfigMap, with the dynamic configuration (dcs.json) the chart renders; only its Kubernetes side
(which revision a pod runs, deleting a pod) is replaced by local processes
(tests/catalog/pg_servers.LocalPlatform + Controller); every Patroni call goes to the real REST
API, which requires authentication for writes as the chart configures it (restapi.authentication
in Patroni's configuration file, from the members' SPILO_CONFIGURATION).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.catalog import pg_servers as pg
from tests.catalog.conftest import ROOT, find, render_with
from tests.conftest import require_tool

pytestmark = [pytest.mark.helm, pytest.mark.slow]

CHART = "postgresql-ha"
NAMES = ["pg-0", "pg-1", "pg-2"]
# The members start with another dynamic configuration than the chart's: the script must PATCH it.
BOOTSTRAP_DCS: dict[str, Any] = {
    "ttl": 10, "loop_wait": 1, "retry_timeout": 5, "maximum_lag_on_failover": 33554432,
    "synchronous_mode": False, "postgresql": {"use_pg_rewind": True, "use_slots": True},
}  # fmt: skip
CHART_SETS = (
    "patroni.ttl=10", "patroni.loopWait=1", "patroni.retryTimeout=5", "postgresql.parameters.work_mem=8MB",
)  # fmt: skip


def chart_files() -> tuple[str, str, dict[str, Any]]:
    """update.py, dcs.json and the StatefulSet as the chart renders them for production."""
    objects = render_with(CHART, "production", *CHART_SETS)
    script = find(objects, "ConfigMap", "-scripts")[0]["data"]["update.py"]
    dcs = find(objects, "ConfigMap", "-postgresql-config")[0]["data"]["dcs.json"]
    return script, dcs, find(objects, "StatefulSet", "-postgresql")[0]


def get(port: int, path: str) -> Any:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
        return json.load(r)


def post(port: int, path: str, auth: tuple[str, str] | None) -> int:
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=b"{}", method="POST")
    if auth:
        import base64

        req.add_header("Authorization", "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return int(r.status)
    except urllib.error.HTTPError as e:
        return int(e.code)


class Cluster:
    def __init__(self, root: Path, rest: dict[str, int]) -> None:
        self.root = root
        self.rest = rest
        self.platform = pg.LocalPlatform(root)

    def cluster(self) -> dict[str, Any]:
        for port in self.rest.values():
            try:
                data: dict[str, Any] = get(port, "/cluster")
                return data
            except OSError:
                continue
        raise AssertionError("no member answers /cluster")

    def healthy(self) -> bool:
        return pg.patroni_healthy(self.rest)

    def leader(self) -> str:
        return str(next(m["name"] for m in self.cluster()["members"] if m["role"] == "leader"))

    def timeline(self) -> int:
        return int(next(m["timeline"] for m in self.cluster()["members"] if m["role"] == "leader"))

    def psql(self, member: str, sql: str) -> str:
        port = self.platform.spec["members"][member]["pg"]
        out = pg.run_as(
            [str(pg.PG_BIN / "psql"), "-h", str(self.root / member), "-p", str(port), "-U", "postgres",
             "-XtAc", sql, "postgres"], check=True,
        )  # fmt: skip
        return out.stdout.strip()

    def update(self, kill_after: str | None = None) -> tuple[int | None, str]:
        """Run the chart's update.py in a subprocess; SIGKILL it right after a line containing ``kill_after``."""
        code = f"import sys; from tests.catalog.pg_servers import run_update; sys.exit(run_update({str(self.root)!r}))"
        proc = subprocess.Popen(
            [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)}, cwd=ROOT,
        )  # fmt: skip
        assert proc.stdout
        lines = []
        for line in proc.stdout:
            lines.append(line)
            if kill_after and kill_after in line:
                proc.send_signal(signal.SIGKILL)
                break
        proc.wait(timeout=300)
        return (None if kill_after and proc.returncode == -signal.SIGKILL else proc.returncode), "".join(
            lines
        )


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    require_tool("helm")
    for tool in ("patroni", "etcd", str(pg.PG_BIN / "postgres")):
        require_tool(tool)
    script, dcs, _ = chart_files()
    with pg.scratch() as root:
        (root / "update.py").write_text(script)
        (root / "dcs.json").write_text(dcs)
        (root / "target-revision").write_text("rev-1")
        etcd = pg.start_etcd(root)
        rest = pg.write_patroni_cluster(root, etcd, NAMES, BOOTSTRAP_DCS)
        c = Cluster(root, rest)
        with pg.Controller(c.platform):
            pg.wait_for(c.healthy, 90, "three healthy Patroni members")
            yield c


def test_statefulset_is_on_delete_and_bootstrap_settings_do_not_roll_pods() -> None:
    require_tool("helm")
    base = render_with(CHART, "production")
    changed = render_with(
        CHART, "production", "patroni.ttl=20", "postgresql.parameters.work_mem=64MB", "patroni.synchronousMode=false"
    )  # fmt: skip
    (sts,) = find(base, "StatefulSet", "-postgresql")
    (sts2,) = find(changed, "StatefulSet", "-postgresql")
    assert sts["spec"]["updateStrategy"] == {"type": "OnDelete"}
    assert sts["spec"]["template"] == sts2["spec"]["template"], "a DCS setting changed the pod template"
    (cm2,) = find(changed, "ConfigMap", "-postgresql-config")
    assert json.loads(cm2["data"]["dcs.json"])["postgresql"]["parameters"]["work_mem"] == "64MB"
    member_setting = render_with(CHART, "production", "patroni.followerLabelValue=standby")
    (sts3,) = find(member_setting, "StatefulSet", "-postgresql")
    assert (
        sts3["spec"]["template"]["metadata"]["annotations"]
        != sts["spec"]["template"]["metadata"]["annotations"]
    )


def test_update_hook_job_runs_the_script_with_the_api_and_patroni_credentials() -> None:
    require_tool("helm")
    objects = render_with(CHART, "production")
    (job,) = find(objects, "Job", "-update")
    assert job["metadata"]["annotations"]["helm.sh/hook"] == "post-upgrade,post-rollback"
    pod = job["spec"]["template"]
    assert pod["metadata"]["labels"]["access.spotify-ai-agent.io/kube-api"] == "true"
    assert "access.spotify-ai-agent.io/object-store" not in pod["metadata"]["labels"]
    assert pod["spec"]["containers"][0]["command"] == ["python3", "/scripts/update.py"]
    (role,) = [r for r in find(objects, "Role", "-update")]
    assert {v for rule in role["rules"] for v in rule["verbs"]} == {"get", "delete", "patch"}
    (sts,) = find(objects, "StatefulSet", "-postgresql")
    env = {e["name"]: e for e in sts["spec"]["template"]["spec"]["containers"][0]["env"]}
    # The members' REST API credentials (restapi.authentication in SPILO_CONFIGURATION, see
    # test_postgresql_ha_rotation) are the ones the hook reads from the same Secret key.
    assert env["RESTAPI_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "patroni-password"
    assert 'username: "patroni"' in env["SPILO_CONFIGURATION"]["value"]
    hook_env = {e["name"]: e for e in pod["spec"]["containers"][0]["env"]}
    assert hook_env["PATRONI_USERNAME"]["value"] == "patroni"


def test_update_replicas_first_one_switchover_idempotent_after_kills(cluster: Cluster) -> None:
    c = cluster
    first_leader, timeline = c.leader(), c.timeline()
    # Writes need the REST credentials: without them or with wrong ones Patroni refuses.
    port = c.rest[first_leader]
    assert post(port, "/restart", None) == 401
    assert post(port, "/restart", (pg.PATRONI_USER, "wrong")) == 401
    assert c.timeline() == timeline

    (c.root / "target-revision").write_text("rev-2")  # helm upgrade changed the pod template
    # 1. killed while it replaces the first replica
    code, out = c.update(kill_after="replacing")
    assert code is None, out
    assert f"replacing {first_leader}" not in out, out
    # 2. killed right after the switchover
    code, out = c.update(kill_after="switched over")
    assert code is None, out
    assert f"switchover {first_leader} -> " in out and f"replacing {first_leader}" not in out, out
    new_leader = c.leader()
    assert new_leader != first_leader
    # 3. resumed: only the old primary is left, as a replica; no second switchover
    code, out = c.update()
    assert code == 0, out
    assert "switchover pg-" not in out and f"replacing {first_leader}" in out, out
    assert "every member runs revision rev-2" in out, out
    # 4. a re-run of an updated cluster does nothing
    pids = {n: c.platform.pid(n) for n in NAMES}
    code, out = c.update()
    assert code == 0, out
    assert "replacing" not in out and "switchover pg-" not in out and "restarting" not in out, out
    assert {n: c.platform.pid(n) for n in NAMES} == pids

    assert {n: c.platform.revision(n) for n in NAMES} == dict.fromkeys(NAMES, "rev-2")
    assert c.leader() == new_leader
    # Exactly one promotion: the switchover; a failover would have added another timeline.
    assert c.timeline() == timeline + 1
    history = get(c.rest[new_leader], "/history")
    assert len(history) == 1 and history[0][0] == timeline, history
    # The chart's dynamic configuration went through PATCH /config and reached every member.
    config = get(c.rest[new_leader], "/config")
    assert config["synchronous_mode"] is True and config["loop_wait"] == 1
    assert config["postgresql"]["parameters"]["archive_timeout"] == "60s"
    pg.wait_for(
        lambda: all(c.psql(n, "SHOW work_mem") == "8MB" for n in NAMES), 30, "work_mem on every member"
    )


def test_volumes_grow_through_the_hook_not_the_claim_template(tmp_path: Path) -> None:
    """persistence.size reaches the hook, which patches the claims (never shrinks); the claim
    template takes the existing StatefulSet's size (lookup) so an upgrade never changes it."""
    require_tool("helm")
    objects = render_with(CHART, "production", "postgresql.persistence.size=300Gi")
    (job,) = find(objects, "Job", "-update")
    env = {e["name"]: e.get("value") for e in job["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["DATA_VOLUME_SIZE"] == "300Gi" and env["DATA_VOLUME_CLAIM"] == "pgdata"
    (role,) = find(objects, "Role", "-update")
    assert {"resources": ["persistentvolumeclaims"], "verbs": ["get", "patch"], "apiGroups": [""]} in role[
        "rules"
    ]
    template = (pg.ROOT_CHARTS / CHART / "templates" / "statefulset.yaml").read_text()
    assert 'storage: {{ include "postgresql-ha.claimSize" . | quote }}' in template
    helpers = (pg.ROOT_CHARTS / CHART / "templates" / "_helpers.tpl").read_text()
    assert 'lookup "apps/v1" "StatefulSet"' in helpers
    script, _, _ = chart_files()
    (tmp_path / "update.py").write_text(script)
    quantity = pg.load_update_module(tmp_path).quantity
    assert quantity("200Gi") < quantity("300Gi") < quantity("1Ti") and quantity("500M") < quantity("1Gi")
    assert quantity("1.5Ti") == 1.5 * 2**40
