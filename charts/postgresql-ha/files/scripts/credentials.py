#!/usr/bin/env python3
"""Credential rotation: the `credentials` sidecar of every postgresql-ha member.

The credentials Secret is mounted as files; the kubelet swaps them atomically when the Secret
changes (by hand, or an External Secrets refresh). Every INTERVAL_SECONDS this sidecar compares
their content with what it last applied and, on a change:

1. on the primary, sets each role's password to the file's (``ALTER ROLE ... PASSWORD``, with
   statement logging off for the session): superuser, replication, application and monitoring
   users; the replicas receive the change through streaming replication;
2. on every member, writes the new superuser, replication and REST API passwords into Patroni's
   configuration file (Spilo's /run/postgres.yml) and reloads Patroni (``POST /reload``,
   authenticated with the REST API password the file held until then, the one Patroni still
   checks), so the replicas' next replication connection and pg_rewind use the new passwords
   and the REST API accepts only the new one. Patroni re-reads that file on a reload but never
   its environment, which is why the chart gives it the REST API credentials in the file
   (SPILO_CONFIGURATION) and not as PATRONI_RESTAPI_* variables (Spilo drops those anyway
   before it starts Patroni).

Connections already open stay open: PostgreSQL checks passwords only when a session starts.
Standard library only (the python3 of the Spilo image); psql runs over the local socket, where
Spilo trusts local connections, so a rotated superuser password never locks the sidecar out.
"""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HEARTBEAT = os.environ.get("HEARTBEAT_FILE", "/tmp/credentials.alive")
# role environment variable -> password file in the credentials directory
ROLES = (
    ("SUPERUSER", "superuser-password"),
    ("REPLICATION_USER", "replication-password"),
    ("APP_USER", "app-password"),
    ("METRICS_USER", "metrics-password"),
)
ALTER = """SET log_statement = 'none';
SET log_min_duration_statement = -1;
\\getenv role ROLE
\\set password `cat "$PASSWORD_FILE"`
SELECT format('ALTER ROLE %I PASSWORD %L', :'role', :'password')
 WHERE EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = :'role') \\gexec
"""


def log(message: str) -> None:
    print(time.strftime("%H:%M:%S"), "credentials:", message, flush=True)


def fingerprint(directory: Path) -> str:
    h = hashlib.sha256()
    for path in sorted(p for p in directory.iterdir() if not p.name.startswith("..")):
        h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()


def psql_binary() -> str:
    """PSQL, else the newest psql of the image (Spilo's /usr/bin/psql is a Perl wrapper)."""
    if os.environ.get("PSQL"):
        return os.environ["PSQL"]
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/psql"), key=lambda p: int(p.parts[-3]))
    return str(found[-1]) if found else "psql"


def psql(sql: str, **env: str) -> str:
    out = subprocess.run(
        [psql_binary(), "-X", "-v", "ON_ERROR_STOP=1", "-qtA", "-d", "postgres"],
        input=sql, capture_output=True, text=True, timeout=60, env={**os.environ, **env}, check=False,
    )  # fmt: skip
    if out.returncode:
        raise RuntimeError(f"psql failed: {out.stderr.strip()}")
    return out.stdout.strip()


def set_passwords(directory: Path) -> None:
    if psql("SELECT pg_is_in_recovery()") != "f":
        return  # a replica: the primary's ALTER ROLE reaches it by replication
    for env_name, filename in ROLES:
        role = os.environ.get(env_name, "")
        if role and (directory / filename).is_file():
            psql(ALTER, ROLE=role, PASSWORD_FILE=str(directory / filename))
    log("role passwords set on the primary")


#: REST API credentials this process found in Patroni's file, oldest first: a reload that failed
#: (Patroni restarting, a timeout) leaves Patroni checking one of them while the file has moved on.
SEEN: list[tuple[str, str]] = []


def remember(credentials: tuple[str, str]) -> None:
    if credentials in SEEN:
        SEEN.remove(credentials)
    SEEN.append(credentials)


def reload_patroni(credentials: list[tuple[str, str]]) -> None:
    """POST /reload, authenticated with the first of ``credentials`` Patroni accepts."""
    url = os.environ.get("PATRONI_URL", "http://127.0.0.1:8008").rstrip("/") + "/reload"
    status = 0
    for user, password in dict.fromkeys(credentials or [("", "")]):
        req = urllib.request.Request(url, data=b"", method="POST")
        if user:
            basic = base64.b64encode(f"{user}:{password}".encode()).decode()
            req.add_header("Authorization", "Basic " + basic)
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                resp.read()
            return
        except urllib.error.HTTPError as e:
            if e.code == 202:  # a reload is already scheduled
                return
            status = e.code
            if e.code != 401:
                break
    raise RuntimeError(f"POST {url}: HTTP {status}")


def update_patroni(directory: Path) -> None:
    """New superuser/replication/REST API passwords in Patroni's configuration, then POST /reload."""
    config = os.environ.get("PATRONI_CONFIG", "")
    if not config:
        return
    import yaml  # Patroni's own dependency, present wherever Patroni runs

    path = Path(config)
    data = yaml.safe_load(path.read_text())
    auth = data.setdefault("postgresql", {}).setdefault("authentication", {})
    for kind, filename in (("superuser", "superuser-password"), ("replication", "replication-password")):
        if (directory / filename).is_file() and kind in auth:
            auth[kind]["password"] = (directory / filename).read_text().strip()
    if "rewind" in auth and auth["rewind"].get("username") == auth.get("superuser", {}).get("username"):
        auth["rewind"]["password"] = auth["superuser"]["password"]
    # The REST API: Patroni checks the password its file had until the reload below, so the reload
    # authenticates with that one (then with the new one: another reload may have applied it).
    user = os.environ.get("PATRONI_USERNAME", "")
    password_file = Path(os.environ.get("PATRONI_PASSWORD_FILE", "") or directory / "patroni-password")
    rest = data.get("restapi") or {}
    current = dict(rest.get("authentication") or {})
    if current.get("username"):
        remember((str(current["username"]), str(current.get("password", ""))))
    new: list[tuple[str, str]] = []
    if user and password_file.is_file():
        new = [(user, password_file.read_text().strip())]
        rest["authentication"] = {"username": user, "password": new[0][1]}
        data["restapi"] = rest
    # Newest first, the new credentials last (a failed reload leaves Patroni on an older one).
    tried = [*reversed(SEEN), *new]
    tmp = path.with_name(path.name + ".new")
    tmp.write_text(yaml.safe_dump(data, default_flow_style=False))
    tmp.chmod(path.stat().st_mode & 0o777)
    os.replace(tmp, path)
    reload_patroni(tried)
    log("Patroni configuration updated and reloaded")


def main() -> int:
    directory = Path(os.environ.get("CREDENTIALS_DIR", "/credentials"))
    interval = float(os.environ.get("INTERVAL_SECONDS", "30"))
    once = os.environ.get("RUN_ONCE") == "1"
    # Also applied once at start: the Secret may have changed while no primary was watching.
    applied = ""
    while True:
        current = fingerprint(directory)
        if current != applied:
            try:
                set_passwords(directory)
                update_patroni(directory)
                applied = current
            except (OSError, RuntimeError, subprocess.SubprocessError) as e:
                log(f"not applied yet, retrying: {e}")
                if once:
                    return 1
        if once:
            return 0
        Path(HEARTBEAT).touch()  # the liveness/readiness probes check that the loop turns
        time.sleep(interval)


if __name__ == "__main__":
    sys.exit(main())
