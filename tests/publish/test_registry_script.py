"""``ci/registry.sh``: start on a free port, answer /v2/, auth and TLS, stop by pid."""

from __future__ import annotations

import ssl
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from chartforge import proc
from tests.publish.conftest import PASSWORD, SCRIPT, USER, LocalRegistry

pytestmark = pytest.mark.registry


def _status(url: str, ca: Path | None = None, auth: tuple[str, str] | None = None) -> int:
    request = urllib.request.Request(url + "/v2/")
    if auth:
        import base64

        request.add_header("Authorization", "Basic " + base64.b64encode(":".join(auth).encode()).decode())
    context = ssl.create_default_context(cafile=str(ca)) if ca else None
    try:
        with urllib.request.urlopen(request, timeout=5, context=context) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        return exc.code


def test_start_status_stop(own_registry: LocalRegistry) -> None:
    state = own_registry.state
    assert state["URL"].startswith("http://127.0.0.1:") and int(state["PORT"]) > 0
    assert _status(state["URL"]) == 200
    config = (own_registry.directory / "config.yml").read_text()
    assert f"addr: 127.0.0.1:{state['PORT']}" in config
    assert proc.run(["bash", SCRIPT, "status", "--dir", own_registry.directory]).returncode == 0
    own_registry.stop()
    done = proc.run(["bash", SCRIPT, "status", "--dir", own_registry.directory], check=False)
    assert done.returncode == 1
    assert proc.run(["kill", "-0", state["PID"]], check=False).returncode != 0, "the process is gone"
    own_registry.start()  # same port, same storage
    assert own_registry.state["PORT"] == state["PORT"]


def test_tls_and_auth(secure_registry: LocalRegistry) -> None:
    url, ca = secure_registry.state["URL"], secure_registry.ca_file
    assert url.startswith("https://") and ca is not None
    assert _status(url, ca) == 401
    assert _status(url, ca, (USER, PASSWORD)) == 200
    assert _status(url, ca, (USER, "wrong")) == 401
    assert _status(url.replace("127.0.0.1", "localhost"), ca, (USER, PASSWORD)) == 200  # SAN
    htpasswd = (secure_registry.directory / "htpasswd").read_text()
    assert htpasswd.startswith(f"{USER}:$2y$") and PASSWORD not in htpasswd  # bcrypt


def test_usage_errors(tmp_path: Path) -> None:
    done = proc.run(["bash", SCRIPT, "start", "--dir", tmp_path, "--auth", "no-colon"], check=False)
    assert done.returncode == 1 and "--auth expects USER:PASS" in done.stderr
    done = proc.run(["bash", SCRIPT, "frobnicate"], check=False)
    assert done.returncode == 1 and "unknown command" in done.stderr


def test_a_taken_port_is_a_clear_error(own_registry: LocalRegistry, tmp_path: Path) -> None:
    port = own_registry.state["PORT"]
    done = proc.run(
        ["bash", SCRIPT, "start", "--dir", tmp_path / "second", "--port", port], check=False, timeout=60
    )
    assert done.returncode == 1
    assert "could not start docker-registry" in done.stderr and "address already in use" in done.stderr
    # Never "started" on the strength of the first registry answering the probe on that port.
    assert not (tmp_path / "second" / "registry.state").exists()
