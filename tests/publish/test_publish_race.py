"""Two releases of different content for one version, against the real registry and helm.

What must never happen: both report success, the loser reports success while the registry
holds the winner's charts, or the registry ends with an umbrella whose embedded sub-charts
are not the sub-charts published beside it. The lost race is exit 4, naming the charts.

* ``test_concurrent_cli_publishes_*``: two real ``chartforge publish`` processes started
  together, many rounds, on one machine (the lock serialises them) and as if on two machines
  (separate lock directories: only the read-back checks guard).
* ``test_lost_race_*``: the other release's push is made to land at the exact worst moment by a
  helm wrapper that runs the real helm push and then pushes the other archive with the real helm.
* ``test_registry_tag_immutability_*``: a proxy in front of the real registry refuses to
  overwrite an existing tag with the error ECR returns (docker-registry itself has no
  immutability setting), as ECR/Harbor/Artifact Registry/ACR do when it is enabled.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import os
import subprocess
import sys
import tarfile
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from chartforge.errors import EXIT_REFUSED
from chartforge.package import PackageResult, package_charts
from chartforge.publish.helmreg import select_helm
from chartforge.publish.oci import OciClient
from chartforge.publish.publish import RACE_NOTE, PublishConflict, publish
from chartforge.publish.retry import RetryPolicy
from chartforge.publish.target import RegistryTarget
from chartforge.tools import Helm
from tests.conftest import copy_tree
from tests.package import SAMPLE
from tests.publish.conftest import LocalRegistry, relay

pytestmark = [pytest.mark.registry, pytest.mark.helm]
FAST = RetryPolicy(attempts=3, initial_delay=0.1, max_delay=0.5)
CHARTS = ["cache", "db", "stack"]


def _variant(tmp_path: Path, name: str) -> Path:
    """A copy of the sample project whose three charts differ from the sample's (same versions)."""
    root = copy_tree(SAMPLE, tmp_path / name)
    for chart in CHARTS:
        with (root / "charts" / chart / "values.yaml").open("a") as fh:
            fh.write(f"# variant {name}\n")
    return root


def _layers(registry: LocalRegistry, target: RegistryTarget) -> dict[str, str]:
    client = OciClient(target, registry.credentials, retry=FAST)
    found = {name: client.manifest(target.repository(name), "1.0.0") for name in CHARTS}
    return {n: (m.chart_layer.digest if m and m.chart_layer else "") for n, m in found.items()}


def _digests(package: PackageResult) -> dict[str, str]:
    return {c.name: c.digest for c in package.charts}


def _assert_umbrella_consistent(registry: LocalRegistry, target: RegistryTarget) -> None:
    """The umbrella in the registry embeds exactly the sub-chart archives the registry holds."""
    client = OciClient(target, registry.credentials, retry=FAST)
    layers = _layers(registry, target)
    if not layers["stack"]:
        return
    umbrella = client.blob(target.repository("stack"), layers["stack"])
    with tarfile.open(fileobj=io.BytesIO(umbrella)) as tar:
        for dep in ("cache", "db"):
            member = tar.extractfile(f"stack/charts/{dep}-1.0.0.tgz")
            assert member is not None
            embedded = "sha256:" + hashlib.sha256(member.read()).hexdigest()
            assert embedded == layers[dep], f"umbrella embeds another {dep} than the registry holds"


