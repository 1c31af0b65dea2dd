#!/usr/bin/env python3
"""Disaster-recovery drill of postgresql-ha: the drill CronJob's command (quarterly by default).

1. restore the latest WAL-G base backup into a scratch data directory (``wal-g backup-fetch``)
   and replay the archived WAL (``restore_command = wal-g wal-fetch``) until the archive ends,
   then promote: a throw-away PostgreSQL instance inside the drill pod, on a local socket only;
2. measure the restore time (start of the fetch until the instance accepts writes);
3. integrity checks: ``pg_amcheck`` over every database (B-tree and heap), a query in every
   database, and the operator's own DRILL_CHECK_SQL (must return true);
4. tear the instance and its data down, whatever happened;
5. push the result to the Pushgateway (grouping job="dr-drill", database=<chart>):
   dr_drill_last_run_timestamp_seconds, dr_drill_success, dr_drill_restore_duration_seconds,
   dr_drill_recovery_objective_seconds, and dr_drill_last_success_timestamp_seconds on success
   only (POST keeps the previous value after a failed drill).

Standard library only (the python3 of the Spilo image, which ships WAL-G and PostgreSQL), plus
pushgateway.py beside it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from pushgateway import push


def log(message: str) -> None:
    print(time.strftime("%H:%M:%S"), "drill:", message, flush=True)


def pg_bin() -> Path:
    if os.environ.get("PGBIN"):
        return Path(os.environ["PGBIN"])
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parts[-2]))
    if not found:
        raise RuntimeError("no PostgreSQL binaries under /usr/lib/postgresql")
    return found[-1]


def run(argv: list[str], timeout: float = 3600, **kw: object) -> str:
    out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False, **kw)  # type: ignore[call-overload]
    if out.returncode:
        raise RuntimeError(
            f"{' '.join(argv[:3])}... exited {out.returncode}: {(out.stderr or out.stdout).strip()[-800:]}"
        )
    return str(out.stdout)


class Scratch:
    """A throw-away PostgreSQL restored from the backups, on a Unix socket in ``root``."""

    def __init__(self, root: Path, port: int, user: str) -> None:
        self.root = root
        self.data = root / "data"
        self.port = port
        self.user = user
        self.bin = pg_bin()
        self.process: subprocess.Popen[bytes] | None = None

    def psql(self, sql: str, db: str = "postgres") -> str:
        argv = [
            str(self.bin / "psql"),
            "-X",
            "-qtA",
            "-h",
            str(self.root),
            "-p",
            str(self.port),
            "-U",
            self.user,
        ]
        return run([*argv, "-v", "ON_ERROR_STOP=1", "-c", sql, db], timeout=600).strip()

    def restore(self, timeout: float) -> None:
        walg = os.environ.get("WALG", "wal-g")
        self.data.mkdir(parents=True, mode=0o700)
        log("fetching the latest base backup")
        run([walg, "backup-fetch", str(self.data), "LATEST"])
        for stale in ("postmaster.pid", "standby.signal"):
            (self.data / stale).unlink(missing_ok=True)
        (self.data / "recovery.signal").touch()
        # Our own configuration: the backup's postgresql.conf points at the members' paths.
        hba = self.root / "drill_hba.conf"
        hba.write_text("local all all trust\n")
        conf = self.root / "drill.conf"
        conf.write_text(
            "\n".join([
                "listen_addresses = ''", f"port = {self.port}", f"unix_socket_directories = '{self.root}'",
                f"hba_file = '{hba}'", "ssl = off", "archive_mode = off", "hot_standby = off",
                f"restore_command = '{walg} wal-fetch \"%f\" \"%p\"'", "recovery_target_timeline = 'latest'",
                "recovery_target_action = 'promote'", "shared_buffers = '128MB'", "max_connections = 20",
                "logging_collector = off",
            ]) + "\n"
        )  # fmt: skip
        log("replaying the archived WAL")
        self.process = subprocess.Popen(
            [str(self.bin / "postgres"), "-D", str(self.data), "-c", f"config_file={conf}"],
            stdout=sys.stdout, stderr=sys.stderr,
        )  # fmt: skip
        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"the restored instance exited with {self.process.returncode}")
            try:
                if self.psql("SELECT pg_is_in_recovery()") == "f":
                    return
            except RuntimeError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"not promoted after {timeout:.0f}s")
            time.sleep(1)

    def check(self, check_sql: str) -> None:
        databases = self.psql("SELECT datname FROM pg_database WHERE datallowconn ORDER BY 1").split()
        run([str(self.bin / "pg_amcheck"), "-h", str(self.root), "-p", str(self.port), "-U", self.user,
             "--all", "--install-missing", "--heapallindexed"], timeout=6 * 3600)  # fmt: skip
        for db in databases:
            self.psql("SELECT count(*) FROM pg_catalog.pg_class", db)
        log(f"pg_amcheck clean over {len(databases)} database(s)")
        if check_sql:
            db = os.environ.get("DRILL_CHECK_DATABASE", "postgres")
            result = self.psql(check_sql, db)
            if result != "t":
                raise RuntimeError(f"DRILL_CHECK_SQL returned {result!r}, expected t")
            log("DRILL_CHECK_SQL returned true")

    def teardown(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()  # smart→fast shutdown of a throw-away instance
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        shutil.rmtree(self.data, ignore_errors=True)
        log("scratch instance torn down")


def main() -> int:
    scratch = Scratch(
        Path(os.environ.get("SCRATCH_DIR", "/scratch")), int(os.environ.get("SCRATCH_PORT", "54329")),
        os.environ.get("PGUSER", "postgres"),
    )  # fmt: skip
    url = os.environ.get("PUSHGATEWAY_URL", "")
    database = os.environ.get("DATABASE", "postgresql-ha")
    objective = float(os.environ.get("RECOVERY_OBJECTIVE_SECONDS", "3600"))
    started = time.time()
    if url:
        push(url, "dr-drill", database, {"dr_drill_last_run_timestamp_seconds": started})
    metrics: dict[str, float] = {"dr_drill_recovery_objective_seconds": objective}
    ok = False
    try:
        scratch.restore(float(os.environ.get("RESTORE_TIMEOUT_SECONDS", "21600")))
        duration = time.time() - started
        metrics["dr_drill_restore_duration_seconds"] = round(duration, 3)
        log(f"restored and promoted in {duration:.1f}s (objective {objective:.0f}s)")
        scratch.check(os.environ.get("DRILL_CHECK_SQL", ""))
        ok = True
    except (OSError, RuntimeError, subprocess.SubprocessError) as e:
        log(f"FAILED: {e}")
    finally:
        scratch.teardown()
    metrics["dr_drill_success"] = 1 if ok else 0
    if ok:
        metrics["dr_drill_last_success_timestamp_seconds"] = time.time()
    if url:
        push(url, "dr-drill", database, metrics)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
