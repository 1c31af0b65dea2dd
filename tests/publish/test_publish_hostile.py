"""What a registry (or something posing as one) and a careless CI job can send ``publish``/``diff``.

* A server answering HTML (a login page, a proxy's error page) or other non-JSON bodies on
  ``/v2/``: exit 3 naming the registry, no traceback. The server is a tiny local HTTP server
  (there is no registry that answers HTML).
* A stale ``.prov`` beside an archive: refused (exit 4) before anything reaches the real registry.
* ``--password-stdin`` fed bytes that are not UTF-8: exit 2, nothing of them shown.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from chartforge.errors import EXIT_REFUSED, EXIT_TOOL_FAILED, EXIT_USAGE
from chartforge.package import package_charts
from tests.conftest import run_cli
from tests.package import SAMPLE
from tests.publish.conftest import LocalRegistry

BODIES = {
    "html": ("text/html", b"<!doctype html><html><body>Sign in to continue</body></html>"),
    "json-list": ("application/json", b"[1, 2, 3]"),
    "binary": ("application/octet-stream", b"\xff\xfe\x00garbage"),
}


class _Impostor(http.server.BaseHTTPRequestHandler):
    body: tuple[str, bytes] = BODIES["html"]

    def do_GET(self) -> None:
        content_type, data = self.server.body  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_HEAD = do_GET

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(params=sorted(BODIES))
def impostor(request: pytest.FixtureRequest) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Impostor)
    server.body = BODIES[request.param]  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("command", ["publish", "diff"])
def test_non_json_registry_answers_are_exit_3(impostor: str, command: str, tmp_path: Path) -> None:
    done = run_cli(
        "-C", str(SAMPLE), command, "--registry", f"oci://{impostor}/charts", "--plain-http",
        env={"CHARTFORGE_LOCK_DIR": str(tmp_path / "locks")},
    )  # fmt: skip
    assert done.returncode == EXIT_TOOL_FAILED, done.stderr
    assert "Traceback" not in done.stderr
    assert f"registry {impostor} answered" in done.stderr and "not a JSON object" in done.stderr


@pytest.mark.registry
def test_stale_provenance_is_refused_before_any_push(plain_registry: LocalRegistry, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    result = package_charts(SAMPLE / "charts", dist)
    # A .prov from another packaging (here: signing the cache archive) beside the db archive.
    db = result.get("db")
    db.path.with_name(db.path.name + ".prov").write_text(
        "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\nname: db\nversion: 1.0.0\n\n...\nfiles:\n"
        f"  {db.path.name}: sha256:{'0' * 64}\n-----BEGIN PGP SIGNATURE-----\n\nxx\n-----END PGP SIGNATURE-----\n"
    )
    target = plain_registry.target()
    done = run_cli(
        "-C", str(SAMPLE), "publish", "--dist", str(dist), *plain_registry.cli_args(target),
        env={"CHARTFORGE_LOCK_DIR": str(tmp_path / "locks")},
    )  # fmt: skip
    # publish re-packages into --dist: an unsigned run removes the stale file, so publish goes through…
    assert done.returncode == 0, done.stderr
    assert not db.path.with_name(db.path.name + ".prov").exists()


@pytest.mark.registry
@pytest.mark.helm
def test_provenance_not_matching_its_archive_is_never_pushed(
    plain_registry: LocalRegistry, tmp_path: Path
) -> None:
    from chartforge.publish.helmreg import select_helm
    from chartforge.publish.oci import OciClient
    from chartforge.publish.publish import publish

    result = package_charts(SAMPLE / "charts", tmp_path / "dist")
    db = result.get("db")
    db.path.with_name(db.path.name + ".prov").write_text(
        f"name: db\n...\nfiles:\n  {db.path.name}: sha256:{'0' * 64}\n"
    )
    target = plain_registry.target()
    with pytest.raises(Exception) as info:
        publish(result, target, select_helm(target))
    assert getattr(info.value, "exit_code", None) == EXIT_REFUSED
    assert "provenance does not match its archive: db-1.0.0.tgz.prov" in str(info.value)
    client = OciClient(target)
    assert all(client.manifest(target.repository(n), "1.0.0") is None for n in ("cache", "db", "stack"))


def test_password_stdin_not_utf8_is_a_usage_error(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    secret = b"p\xe4ss\xff"
    done = subprocess.run(
        [sys.executable, "-m", "chartforge", "-C", str(SAMPLE), "publish", "--registry", "oci://127.0.0.1:9/x",
         "--plain-http", "--password-stdin"],
        input=secret + b"\n", capture_output=True, timeout=120, check=False,
        env={**os.environ, "CHARTFORGE_REGISTRY_USERNAME": "ci", "CHARTFORGE_LOCK_DIR": str(tmp_path / "l")},
    )  # fmt: skip
    assert done.returncode == EXIT_USAGE, done.stderr
    assert b"Traceback" not in done.stderr
    assert b"stdin is not valid UTF-8" in done.stderr
    assert b"p\xe4ss" not in done.stderr + done.stdout