def _start_publish(project: Path, registry: LocalRegistry, target: RegistryTarget, lock_dir: Path) -> subprocess.Popen[str]:  # fmt: skip
    env = {**os.environ, **registry.cli_env, "CHARTFORGE_LOCK_DIR": str(lock_dir)}
    args = [sys.executable, "-m", "chartforge", "-C", str(project), "publish", *registry.cli_args(target)]
    args += ["--backoff", "0.1", "--retries", "3", "--dist", str(project / "dist")]
    # The race under test is between pushes. With the release-safety comparison on, a loser that starts
    # after the winner's push is refused earlier (CF-REL-001, tests/publish/test_compat_e2e.py); skip it
    # here so every round exercises the publish lock and the read-back after each push.
    args += ["--skip-compat"]
    return subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _race(registry: LocalRegistry, tmp_path: Path, rounds: int, *, shared_lock: bool) -> None:
    projects = [_variant(tmp_path, "a"), _variant(tmp_path, "b")]
    wins = 0
    for round_ in range(rounds):
        target = registry.target()
        locks = [tmp_path / "lock"] * 2 if shared_lock else [tmp_path / "lock-a", tmp_path / "lock-b"]
        running = [_start_publish(p, registry, target, lock) for p, lock in zip(projects, locks, strict=True)]
        outcomes = [(p.wait(timeout=300), p.communicate()[1]) for p in running]
        codes = [code for code, _ in outcomes]
        for code, stderr in outcomes:
            assert "Traceback" not in stderr
            assert code in (0, EXIT_REFUSED), stderr
            if code == EXIT_REFUSED:
                assert "stack-1.0.0" in stderr or "cache-1.0.0" in stderr or "db-1.0.0" in stderr, stderr
        assert codes != [0, 0], f"round {round_}: both releases reported success"
        held = _layers(registry, target)
        for project, code in zip(projects, codes, strict=True):
            if code == 0:
                local = _digests(package_charts(project / "charts", tmp_path / "check" / project.name))
                assert held == local, (
                    f"round {round_}: the release that exited 0 is not what the registry holds"
                )
                wins += 1
        if shared_lock:
            assert sorted(codes) == [0, EXIT_REFUSED], f"round {round_}: {outcomes}"
        if shared_lock or 0 in codes:
            # Across machines on a registry without tag immutability, the other machine's push can land
            # after this one's last read-back (docs/publishing.md, "Two releases racing"): the registry
            # may then mix both releases, and both runs must have said so (exit 4, checked above).
            _assert_umbrella_consistent(registry, target)
    if shared_lock:
        assert wins == rounds


def test_concurrent_cli_publishes_on_one_machine(plain_registry: LocalRegistry, tmp_path: Path) -> None:
    _race(plain_registry, tmp_path, 5, shared_lock=True)


def test_concurrent_cli_publishes_as_if_from_two_machines(
    plain_registry: LocalRegistry, tmp_path: Path
) -> None:
    _race(plain_registry, tmp_path, 3, shared_lock=False)


def _racing_helm(tmp_path: Path, real: Helm, when: str, other: Path, target: RegistryTarget) -> Helm:
    """A helm that, pushing an archive whose name starts with ``when``, runs the real push and
    then pushes ``other`` (the concurrent release's archive) with the real helm."""
    script = tmp_path / "racing-helm"
    script.write_text(
        "#!/bin/sh\n"
        f'"{real.path}" "$@" || exit $?\n'
        f'case "$1:$(basename "$2")" in push:{when}*) '
        f'"{real.path}" push "{other}" "{target.url}" --plain-http >/dev/null 2>&1 || exit 99 ;; esac\n'
    )
    script.chmod(0o755)
    return Helm(str(script), real.version)


@pytest.fixture
def two_releases(tmp_path: Path) -> tuple[PackageResult, PackageResult]:
    a = package_charts(_variant(tmp_path, "a") / "charts", tmp_path / "dist-a")
    b = package_charts(_variant(tmp_path, "b") / "charts", tmp_path / "dist-b")
    return a, b


@pytest.mark.parametrize(
    ("when", "lost"),
    [("cache", "cache"), ("db", "cache")],
    ids=["overwritten-right-after-push", "sub-chart-overwritten-before-umbrella"],
)
def test_lost_race_is_exit_4_and_the_umbrella_is_not_pushed(
    plain_registry: LocalRegistry,
    two_releases: tuple[PackageResult, PackageResult],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    when: str,
    lost: str,
) -> None:
    monkeypatch.setenv("CHARTFORGE_LOCK_DIR", str(tmp_path / "locks"))
    mine, theirs = two_releases
    target = plain_registry.target()
    helm = _racing_helm(tmp_path, select_helm(target), when, theirs.get(lost).path, target)
    with pytest.raises(PublishConflict) as info:
        publish(mine, target, helm, retry=FAST)
    assert info.value.exit_code == EXIT_REFUSED
    assert [c.name for c in info.value.conflicts] == [lost]
    assert RACE_NOTE in info.value.render()
    assert f"{lost}-1.0.0" in info.value.message
    assert _layers(plain_registry, target)["stack"] == "", "an umbrella was pushed over foreign sub-charts"
    assert _layers(plain_registry, target)[lost] == theirs.get(lost).digest


