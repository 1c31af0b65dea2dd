"""Editors complete and check every sub-chart key of ``values/<env>.yaml``: the real YAML language server.

``values/<env>.yaml`` names ``values/values.schema.json`` (the umbrella's own schema, a ``$ref`` per
sub-chart key to ``../charts/<sub>/values.schema.json``). This drives ``yaml-language-server``
(npm; ``ci/install.sh`` installs it, found as ``$YAML_LANGUAGE_SERVER`` or on PATH) over stdio as
an editor does: it must follow the relative ``$ref`` to each sub-chart's schema, offer that
sub-chart's keys under its section and flag a wrong value inside it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from pathlib import Path
from queue import Empty, Queue
from typing import Any

import pytest

from tests.conftest import ROOT, require_tool

TIMEOUT = 60.0


class Server:
    """A minimal LSP client: Content-Length framed JSON-RPC over the server's stdin/stdout."""

    def __init__(self, command: str) -> None:
        self.proc = subprocess.Popen([command, "--stdio"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL)  # fmt: skip
        self.messages: Queue[dict[str, Any]] = Queue()
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        while True:
            length = 0
            while (line := self.proc.stdout.readline().decode()) not in ("\r\n", ""):
                if line.lower().startswith("content-length:"):
                    length = int(line.split(":", 1)[1])
            if not line:
                return
            self.messages.put(json.loads(self.proc.stdout.read(length)))

    def send(self, message: dict[str, Any]) -> None:
        assert self.proc.stdin is not None
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def request(self, method: str, params: Any) -> Any:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        found = self.wait(lambda m: m.get("id") == self.next_id and "method" not in m)
        return found.get("result")

    def wait(self, wanted: Any, what: str = "an answer") -> dict[str, Any]:
        """The next message ``wanted`` accepts, answering the server's own requests meanwhile."""
        while True:
            try:
                message = self.messages.get(timeout=TIMEOUT)
            except Empty:
                pytest.fail(f"the YAML language server sent no {what} in {TIMEOUT:.0f} s")
            if "method" in message and "id" in message:  # workspace/configuration, registerCapability, …
                settings = {
                    "validate": True,
                    "completion": True,
                    "hover": True,
                    "schemaStore": {"enable": False},
                }
                items = (message.get("params") or {}).get("items") or []
                result = [settings for _ in items] if message["method"] == "workspace/configuration" else None
                self.send({"id": message["id"], "result": result})
                continue
            if wanted(message):
                return message

    def close(self) -> None:
        self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture(scope="module")
def server() -> Any:
    command = os.environ.get("YAML_LANGUAGE_SERVER") or shutil.which("yaml-language-server")
    if not command:
        command = require_tool("yaml-language-server")
    started = Server(command)
    root = ROOT.as_uri()
    started.request("initialize", {"processId": os.getpid(), "rootUri": root, "capabilities": {
        "workspace": {"configuration": True},
        "textDocument": {"completion": {"completionItem": {"snippetSupport": False}},
                         "publishDiagnostics": {}},
    }, "workspaceFolders": [{"uri": root, "name": "chartforge"}]})  # fmt: skip
    started.send({"method": "initialized", "params": {}})
    started.send({"method": "workspace/didChangeConfiguration", "params": {"settings": {"yaml": {
        "validate": True, "completion": True, "schemaStore": {"enable": False}}}}})  # fmt: skip
    yield started
    started.close()


TEXT = """# yaml-language-server: $schema=values.schema.json
global:
  environment: production
postgresql-ha:
  pgbouncer:
    port: not-a-port
redis-cluster:
  cluster:
    nodes: 6
  
"""  # noqa: W293 (line 9: the cursor for completion, two spaces into the redis-cluster section)


def test_completion_and_checks_reach_into_every_subchart_schema(server: Server) -> None:
    uri = (ROOT / "values" / "lsp-probe.yaml").as_uri()  # beside values/<env>.yaml; never written
    server.send({"method": "textDocument/didOpen", "params": {"textDocument": {
        "uri": uri, "languageId": "yaml", "version": 1, "text": TEXT}}})  # fmt: skip
    diagnostics = server.wait(
        lambda m: (
            m.get("method") == "textDocument/publishDiagnostics"
            and m["params"]["uri"] == uri
            and m["params"]["diagnostics"]
        ),
        "diagnostic for the wrong value under postgresql-ha",
    )["params"]["diagnostics"]
    assert [d["range"]["start"]["line"] for d in diagnostics] == [5], diagnostics  # port: not-a-port
    assert "integer" in diagnostics[0]["message"].lower(), diagnostics
    result = server.request("textDocument/completion", {"textDocument": {"uri": uri},
                                                        "position": {"line": 9, "character": 2}})  # fmt: skip
    items = result["items"] if isinstance(result, dict) else result
    labels = {item["label"] for item in items}
    redis = json.loads((ROOT / "charts" / "redis-cluster" / "values.schema.json").read_text())
    offered = set(redis["properties"]) - {"cluster"}  # already written in the section
    assert offered and offered <= labels, sorted(offered - labels)
    assert not {"pgbouncer", "postgresql"} & labels  # postgresql-ha's keys stay under postgresql-ha


def test_the_environment_files_name_the_editor_schema() -> None:
    for path in sorted((ROOT / "values").glob("*.yaml")):
        assert path.read_text().startswith("# yaml-language-server: $schema=values.schema.json\n"), path
    assert not Path(ROOT / "values" / "lsp-probe.yaml").exists()
