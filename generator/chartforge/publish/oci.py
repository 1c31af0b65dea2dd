"""A small OCI distribution-spec (v2) client: read manifests, blobs and tags.

chartforge pushes with ``helm push`` but must *look* before it pushes (is this version
already there, with which content?) and ``helm`` has no command that answers that without
downloading and unpacking. This client speaks the registry API directly with ``urllib``:
``Basic`` auth (distribution's htpasswd) and ``Bearer`` token auth (GHCR, Harbor, ECR, Docker
Hub: the ``WWW-Authenticate`` challenge names a token endpoint), TLS with a CA bundle, or
plain HTTP for a local registry. Transient failures are retried by :mod:`.retry`.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import re
import ssl
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any

from chartforge.errors import ToolError, UserError
from chartforge.publish.retry import RetryPolicy, TransientError, retrying
from chartforge.publish.target import ENV_PASSWORD, ENV_USERNAME, Credentials, RegistryTarget

CHART_LAYER = "application/vnd.cncf.helm.chart.content.v1.tar+gzip"
PROV_LAYER = "application/vnd.cncf.helm.chart.provenance.v1.prov"
MANIFEST_TYPES = (
    "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.v2+json",
)
_CHALLENGE_PARAM = re.compile(r'(\w+)="([^"]*)"')


@dataclass(frozen=True)
class Descriptor:
    media_type: str
    digest: str
    size: int


@dataclass(frozen=True)
class Manifest:
    digest: str  # of the manifest itself
    config: Descriptor
    layers: tuple[Descriptor, ...]
    annotations: tuple[tuple[str, str], ...]

    @property
    def chart_layer(self) -> Descriptor | None:
        return next((layer for layer in self.layers if layer.media_type == CHART_LAYER), None)


def _descriptor(data: Any) -> Descriptor:
    if not isinstance(data, dict):
        return Descriptor("", "", 0)
    size = data.get("size", 0)
    return Descriptor(
        str(data.get("mediaType", "")), str(data.get("digest", "")), size if isinstance(size, int) else 0
    )


class OciClient:
    def __init__(
        self,
        target: RegistryTarget,
        credentials: Credentials | None = None,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
    ) -> None:
        self.target = target
        self.credentials = credentials
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self._tokens: dict[str, str] = {}
        self._context = ssl.create_default_context(cafile=str(target.ca_file) if target.ca_file else None)

    # -- public API ------------------------------------------------------------------------
    def manifest(self, repository: str, reference: str) -> Manifest | None:
        """The manifest at ``reference`` (tag or digest); ``None`` when the registry has none."""
        found = self._get(
            f"/v2/{repository}/manifests/{reference}", repository, accept=", ".join(MANIFEST_TYPES)
        )
        if found is None:
            return None
        body, headers = found
        data = self._json(body, f"/v2/{repository}/manifests/{reference}", headers)
        digest = headers.get("Docker-Content-Digest") or "sha256:" + hashlib.sha256(body).hexdigest()
        raw_layers = data.get("layers") or []
        layers = tuple(_descriptor(layer) for layer in (raw_layers if isinstance(raw_layers, list) else []))
        raw_notes = data.get("annotations") or {}
        annotations = tuple(
            sorted((str(k), str(v)) for k, v in (raw_notes if isinstance(raw_notes, dict) else {}).items())
        )
        return Manifest(digest, _descriptor(data.get("config") or {}), layers, annotations)

    def blob(self, repository: str, digest: str) -> bytes:
        """A blob, verified against its digest."""
        found = self._get(f"/v2/{repository}/blobs/{digest}", repository)
        if found is None:
            raise ToolError(f"{self.target.host}/{repository}: blob {digest} is missing from the registry")
        body = found[0]
        actual = "sha256:" + hashlib.sha256(body).hexdigest()
        if digest.startswith("sha256:") and actual != digest:
            raise ToolError(f"{self.target.host}/{repository}: blob {digest} arrived as {actual}")
        return body

    def tags(self, repository: str) -> list[str]:
        found = self._get(f"/v2/{repository}/tags/list", repository)
        if found is None:
            return []
        data = self._json(found[0], f"/v2/{repository}/tags/list", found[1])
        tags = data.get("tags") or []
        return [str(t) for t in tags] if isinstance(tags, list) else []

    def _json(self, body: bytes, what: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        """A JSON object from the registry; anything else (an HTML login page, a proxy's error) is exit 3."""
        try:
            data = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            data = None
        if not isinstance(data, dict):
            kind = (headers or {}).get("Content-Type", "") or "unknown content type"
            start = body[:80].decode("utf-8", "replace").strip().splitlines()
            raise ToolError(
                f"registry {self.target.host} answered {what} with something that is not a JSON object ({kind})",
                stderr=start[0] if start else "",
                hint="is this an OCI registry? a proxy or login page may be in the way",
            )
        return data

    # -- transport -------------------------------------------------------------------------
    def _get(self, path: str, repository: str, *, accept: str = "") -> tuple[bytes, dict[str, str]] | None:
        url = self.target.base_url + path
        where = f"{self.target.host}/{repository}"

        def attempt() -> tuple[bytes, dict[str, str]] | None:
            return self._request(url, repository, accept)

        try:
            return retrying(attempt, self.retry)
        except TransientError as exc:
            raise ToolError(
                f"registry {self.target.host} unreachable after {exc.attempts} attempts ({where}): {exc}",
                hint="is the registry running? transient errors are retried with backoff",
            ) from exc

    def _request(self, url: str, repository: str, accept: str) -> tuple[bytes, dict[str, str]] | None:
        headers = {"Accept": accept} if accept else {}
        auth = self._authorization(repository)
        for _ in range(2):  # second round after answering an auth challenge
            if auth:
                headers["Authorization"] = auth
            try:
                return self._read(urllib.request.Request(url, headers=headers))
            except urllib.error.HTTPError as exc:
                if exc.code == 404:
                    return None
                if exc.code == 401 and "Authorization" not in headers:
                    auth = self._answer_challenge(exc.headers.get("WWW-Authenticate", ""), repository)
                    continue
                self._raise_http(exc, url)
        raise UserError(
            f"registry {self.target.host} rejected the credentials (401) for {repository}",
            hint=f"check {ENV_USERNAME} / {ENV_PASSWORD}",
        )

    def _open(self, request: urllib.request.Request) -> http.client.HTTPResponse:
        try:
            response: http.client.HTTPResponse = urllib.request.urlopen(
                request, timeout=self.timeout, context=None if self.target.plain_http else self._context
            )
            return response
        except urllib.error.HTTPError:
            raise
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, ssl.SSLError):
                raise ToolError(
                    f"TLS error talking to {self.target.host}: {reason}",
                    hint="pass --ca-file with the registry's CA, or --plain-http for a plain-HTTP registry",
                ) from exc
            raise TransientError(f"{request.full_url}: {reason}") from exc
        except (ConnectionError, TimeoutError, http.client.HTTPException) as exc:
            raise TransientError(f"{request.full_url}: {exc!r}") from exc

    def _read(self, request: urllib.request.Request) -> tuple[bytes, dict[str, str]]:
        """Body and headers; a connection dropped while reading is transient too."""
        with self._open(request) as response:
            try:
                return response.read(), dict(response.headers.items())
            except (ConnectionError, TimeoutError, http.client.HTTPException) as exc:
                raise TransientError(f"{request.full_url}: {exc!r}") from exc

    def _raise_http(self, exc: urllib.error.HTTPError, url: str) -> None:
        if exc.code == 429 or exc.code >= 500:
            retry_after = exc.headers.get("Retry-After", "")
            wait = float(retry_after) if retry_after.isdigit() else None
            raise TransientError(f"{url}: HTTP {exc.code} {exc.reason}", retry_after=wait) from exc
        if exc.code in (401, 403):
            what = "rejected the credentials" if exc.code == 401 else "denied access"
            raise UserError(
                f"registry {self.target.host} {what} ({exc.code}) for {url}",
                hint=f"check {ENV_USERNAME} / {ENV_PASSWORD} and the account's permissions",
            ) from exc
        raise ToolError(f"registry {self.target.host}: HTTP {exc.code} {exc.reason} for {url}") from exc

    # -- authentication --------------------------------------------------------------------
    def _basic(self) -> str:
        assert self.credentials is not None
        pair = f"{self.credentials.username}:{self.credentials.password}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")

    def _authorization(self, repository: str) -> str:
        token = self._tokens.get(repository)
        return f"Bearer {token}" if token else ""

    def _answer_challenge(self, challenge: str, repository: str) -> str:
        scheme = challenge.split(" ", 1)[0].lower()
        if scheme == "basic":
            if self.credentials is None:
                raise UserError(
                    f"registry {self.target.host} requires credentials",
                    hint=f"set {ENV_USERNAME} and {ENV_PASSWORD} (or use --password-stdin)",
                )
            return self._basic()
        if scheme == "bearer":
            params = dict(_CHALLENGE_PARAM.findall(challenge))
            token = self._fetch_token(params, repository)
            self._tokens[repository] = token
            return f"Bearer {token}"
        raise ToolError(f"registry {self.target.host}: unsupported authentication challenge {challenge!r}")

    def _fetch_token(self, params: dict[str, str], repository: str) -> str:
        realm = params.get("realm", "")
        if not realm.startswith(("https://", "http://")):
            raise ToolError(f"registry {self.target.host}: bearer challenge without a usable realm")
        query = {"scope": params.get("scope") or f"repository:{repository}:pull"}
        if params.get("service"):
            query["service"] = params["service"]
        headers = {"Authorization": self._basic()} if self.credentials else {}
        request = urllib.request.Request(realm + "?" + urllib.parse.urlencode(query), headers=headers)
        try:
            body, headers = self._read(request)
        except urllib.error.HTTPError as exc:
            if exc.code in (401, 403):
                raise UserError(
                    f"registry {self.target.host} rejected the credentials ({exc.code}) at its token service",
                    hint=f"check {ENV_USERNAME} / {ENV_PASSWORD}",
                ) from exc
            self._raise_http(exc, realm)
            raise  # pragma: no cover (_raise_http always raises)
        data = self._json(body, "the token request", headers)
        token = data.get("token") or data.get("access_token")
        if not token:
            raise ToolError(f"registry {self.target.host}: the token service answered without a token")
        return str(token)