class _ImmutableProxy(http.server.ThreadingHTTPServer):
    upstream = ""
    refused = 0


class _ImmutableHandler(http.server.BaseHTTPRequestHandler):
    """Forwards to the registry, but refuses a manifest PUT to a tag that exists (as ECR does)."""

    server: _ImmutableProxy

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        parts = self.path.split("?")[0].split("/manifests/")
        if self.command == "PUT" and len(parts) == 2 and not parts[1].startswith("sha256:"):
            head = urllib.request.Request(self.server.upstream + self.path.split("?")[0], method="HEAD")
            head.add_header("Accept", "application/vnd.oci.image.manifest.v1+json")
            try:
                urllib.request.urlopen(head, timeout=30).close()
                exists = True
            except urllib.error.HTTPError:
                exists = False
            if exists:
                self.server.refused += 1
                repo, tag = parts[0].removeprefix("/v2/"), parts[1]
                message = (
                    f"The image tag '{tag}' already exists in the '{repo}' repository and cannot be "
                    "overwritten because the repository is immutable."
                )
                data = json.dumps({"errors": [{"code": "TAG_INVALID", "message": message}]}).encode()
                self.send_response(400)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                return
        relay(self, self.server.upstream, f"127.0.0.1:{self.server.server_address[1]}", body)

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _forward

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def immutable_proxy(plain_registry: LocalRegistry) -> Iterator[_ImmutableProxy]:
    server = _ImmutableProxy(("127.0.0.1", 0), _ImmutableHandler)
    server.upstream = f"http://{plain_registry.host}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_registry_tag_immutability_refusal_is_reported_as_the_conflict(
    plain_registry: LocalRegistry,
    immutable_proxy: _ImmutableProxy,
    two_releases: tuple[PackageResult, PackageResult],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CHARTFORGE_LOCK_DIR", str(tmp_path / "locks"))
    mine, theirs = two_releases
    namespace = plain_registry.target().namespace
    direct = RegistryTarget.parse(f"oci://{plain_registry.host}/{namespace}", plain_http=True)
    proxied = RegistryTarget.parse(f"oci://127.0.0.1:{immutable_proxy.server_address[1]}/{namespace}", plain_http=True)  # fmt: skip
    real = select_helm(proxied)
    # The other release's cache lands (directly) between our last look and our push.
    script = tmp_path / "helm-other-first"
    script.write_text(
        "#!/bin/sh\n"
        f'case "$1:$(basename "$2")" in push:cache*) "{real.path}" push "{theirs.get("cache").path}" '
        f'"{direct.url}" --plain-http >/dev/null 2>&1 || exit 99 ;; esac\n'
        f'exec "{real.path}" "$@"\n'
    )
    script.chmod(0o755)
    with pytest.raises(PublishConflict) as info:
        publish(mine, proxied, Helm(str(script), real.version), retry=FAST)
    assert immutable_proxy.refused == 1
    assert info.value.exit_code == EXIT_REFUSED
    assert [c.name for c in info.value.conflicts] == ["cache"]
    assert "tag immutability" in info.value.render()
    assert _layers(plain_registry, direct) == {"cache": theirs.get("cache").digest, "db": "", "stack": ""}
    # Same content already there under an immutable tag: unchanged, not an error.
    done = publish(theirs, proxied, real, retry=FAST)
    assert [c.status for c in done.charts] == ["unchanged", "pushed", "pushed"]
