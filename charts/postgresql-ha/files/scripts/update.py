#!/usr/bin/env python3
"""Switchover-first update of the Patroni members: the post-install/post-upgrade hook of postgresql-ha.

The StatefulSet uses ``updateStrategy: OnDelete``, so ``helm upgrade`` changes its pod template
without restarting anything. This script then brings every member to the new revision with at
most one switchover and no failover:

0. grow the members' volumes to postgresql.persistence.size (PATCH of each PVC; the
   StatefulSet's volumeClaimTemplates keep their first size, which Kubernetes cannot change);
1. apply the chart's dynamic configuration with Patroni's ``PATCH /config`` (ttl, loop_wait,
   synchronous_mode, postgresql.parameters...: the settings Patroni applies at run time);
2. wait until the cluster is healthy (a leader, every member running, replicas within the lag);
3. update the replicas one at a time: a stale pod is deleted (the StatefulSet controller
   recreates it with the new revision) or, when only a parameter needs a restart
   (``pending_restart``), restarted through Patroni; wait until it streams again;
4. when only the leader is stale, switch over (``POST /switchover``) to an updated, healthy
   replica (Patroni picks only the synchronous standby in synchronous mode), then update the old
   leader, now a replica, like the others.

Every step starts from the observed state (pod revisions, Patroni's /cluster), so a run killed
midway is resumed by running the script again: nothing is done twice and an already updated
cluster is left alone. The Kubernetes side (which revision a pod runs, deleting a pod) is the
``Platform`` interface; the Patroni side is its REST API, authenticated for every write.

Standard library only: it runs with the python3 of the Spilo image.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

HEALTHY_REPLICA_STATES = ("running", "streaming")


def log(message: str) -> None:
    print(time.strftime("%H:%M:%S"), message, flush=True)


class UpdateError(Exception):
    """The cluster did not reach the expected state: the hook fails and the operator looks."""


class Platform(Protocol):
    """Where the members run: pods of a StatefulSet (or, in tests, local processes)."""

    def members(self) -> list[str]: ...

    def target_revision(self) -> str: ...

    def revision(self, member: str) -> str | None:
        """The revision the member runs, None while it is being replaced or absent."""

    def replace(self, member: str) -> None:
        """Stop the member; it comes back at the target revision (the controller recreates it)."""


class Kubernetes:
    """The StatefulSet's pods through the API server, with the pod's service account token."""

    SA = "/var/run/secrets/kubernetes.io/serviceaccount"

    def __init__(self, namespace: str, statefulset: str) -> None:
        self.namespace = namespace
        self.statefulset = statefulset
        host = os.environ["KUBERNETES_SERVICE_HOST"]
        port = os.environ.get("KUBERNETES_SERVICE_PORT", "443")
        self.base = f"https://{host}:{port}" if ":" not in host else f"https://[{host}]:{port}"
        self.context = ssl.create_default_context(cafile=f"{self.SA}/ca.crt")

    def _call(
        self, method: str, path: str, body: bytes | None = None, content_type: str = "application/json"
    ) -> dict[str, Any] | None:
        with open(f"{self.SA}/token", encoding="utf-8") as f:  # re-read: bound tokens rotate
            bearer = "Bearer " + f.read().strip()
        headers = {"Authorization": bearer, "Content-Type": content_type}
        req = urllib.request.Request(self.base + path, data=body, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=15, context=self.context) as resp:
                data: dict[str, Any] = json.load(resp)
                return data
        except urllib.error.HTTPError as e:
            if e.code == 404:
                return None
            raise UpdateError(f"Kubernetes API {method} {path}: HTTP {e.code} {e.read()[:300]!r}") from e

    def _statefulset(self) -> dict[str, Any]:
        sts = self._call("GET", f"/apis/apps/v1/namespaces/{self.namespace}/statefulsets/{self.statefulset}")
        if sts is None:
            raise UpdateError(f"StatefulSet {self.namespace}/{self.statefulset} not found")
        return sts

    def members(self) -> list[str]:
        replicas = int(self._statefulset()["spec"].get("replicas", 1))
        return [f"{self.statefulset}-{i}" for i in range(replicas)]

    def target_revision(self) -> str:
        sts = self._statefulset()
        status = sts.get("status", {})
        if status.get("observedGeneration", 0) < sts["metadata"]["generation"]:
            raise UpdateError("the StatefulSet controller has not observed the new generation yet")
        return str(status["updateRevision"])

    def revision(self, member: str) -> str | None:
        pod = self._call("GET", f"/api/v1/namespaces/{self.namespace}/pods/{member}")
        if pod is None or pod["metadata"].get("deletionTimestamp"):
            return None
        return pod["metadata"].get("labels", {}).get("controller-revision-hash")

    def replace(self, member: str) -> None:
        self._call("DELETE", f"/api/v1/namespaces/{self.namespace}/pods/{member}")

    def resize_volumes(self, claim: str, size: str) -> None:
        """Grow every member's PersistentVolumeClaim ``<claim>-<pod>`` to ``size`` (never shrink).

        The StatefulSet's volumeClaimTemplates keep the size of the first install (Kubernetes
        refuses to change them); the claims themselves can grow when their StorageClass has
        allowVolumeExpansion, online for CSI drivers that support it."""
        for member in self.members():
            path = f"/api/v1/namespaces/{self.namespace}/persistentvolumeclaims/{claim}-{member}"
            pvc = self._call("GET", path)
            if pvc is None:
                continue
            current = pvc["spec"]["resources"]["requests"]["storage"]
            if quantity(size) > quantity(current):
                log(f"growing {claim}-{member} from {current} to {size}")
                body = json.dumps({"spec": {"resources": {"requests": {"storage": size}}}}).encode()
                self._call("PATCH", path, body, "application/merge-patch+json")
            elif quantity(size) < quantity(current):
                log(f"{claim}-{member} is {current}: volumes only grow, {size} ignored")


class Patroni:
    """Patroni's REST API; writes carry HTTP basic authentication (restapi.authentication)."""

    def __init__(self, seeds: list[str], username: str = "", password: str = "", timeout: float = 10) -> None:
        self.seeds = seeds
        self.timeout = timeout
        self.auth = ""
        if username:
            self.auth = "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
        self.context = ssl.create_default_context()
        self.context.check_hostname = False
        self.context.verify_mode = ssl.CERT_NONE

    def call(self, method: str, url: str, body: Any = None, timeout: float | None = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"}
        if method != "GET" and self.auth:
            headers["Authorization"] = self.auth
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout or self.timeout, context=self.context) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode(errors="replace")

    def cluster(self) -> dict[str, Any]:
        """GET /cluster from the first member that answers."""
        errors = []
        for seed in self.seeds:
            try:
                status, data = self.call("GET", f"{seed}/cluster")
            except OSError as e:
                errors.append(f"{seed}: {e}")
                continue
            if status == 200 and isinstance(data, dict):
                return data
            errors.append(f"{seed}: HTTP {status}")
        raise UpdateError("no Patroni member answers GET /cluster: " + "; ".join(errors))

    def write(self, method: str, url: str, body: Any, timeout: float | None = None) -> Any:
        status, data = self.call(method, url, body, timeout)
        if status == 401:
            raise UpdateError(f"{method} {url}: Patroni refused the credentials (HTTP 401)")
        if status >= 300:
            raise UpdateError(f"{method} {url}: HTTP {status} {data}")
        return data


