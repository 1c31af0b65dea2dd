"""Registry URLs and credentials: parsed strictly, the password never shown."""

from __future__ import annotations

from pathlib import Path

import pytest

from chartforge.errors import UsageError, UserError
from chartforge.publish.target import (
    Credentials,
    RegistryTarget,
    credentials_from_env,
    credentials_from_stdin,
    tag_for,
    target_from_catalog,
)
from tests.conftest import CASES, copy_tree


@pytest.mark.parametrize(
    ("url", "host", "namespace"),
    [
        ("oci://ghcr.io/my-org/charts", "ghcr.io", "my-org/charts"),
        ("oci://127.0.0.1:5000/charts/", "127.0.0.1:5000", "charts"),
        ("oci://registry.example.com", "registry.example.com", ""),
    ],
)
def test_parse(url: str, host: str, namespace: str) -> None:
    target = RegistryTarget.parse(url)
    assert (target.host, target.namespace) == (host, namespace)
    assert target.chart_url("db") == f"oci://{host}/{namespace + '/' if namespace else ''}db"
    assert target.base_url.startswith("https://")


@pytest.mark.parametrize(
    "url", ["https://ghcr.io/x", "oci://", "oci://host/Upper", "oci://host/a b", "ghcr.io/x"]
)
def test_parse_rejects(url: str) -> None:
    with pytest.raises(UsageError):
        RegistryTarget.parse(url)


def test_missing_ca_file_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="CA file not found"):
        RegistryTarget.parse("oci://h/x", ca_file=tmp_path / "nope.pem")


def test_tag_for_build_metadata() -> None:
    assert tag_for("1.2.3+build.5") == "1.2.3_build.5"


def test_credentials_from_env() -> None:
    env = {"CHARTFORGE_REGISTRY_USERNAME": "u", "CHARTFORGE_REGISTRY_PASSWORD": "hunter2"}
    creds = credentials_from_env(env)
    assert creds == Credentials("u", "hunter2")
    assert "hunter2" not in repr(creds)
    assert credentials_from_env({}) is None
    with pytest.raises(UsageError, match="CHARTFORGE_REGISTRY_PASSWORD is not set"):
        credentials_from_env({"CHARTFORGE_REGISTRY_USERNAME": "u"})


def test_credentials_from_stdin() -> None:
    env = {"CHARTFORGE_REGISTRY_USERNAME": "u"}
    assert credentials_from_stdin("pw\n", env) == Credentials("u", "pw")
    with pytest.raises(UsageError, match="stdin is empty"):
        credentials_from_stdin("", env)
    with pytest.raises(UsageError, match="needs the user name"):
        credentials_from_stdin("pw\n", {})


def test_target_from_catalog_and_overrides(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="no registry given"):
        target_from_catalog(tmp_path, plain_http=None, ca_file=None)
    # a copy: loading a catalog keeps its parsed specs in the project's .chartforge/
    base = copy_tree(CASES / "build" / "base", tmp_path / "base")
    target = target_from_catalog(base, plain_http=None, ca_file=None)
    assert (target.host, target.namespace, target.plain_http) == ("127.0.0.1:5000", "demo", True)
    assert target_from_catalog(base, plain_http=False, ca_file=None).plain_http is False
