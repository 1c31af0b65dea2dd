"""Real OCI registries for the publish tests, started and stopped by ``ci/registry.sh``.

``plain_registry`` (HTTP, no auth) and ``secure_registry`` (TLS with a self-signed CA +
htpasswd auth) live for the whole session; each test pushes to its own namespace so tests do
not see each other's charts. ``own_registry`` is a per-test registry a test may stop and
restart (registry down mid-release). ``faulty_proxy`` sits in front of a registry and
answers the first N requests with an HTTP error (5xx, 429), then forwards for real.
"""

from __future__ import annotations

import http.server
import itertools
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from chartforge import proc
from chartforge.package import PackageResult, package_charts
from chartforge.publish.target import Credentials, RegistryTarget
from tests.conftest import ROOT, copy_tree, require_tool
from tests.package import SAMPLE

SCRIPT = ROOT / "ci" / "registry.sh"
USER, PASSWORD = "chartforge", "s3cret-Pa55word"  # test registry only
_namespaces = itertools.count(1)


@dataclass
class LocalRegistry:
    directory: Path
    tls: bool = False
    auth: bool = False
    port: int = 0
    state: dict[str, str] = field(default_factory=dict)

    def start(self) -> None:
        args: list[str | Path] = ["bash", SCRIPT, "start", "--dir", self.directory, "--port", str(self.port)]
        args += ["--tls"] if self.tls else []
        env = {"CHARTFORGE_REGISTRY_USERNAME": USER, "CHARTFORGE_REGISTRY_PASSWORD": PASSWORD}
        args += ["--auth-env"] if self.auth else []
        proc.run(args, env=env, timeout=60, what="ci/registry.sh start")
        text = (self.directory / "registry.state").read_text()
        self.state = dict(line.split("=", 1) for line in text.splitlines() if "=" in line)
        self.port = int(self.state["PORT"])  # a restart reuses the port (and the storage)

    def stop(self) -> None:
        proc.run(["bash", SCRIPT, "stop", "--dir", self.directory], timeout=60, what="ci/registry.sh stop")

    @property
    def host(self) -> str:
        return self.state["HOST"]

    @property
    def ca_file(self) -> Path | None:
        return Path(self.state["CA"]) if self.state.get("CA") else None

    @property
    def credentials(self) -> Credentials | None:
        return Credentials(USER, PASSWORD) if self.auth else None

    def target(self, namespace: str | None = None) -> RegistryTarget:
        """A fresh namespace per call unless one is given."""
        ns = namespace or f"t{next(_namespaces)}"
        return RegistryTarget.parse(f"oci://{self.host}/{ns}", plain_http=not self.tls, ca_file=self.ca_file)

    def cli_args(self, target: RegistryTarget) -> list[str]:
        args = ["--registry", target.url]
        args += ["--ca-file", str(self.ca_file)] if self.ca_file else ["--plain-http"]
        return args

    @property
    def cli_env(self) -> dict[str, str]:
        return (
            {"CHARTFORGE_REGISTRY_USERNAME": USER, "CHARTFORGE_REGISTRY_PASSWORD": PASSWORD}
            if self.auth
            else {}
        )


def _require_registry_tools(tls: bool, auth: bool) -> None:
    require_tool("docker-registry")
    if tls:
        require_tool("openssl")
    if auth:
        require_tool("htpasswd")


@pytest.fixture(scope="session")
def plain_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    _require_registry_tools(False, False)
    registry = LocalRegistry(tmp_path_factory.mktemp("registry-plain"))
    registry.start()
    yield registry
    registry.stop()


@pytest.fixture(scope="session")
def secure_registry(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalRegistry]:
    _require_registry_tools(True, True)
    registry = LocalRegistry(tmp_path_factory.mktemp("registry-secure"), tls=True, auth=True)
    registry.start()
    yield registry
    registry.stop()


@pytest.fixture(params=["plain", "tls+auth"])
def registry(request: pytest.FixtureRequest) -> LocalRegistry:
    """Each test using this runs against both registries."""
    name = "plain_registry" if request.param == "plain" else "secure_registry"
    found: LocalRegistry = request.getfixturevalue(name)
    return found


@pytest.fixture
def own_registry(tmp_path: Path) -> Iterator[LocalRegistry]:
    _require_registry_tools(False, False)
    registry = LocalRegistry(tmp_path / "registry")
    registry.start()
    yield registry
    registry.stop()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the sample project (charts/ + values/) the test may edit."""
    return copy_tree(SAMPLE, tmp_path / "project")


@pytest.fixture
def packaged(project: Path, tmp_path: Path) -> PackageResult:
    return package_charts(project / "charts", tmp_path / "dist")


@pytest.fixture
def helm_bin() -> str:
    return require_tool("helm")


def relay(
    handler: http.server.BaseHTTPRequestHandler, upstream: str, own_host: str, body: bytes | None
) -> None:
    """Forward the handler's request to ``upstream`` (http://host:port) and send the registry's reply
    back, with the upstream's address in headers (Location) rewritten to ``own_host``."""
    headers = {k: v for k, v in handler.headers.items() if k.lower() not in ("host", "connection")}
    request = urllib.request.Request(
        upstream + handler.path, data=body, headers=headers, method=handler.command
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, reply, data = response.status, response.headers, response.read()
    except urllib.error.HTTPError as exc:
        status, reply, data = exc.code, exc.headers, exc.read()
    handler.send_response(status)
    upstream_host = upstream.removeprefix("http://")
    for key, value in reply.items():
        if key.lower() not in ("content-length", "connection", "transfer-encoding", "date", "server"):
            handler.send_header(key, value.replace(upstream_host, own_host))
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(data)


class _FaultyHandler(http.server.BaseHTTPRequestHandler):
    server: FaultyProxy

    def _handle(self) -> None:
        self.server.requests += 1
        if self.server.failures_left > 0:
            self.server.failures_left -= 1
            self.send_response(self.server.status)
            self.send_header("Content-Length", "0")
            if self.server.status == 429:
                self.send_header("Retry-After", "0")
            self.end_headers()
            return
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        relay(self, self.server.upstream, self.server.own_host, body)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _handle

    def log_message(self, format: str, *args: object) -> None:
        pass


class FaultyProxy(http.server.ThreadingHTTPServer):
    upstream = ""
    own_host = ""
    status = 503
    failures_left = 0
    requests = 0


@pytest.fixture
def faulty_proxy(plain_registry: LocalRegistry) -> Iterator[FaultyProxy]:
    """An HTTP proxy to ``plain_registry``; set ``.status`` and ``.failures_left`` to inject faults."""
    server = FaultyProxy(("127.0.0.1", 0), _FaultyHandler)
    server.upstream = f"http://{plain_registry.host}"
    server.own_host = f"127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