@dataclass(frozen=True)
class Options:
    max_lag_bytes: int = 16 * 1024 * 1024
    member_timeout: float = 600
    poll: float = 2


def api_base(member: dict[str, Any]) -> str:
    url = str(member["api_url"])
    return url.rsplit("/", 1)[0] if url.endswith("/patroni") else url.rstrip("/")


class Updater:
    def __init__(self, platform: Platform, patroni: Patroni, options: Options | None = None) -> None:
        self.platform = platform
        self.patroni = patroni
        self.options = options or Options()

    # --- observed state ---------------------------------------------------------------------

    def state(self) -> tuple[dict[str, dict[str, Any]], str | None]:
        """Patroni's members by name, and the leader's name."""
        members = {m["name"]: m for m in self.patroni.cluster().get("members", [])}
        leader = next((n for n, m in members.items() if m.get("role") in ("leader", "standby_leader")), None)
        return members, leader

    def healthy(self, name: str, members: dict[str, Any], leader: str | None) -> bool:
        m = members.get(name)
        if m is None or leader is None:
            return False
        if name == leader:
            return bool(m.get("state") == "running")
        lag = m.get("lag")
        same_timeline = m.get("timeline") == members[leader].get("timeline")
        return (
            m.get("state") in HEALTHY_REPLICA_STATES
            and isinstance(lag, int)
            and lag <= self.options.max_lag_bytes
            and same_timeline
        )

    def wait(self, what: str, done: Callable[[], bool]) -> None:
        deadline = time.monotonic() + self.options.member_timeout
        while True:
            try:
                if done():
                    return
            except (UpdateError, OSError) as e:
                log(f"  still waiting for {what}: {e}")
            if time.monotonic() > deadline:
                raise UpdateError(f"timed out after {self.options.member_timeout:.0f}s waiting for {what}")
            time.sleep(self.options.poll)

    def wait_healthy(self) -> None:
        names = self.platform.members()

        def all_healthy() -> bool:
            members, leader = self.state()
            return all(
                self.platform.revision(n) is not None and self.healthy(n, members, leader) for n in names
            )

        self.wait("every member running, replicas streaming within the lag limit", all_healthy)

    def stale(self, name: str, member: dict[str, Any] | None, target: str) -> str:
        """Why ``name`` needs an update: "revision", "restart" or "" (up to date)."""
        if self.platform.revision(name) != target:
            return "revision"
        if member is not None and member.get("pending_restart"):
            return "restart"
        return ""

    # --- actions ----------------------------------------------------------------------------

    def apply_config(self, desired: dict[str, Any]) -> None:
        members, leader = self.state()
        if leader is None:
            raise UpdateError("no leader: cannot apply the dynamic configuration")
        base = api_base(members[leader])
        status, current = self.patroni.call("GET", f"{base}/config")
        if status == 200 and isinstance(current, dict) and merged(current, desired) == current:
            log("dynamic configuration already applied")
            return
        self.patroni.write("PATCH", f"{base}/config", desired)
        log("dynamic configuration applied (PATCH /config)")

    def update_member(self, name: str, why: str, target: str) -> None:
        members, _ = self.state()
        if why == "revision":
            log(f"replacing {name} (revision {self.platform.revision(name)} -> {target})")
            self.platform.replace(name)
        else:
            log(f"restarting {name} (pending_restart)")
            self.patroni.write(
                "POST", f"{api_base(members[name])}/restart", {}, timeout=self.options.member_timeout
            )

        def updated() -> bool:
            ms, leader = self.state()
            return self.platform.revision(name) == target and self.healthy(name, ms, leader)

        self.wait(f"{name} at revision {target}, running and streaming", updated)
        self.wait_healthy()
        log(f"updated {name}")

    def switchover(self, leader: str, members: dict[str, Any], target: str) -> None:
        candidates = [
            n
            for n in self.platform.members()
            if n != leader and not self.stale(n, members.get(n), target) and self.healthy(n, members, leader)
        ]
        sync = [n for n in candidates if members[n].get("role") == "sync_standby"]
        pool = sync or candidates
        if not pool:
            raise UpdateError(f"no updated, healthy replica to switch over to from {leader}")
        candidate = min(pool, key=lambda n: (members[n].get("lag", 0), n))
        log(f"switchover {leader} -> {candidate}")
        self.patroni.write(
            "POST", f"{api_base(members[leader])}/switchover", {"leader": leader, "candidate": candidate},
            timeout=self.options.member_timeout,
        )  # fmt: skip

        def moved() -> bool:
            ms, new_leader = self.state()
            return new_leader == candidate and self.healthy(leader, ms, new_leader)

        self.wait(f"{candidate} leading and {leader} streaming from it", moved)
        log(f"switched over to {candidate}")

    # --- the whole update -------------------------------------------------------------------

    def run(self, desired_config: dict[str, Any] | None) -> int:
        """Bring every member to the target revision; returns the number of switchovers done."""
        self.wait_healthy()
        if desired_config:
            self.apply_config(desired_config)
        switchovers = 0
        while True:
            target = self.platform.target_revision()
            members, leader = self.state()
            if leader is None:
                raise UpdateError("no leader")
            todo = {n: why for n in self.platform.members() if (why := self.stale(n, members.get(n), target))}
            if not todo:
                log(f"every member runs revision {target}, nothing pending")
                return switchovers
            replicas = sorted(n for n in todo if n != leader)
            if replicas:
                self.update_member(replicas[0], todo[replicas[0]], target)
            elif len(self.platform.members()) == 1:
                self.update_member(leader, todo[leader], target)  # nothing to switch to
            else:
                if switchovers:
                    raise UpdateError(
                        f"{leader} became stale again after a switchover; refusing a second one"
                    )
                self.switchover(leader, members, target)
                switchovers += 1


UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "P": 10**15,
         "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "Pi": 2**50}  # fmt: skip


def quantity(text: str) -> float:
    """Bytes of a Kubernetes storage quantity ("200Gi", "1.5Ti", "500M")."""
    number = text.rstrip("kMGTPi")
    unit = text[len(number) :]
    if unit not in UNITS:
        raise UpdateError(f"unsupported storage quantity {text!r}")
    return float(number) * UNITS[unit]


def merged(base: Any, patch: Any) -> Any:
    """``base`` with ``patch`` merged the way Patroni's PATCH /config does (null deletes)."""
    if not isinstance(base, dict) or not isinstance(patch, dict):
        return patch
    out = dict(base)
    for key, value in patch.items():
        if value is None:
            out.pop(key, None)
        else:
            out[key] = merged(out.get(key), value)
    return out


def read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read().strip()


def main() -> int:
    namespace = os.environ["POD_NAMESPACE"]
    statefulset = os.environ["STATEFULSET"]
    headless = os.environ["HEADLESS_SERVICE"]
    platform = Kubernetes(namespace, statefulset)
    seeds = [f"http://{n}.{headless}.{namespace}.svc:8008" for n in platform.members()]
    patroni = Patroni(
        seeds, os.environ.get("PATRONI_USERNAME", ""), read(os.environ["PATRONI_PASSWORD_FILE"])
    )
    options = Options(
        max_lag_bytes=int(os.environ.get("MAX_LAG_BYTES", Options.max_lag_bytes)),
        member_timeout=float(os.environ.get("MEMBER_TIMEOUT_SECONDS", Options.member_timeout)),
    )
    config_file = os.environ.get("DCS_CONFIG_FILE", "")
    desired = json.loads(read(config_file)) if config_file else None
    try:
        if os.environ.get("DATA_VOLUME_SIZE"):
            platform.resize_volumes(
                os.environ.get("DATA_VOLUME_CLAIM", "pgdata"), os.environ["DATA_VOLUME_SIZE"]
            )
        n = Updater(platform, patroni, options).run(desired)
    except UpdateError as e:
        log(f"error: {e}")
        return 1
    log(f"done ({n} switchover{'s' if n != 1 else ''})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
