"""The OCI client against a real registry: lookups, auth, retries on refused connections and 5xx/429."""

from __future__ import annotations

import time

import pytest

from chartforge.errors import ToolError, UserError
from chartforge.package import PackageResult
from chartforge.publish.helmreg import HelmRegistry, select_helm
from chartforge.publish.oci import CHART_LAYER, OciClient
from chartforge.publish.retry import RetryPolicy
from chartforge.publish.target import Credentials, RegistryTarget
from tests.publish.conftest import FaultyProxy, LocalRegistry

pytestmark = [pytest.mark.registry, pytest.mark.helm]
FAST = RetryPolicy(attempts=3, initial_delay=0.05, max_delay=0.2)


def _push(registry: LocalRegistry, target: RegistryTarget, packaged: PackageResult) -> None:
    with HelmRegistry(select_helm(target), target, registry.credentials, retry=FAST) as session:
        session.push(packaged.get("db").path)


def test_manifest_blob_tags(registry: LocalRegistry, packaged: PackageResult) -> None:
    target = registry.target()
    client = OciClient(target, registry.credentials, retry=FAST)
    assert client.manifest(target.repository("db"), "1.0.0") is None
    assert client.tags(target.repository("db")) == []
    _push(registry, target, packaged)
    manifest = client.manifest(target.repository("db"), "1.0.0")
    assert manifest is not None and manifest.digest.startswith("sha256:")
    layer = manifest.chart_layer
    assert layer is not None and layer.media_type == CHART_LAYER
    assert layer.digest == packaged.get("db").digest
    assert client.blob(target.repository("db"), layer.digest) == packaged.get("db").path.read_bytes()
    assert client.tags(target.repository("db")) == ["1.0.0"]
    assert dict(manifest.annotations)["org.opencontainers.image.created"] == "1970-01-01T00:00:00Z"


def test_wrong_password_and_no_credentials(secure_registry: LocalRegistry) -> None:
    target = secure_registry.target()
    with pytest.raises(UserError, match="rejected the credentials") as info:
        OciClient(target, Credentials("chartforge", "wrong-password"), retry=FAST).tags(
            target.repository("x")
        )
    assert "wrong-password" not in info.value.render()
    with pytest.raises(UserError, match="requires credentials"):
        OciClient(target, None, retry=FAST).tags(target.repository("x"))


def test_tls_without_the_ca_is_a_clear_error(secure_registry: LocalRegistry) -> None:
    target = RegistryTarget.parse(secure_registry.target().url)  # no CA file
    with pytest.raises(ToolError, match="TLS error") as info:
        OciClient(target, secure_registry.credentials, retry=FAST).tags("x")
    assert "--ca-file" in info.value.render()


def test_connection_refused_is_retried_then_reported(own_registry: LocalRegistry) -> None:
    target = own_registry.target()
    own_registry.stop()
    started = time.monotonic()
    with pytest.raises(ToolError, match="unreachable after 3 attempts"):
        OciClient(target, retry=FAST).manifest(target.repository("db"), "1.0.0")
    assert time.monotonic() - started < 5, "bounded"


@pytest.mark.parametrize("status", [503, 500, 429])
def test_server_errors_are_retried(status: int, faulty_proxy: FaultyProxy) -> None:
    faulty_proxy.status, faulty_proxy.failures_left = status, 2
    target = RegistryTarget.parse(f"oci://{faulty_proxy.own_host}/t-proxy", plain_http=True)
    assert OciClient(target, retry=FAST).tags("t-proxy/none") == []
    assert faulty_proxy.requests == 3 and faulty_proxy.failures_left == 0
    faulty_proxy.failures_left = 10
    with pytest.raises(ToolError, match=f"HTTP {status}"):
        OciClient(target, retry=FAST).tags("t-proxy/none")
