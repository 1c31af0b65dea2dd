"""Where charts go (``oci://HOST[:PORT]/NAMESPACE``) and with which credentials.

Credentials come from ``CHARTFORGE_REGISTRY_USERNAME`` / ``CHARTFORGE_REGISTRY_PASSWORD`` or
from stdin, never from the command line; :class:`Credentials` keeps the password out of
``repr`` so it cannot leak into a log or a traceback by accident.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from chartforge.compile.catalog import load_catalog
from chartforge.errors import UsageError, UserError
from chartforge.project import Project

_OCI_URL = re.compile(r"(?P<host>[A-Za-z0-9.-]+(?::[0-9]+)?)(?:/(?P<ns>[a-z0-9]+(?:[._/-][a-z0-9]+)*))?")
ENV_USERNAME = "CHARTFORGE_REGISTRY_USERNAME"
ENV_PASSWORD = "CHARTFORGE_REGISTRY_PASSWORD"


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str = field(repr=False)


@dataclass(frozen=True)
class RegistryTarget:
    host: str  # "127.0.0.1:5000", "ghcr.io"
    namespace: str  # "charts", "my-org/charts", or "" for the registry root
    plain_http: bool = False
    ca_file: Path | None = None

    @classmethod
    def parse(cls, url: str, *, plain_http: bool = False, ca_file: Path | None = None) -> RegistryTarget:
        if not url.startswith("oci://"):
            raise UsageError(
                f"registry {url!r} must start with oci://", hint="e.g. oci://ghcr.io/my-org/charts"
            )
        rest = url.removeprefix("oci://")
        authority = rest.split("/", 1)[0]
        if "@" in authority:
            shown = "oci://***@" + rest.split("@", 1)[1]
            raise UsageError(
                f"registry {shown!r} has credentials in its URL (not shown)",
                hint=f"remove them; set {ENV_USERNAME} and {ENV_PASSWORD}, or use --password-stdin",
            )
        match = _OCI_URL.fullmatch(rest.rstrip("/"))
        if match is None:
            raise UsageError(
                f"registry {url!r} is not oci://HOST[:PORT][/NAMESPACE]",
                hint="namespaces are lower-case: letters, digits, '.', '_', '-', '/'",
            )
        host, namespace = match.group("host"), match.group("ns") or ""
        port = host.rpartition(":")[2] if ":" in host else ""
        if port and not 1 <= int(port) <= 65535:
            raise UsageError(f"registry {url!r}: port {port} is not between 1 and 65535")
        if ca_file is not None and not ca_file.is_file():
            raise UserError("CA file not found", path=ca_file, hint="--ca-file expects a PEM bundle")
        return cls(host, namespace, plain_http, ca_file)

    @property
    def url(self) -> str:
        return f"oci://{self.host}/{self.namespace}".rstrip("/")

    def repository(self, chart: str) -> str:
        """The OCI repository name of ``chart`` (what goes after ``/v2/``)."""
        return f"{self.namespace}/{chart}" if self.namespace else chart

    def chart_url(self, chart: str) -> str:
        return f"oci://{self.host}/{self.repository(chart)}"

    @property
    def base_url(self) -> str:
        return f"{'http' if self.plain_http else 'https'}://{self.host}"


def tag_for(version: str) -> str:
    """helm stores version ``1.0.0+build`` under tag ``1.0.0_build`` (``+`` is not legal in tags)."""
    return version.replace("+", "_")


def credentials_from_env(environ: dict[str, str] | None = None) -> Credentials | None:
    env = os.environ if environ is None else environ
    user, password = env.get(ENV_USERNAME, ""), env.get(ENV_PASSWORD, "")
    if bool(user) != bool(password):
        missing = ENV_PASSWORD if user else ENV_USERNAME
        raise UsageError(
            f"{missing} is not set", hint=f"set both {ENV_USERNAME} and {ENV_PASSWORD}, or neither"
        )
    return Credentials(user, password) if user else None


def credentials_from_stdin(text: str, environ: dict[str, str] | None = None) -> Credentials:
    """``--password-stdin``: the first line of stdin is the password, the username from the env."""
    env = os.environ if environ is None else environ
    user = env.get(ENV_USERNAME, "")
    password = text.splitlines()[0] if text else ""
    if not user:
        raise UsageError(f"--password-stdin needs the user name in {ENV_USERNAME}")
    if not password:
        raise UsageError("--password-stdin: stdin is empty")
    return Credentials(user, password)


def target_from_catalog(root: Path, *, plain_http: bool | None, ca_file: Path | None) -> RegistryTarget:
    """The ``registry:`` section of ``sources/catalog.yaml``; explicit options win over it."""
    if not Project(root).has_catalog():
        raise UsageError(
            "no registry given",
            hint="pass --registry oci://HOST/NAMESPACE or set registry.url in the catalog",
        )
    registry = load_catalog(root).registry
    if not registry.url:
        raise UsageError(
            "no registry given and sources/catalog.yaml has no registry.url",
            hint="pass --registry oci://HOST/NS",
        )
    catalog_ca = Path(registry.ca_file) if registry.ca_file else None
    if catalog_ca is not None and not catalog_ca.is_absolute():
        catalog_ca = root / catalog_ca
    return RegistryTarget.parse(
        registry.url,
        plain_http=registry.plain_http if plain_http is None else plain_http,
        ca_file=ca_file or catalog_ca,
    )
