"""End to end against real registries (plain HTTP; TLS + htpasswd auth) with the real helm.

What a user does after a release — ``helm pull``, ``helm show``, ``helm template`` and
``helm install --dry-run=client`` from ``oci://`` with each ``values/<env>.yaml`` — and what
must never happen: a version overwritten with other content, a half release that cannot be
finished, a digest that depends on the machine that packaged it.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest
import yaml

from chartforge import proc
from chartforge.errors import EXIT_REFUSED
from chartforge.package import PackageResult, Signer, package_charts
from chartforge.publish.helmreg import HelmRegistry, select_helm
from chartforge.publish.oci import OciClient
from chartforge.publish.publish import ChartPublication, PublishIncomplete, PublishRefused, publish
from chartforge.publish.retry import RetryPolicy
from chartforge.publish.target import RegistryTarget
from chartforge.tools import Helm, find_helms
from tests.conftest import copy_tree, run_cli
from tests.package import SAMPLE
from tests.publish.conftest import FaultyProxy, LocalRegistry

pytestmark = [pytest.mark.registry, pytest.mark.helm]
FAST = RetryPolicy(attempts=3, initial_delay=0.1, max_delay=0.5)
ORDER = ["cache", "db", "stack"]  # sub-charts (alphabetical among themselves) before the umbrella


def manifests(registry: LocalRegistry, target: RegistryTarget) -> dict[str, str]:
    """``{chart: manifest digest}`` of every sample chart in ``target`` ("" when absent)."""
    client = OciClient(target, registry.credentials, retry=FAST)
    found = {name: client.manifest(target.repository(name), "1.0.0") for name in ORDER}
    return {name: m.digest if m else "" for name, m in found.items()}


def usable_helms(registry: LocalRegistry) -> list[Helm]:
    """helm 3 cannot reach a TLS registry on 127.0.0.1 (see ``select_helm``); helm 4 can."""
    return [h for h in find_helms() if h.major >= 4 or not registry.tls]


def test_publish_then_use_from_the_registry(
    registry: LocalRegistry, project: Path, packaged: PackageResult, tmp_path: Path
) -> None:
    target = registry.target()
    events: list[ChartPublication] = []
    result = publish(
        packaged,
        target,
        select_helm(target),
        credentials=registry.credentials,
        retry=FAST,
        on_event=events.append,
    )
    assert [e.name for e in events] == ORDER
    assert [c.status for c in result.charts] == ["pushed"] * 3
    assert all(c.manifest_digest.startswith("sha256:") for c in result.charts)
    umbrella = packaged.get("stack")
    envs = sorted((project / "values").glob("*.yaml"))
    for helm in usable_helms(registry):
        with HelmRegistry(helm, target, registry.credentials, retry=FAST) as session:
            ref, flags = target.chart_url("stack"), ["--version", "1.0.0", *session.transport_flags]
            pulled = tmp_path / f"pull-{helm.major}"
            pulled.mkdir()
            session.run(["pull", ref, *flags, "-d", pulled], what="helm pull")
            assert (pulled / umbrella.archive_name).read_bytes() == umbrella.path.read_bytes()
            shown = yaml.safe_load(session.run(["show", "chart", ref, *flags], what="helm show chart").stdout)
            assert (shown["name"], shown["version"]) == ("stack", "1.0.0")
            values = session.run(["show", "values", ref, *flags], what="helm show values").stdout
            assert yaml.safe_load(values) == yaml.safe_load(
                (project / "charts/stack/values.yaml").read_text()
            )
            for env_file in envs:
                wanted = yaml.safe_load(env_file.read_text())
                rendered = session.template("rel", ref, version="1.0.0", values=[env_file])
                docs = [d for d in yaml.safe_load_all(rendered) if d]
                deployments = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Deployment"}
                assert deployments["rel-db"]["spec"]["replicas"] == wanted["db"]["replicaCount"]
                assert ("rel-cache" in deployments) is wanted["cache"]["enabled"]
                if helm.major >= 4:  # helm 3.17 asks the API server for capabilities even with client dry-run
                    install: list[str | Path] = [
                        "install",
                        "rel",
                        ref,
                        *flags,
                        "--dry-run=client",
                        "-f",
                        env_file,
                    ]
                    out = session.run(install, what="helm install --dry-run=client").stdout
                    assert "STATUS: pending-install" in out and "name: rel-db" in out
    again = publish(packaged, target, select_helm(target), credentials=registry.credentials, retry=FAST)
    assert [c.status for c in again.charts] == ["unchanged"] * 3
    assert [c.manifest_digest for c in again.charts] == [c.manifest_digest for c in result.charts]


def test_changed_content_without_a_version_bump_is_refused(
    registry: LocalRegistry, project: Path, packaged: PackageResult, tmp_path: Path
) -> None:
    target = registry.target()
    helm = select_helm(target)
    publish(packaged, target, helm, credentials=registry.credentials, retry=FAST)
    before = manifests(registry, target)
    template = project / "charts/db/templates/configmap.yaml"
    template.write_text(template.read_text() + '  FEATURE_FLAG: "on"\n')
    changed = package_charts(project / "charts", tmp_path / "changed")
    with pytest.raises(PublishRefused) as info:
        publish(changed, target, helm, credentials=registry.credentials, retry=FAST)
    text = info.value.render()
    assert info.value.exit_code == EXIT_REFUSED
    assert [c.name for c in info.value.conflicts] == ["db", "stack"]
    assert packaged.get("db").digest in text and changed.get("db").digest in text
    assert "modified db/templates/configmap.yaml" in text
    assert "modified stack/charts/db-1.0.0.tgz!/db/templates/configmap.yaml" in text
    assert "bump the chart version" in text
    assert manifests(registry, target) == before, "nothing in the registry changed"
    # With the versions bumped, the same content goes through; cache stays as it was.
    for chart, old, new in (
        ("db", "version: 1.0.0", "version: 1.0.1"),
        ("stack", "version: 1.0.0", "version: 1.1.0"),
    ):
        path = project / f"charts/{chart}/Chart.yaml"
        path.write_text(path.read_text().replace(old, new, 1))
    stack = project / "charts/stack/Chart.yaml"
    stack.write_text(
        stack.read_text().replace("  - name: db\n    version: 1.0.0", "  - name: db\n    version: 1.0.1")
    )
    bumped = package_charts(project / "charts", tmp_path / "bumped")
    result = publish(bumped, target, helm, credentials=registry.credentials, retry=FAST)
    assert [(c.name, c.version, c.status) for c in result.charts] == [
        ("cache", "1.0.0", "unchanged"),
        ("db", "1.0.1", "pushed"),
        ("stack", "1.1.0", "pushed"),
    ]


def test_registry_down_mid_release_then_rerun_finishes(
    own_registry: LocalRegistry, packaged: PackageResult
) -> None:
    target = own_registry.target()
    helm = select_helm(target)

    def stop_after_first(event: ChartPublication) -> None:
        if event.name == "cache":
            own_registry.stop()

    started = time.monotonic()
    with pytest.raises(PublishIncomplete) as info:
        publish(packaged, target, helm, retry=FAST, on_event=stop_after_first)
    elapsed = time.monotonic() - started
    text = info.value.render()
    assert "already published: cache-1.0.0" in text
    assert "not published: db-1.0.0, stack-1.0.0" in text
    assert "unreachable after 3 attempts" in text and "re-run the same command" in text
    assert [c.status for c in info.value.result.charts] == ["pushed", "failed", "pending"]
    assert elapsed < 30, f"retries are bounded ({elapsed:.1f}s)"
    own_registry.start()
    rerun = publish(packaged, target, helm, retry=FAST)
    assert [c.status for c in rerun.charts] == ["unchanged", "pushed", "pushed"]


def test_helm_push_retries_server_errors(faulty_proxy: FaultyProxy, packaged: PackageResult) -> None:
    target = RegistryTarget.parse(f"oci://{faulty_proxy.own_host}/t-push-retry", plain_http=True)
    with HelmRegistry(select_helm(target), target, retry=FAST) as session:
        faulty_proxy.status, faulty_proxy.failures_left = 503, 1
        session.push(packaged.get("db").path)
        assert faulty_proxy.failures_left == 0
        faulty_proxy.failures_left = 1000
        with pytest.raises(Exception, match="failed after 3 attempts"):
            session.push(packaged.get("cache").path)


def test_same_manifest_digest_from_two_independent_clones(
    plain_registry: LocalRegistry, tmp_path: Path
) -> None:
    digests = []
    for index, (tz, base) in enumerate(
        [("Asia/Kathmandu", 1_100_000_000), ("America/St_Johns", 1_600_000_000)]
    ):
        clone = copy_tree(SAMPLE, tmp_path / f"clone-{index}")
        for n, path in enumerate(sorted(clone.rglob("*"))):
            os.utime(path, (base + n, base + 3 * n))
        target = plain_registry.target()
        done = run_cli("-C", str(clone), "publish", *plain_registry.cli_args(target), env={"TZ": tz})
        assert done.returncode == 0, done.stderr
        digests.append(list(manifests(plain_registry, target).values()))
    assert digests[0] == digests[1] and all(digests[0])


def test_cli_wrong_password_is_clear_and_secret(secure_registry: LocalRegistry) -> None:
    target = secure_registry.target()
    env = {"CHARTFORGE_REGISTRY_USERNAME": "chartforge", "CHARTFORGE_REGISTRY_PASSWORD": "Wr0ng-Secret-42"}
    done = run_cli("--debug", "-C", str(SAMPLE), "publish", *secure_registry.cli_args(target), env=env)
    assert done.returncode != 0
    assert "rejected the credentials" in done.stderr
    assert "Wr0ng-Secret-42" not in done.stdout + done.stderr
    plain = run_cli("-C", str(SAMPLE), "publish", *secure_registry.cli_args(target), env=env)
    assert plain.returncode == 1 and plain.stderr.startswith("error: ") and "Traceback" not in plain.stderr


def test_cli_password_stdin_json_and_refusal_exit_code(secure_registry: LocalRegistry, project: Path) -> None:
    target = secure_registry.target()
    args = [
        "-C",
        str(project),
        "publish",
        *secure_registry.cli_args(target),
        "--password-stdin",
        "-o",
        "json",
    ]
    env = {"CHARTFORGE_REGISTRY_USERNAME": "chartforge", "CHARTFORGE_REGISTRY_PASSWORD": ""}
    password = secure_registry.credentials.password  # type: ignore[union-attr]
    done = run_cli(*args, env=env, input_text=password + "\n")
    assert done.returncode == 0, done.stderr
    data = yaml.safe_load(done.stdout)
    assert [c["status"] for c in data["charts"]] == ["pushed"] * 3
    values = project / "charts/cache/values.yaml"
    values.write_text(values.read_text().replace("logLevel: info", "logLevel: debug"))
    refused = run_cli(*args, env=env, input_text=password + "\n")
    assert refused.returncode == EXIT_REFUSED
    # caught by the release-safety comparison before anything is packaged (chartforge.compat)
    assert "refusing to release cache, stack" in refused.stderr
    assert "CF-REL-001 charts/cache/Chart.yaml:" in refused.stderr and "use 1.0.1" in refused.stderr
    assert "values.yaml: file changed" in refused.stderr


def test_helm_can_verify_a_signed_chart_pulled_from_the_registry(plain_registry: LocalRegistry) -> None:
    """helm push carries the .prov beside the archive; the chart layer digest is unchanged by it."""
    target = plain_registry.target()
    with tempfile.TemporaryDirectory(prefix="cf-gpg-") as tmp:  # short path: gpg-agent's socket
        home = Path(tmp)
        base: list[str | Path] = ["gpg", "--batch", "--homedir", home]
        try:
            proc.run(
                [*base, "--passphrase", "", "--quick-gen-key", "CF Push <p@cf.invalid>", "rsa2048", "sign"]
            )
            proc.run([*base, "--armor", "--export-secret-keys", "-o", home / "key.asc"])
            proc.run([*base, "--export", "-o", home / "pubring.gpg"])
        finally:
            proc.run(["gpgconf", "--homedir", home, "--kill", "all"], check=False)
        signed = package_charts(SAMPLE / "charts", home / "dist", signer=Signer(home / "key.asc"))
        publish(signed, target, select_helm(target), retry=FAST)
        manifest = OciClient(target).manifest(target.repository("db"), "1.0.0")
        assert manifest is not None and len(manifest.layers) == 2
        assert manifest.chart_layer is not None and manifest.chart_layer.digest == signed.get("db").digest
        with HelmRegistry(select_helm(target), target) as session:
            pull: list[str | Path] = ["pull", target.chart_url("db"), "--version", "1.0.0", "--plain-http",
                                      "--verify", "--keyring", home / "pubring.gpg", "-d", home]  # fmt: skip
            out = session.run(pull, what="helm pull --verify")
            assert "Signed by: CF Push" in out.stdout + out.stderr
