"""Running helm against a registry without touching the user's helm state.

A :class:`HelmRegistry` owns a throw-away ``HELM_REGISTRY_CONFIG`` (and cache/config/data
homes, and ``TZ=UTC``) for the duration of one publish or diff: ``helm registry login`` writes the
credentials there, never into ``~/.config/helm``, and they vanish with the directory (after a
SIGKILL, with the next run: :mod:`chartforge.publish.loginhome`). The
password reaches helm through ``--password-stdin`` only and is masked in every echo and
error. Each helm call is retried on transient failures like the OCI client's requests.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

from chartforge import proc
from chartforge.errors import ToolError, UsageError, UserError
from chartforge.publish import loginhome
from chartforge.publish.retry import RetryPolicy, TransientError, is_transient_text, retrying
from chartforge.publish.target import ENV_PASSWORD, ENV_USERNAME, Credentials, RegistryTarget
from chartforge.tools import Helm, find_helm, find_helms

# Word-bounded: a digest in helm's message ("…bc401ef…") is not an HTTP 401.
_AUTH_FAILURE = re.compile(r"\b401\b|unauthorized|authentication required|\bdenied\b", re.IGNORECASE)
_LOOPBACK = re.compile(r"^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(:\d+)?$")


def select_helm(target: RegistryTarget, explicit: str | None = None) -> Helm:
    """The helm to drive for ``target``.

    helm 3 resolves registries through containerd's resolver, which always speaks plain
    HTTP to loopback hosts (``MatchLocalhost``), so it cannot reach a *TLS* registry on
    127.0.0.1. For that case a helm 4 is taken when one is installed; an explicit helm 3
    is refused with that explanation.
    """
    helm = find_helm(explicit)
    if helm.major >= 4 or target.plain_http or not _LOOPBACK.match(target.host):
        return helm
    if explicit is None:
        newer = [h for h in find_helms() if h.major >= 4]
        if newer:
            return newer[-1]
    raise UsageError(
        f"helm {helm.version} cannot use the TLS registry on loopback {target.host}",
        hint="helm 3 always talks plain HTTP to localhost/127.0.0.1; use helm 4 (--helm) or --plain-http",
    )


class HelmRegistry:
    def __init__(
        self,
        helm: Helm,
        target: RegistryTarget,
        credentials: Credentials | None = None,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 300.0,
    ) -> None:
        self.helm = helm
        self.target = target
        self.credentials = credentials
        self.retry = retry or RetryPolicy()
        self.timeout = timeout
        self._home: Path | None = None

    def __enter__(self) -> HelmRegistry:
        self._home = loginhome.create()  # named after this process: a run after a SIGKILL sweeps it
        if self.credentials is not None:
            self.login()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._home is not None:
            shutil.rmtree(self._home, ignore_errors=True)
            self._home = None

    @property
    def env(self) -> dict[str, str]:
        if self._home is None:
            raise RuntimeError("HelmRegistry used outside its 'with' block")
        return {
            "HELM_REGISTRY_CONFIG": str(self._home / "registry.json"),
            "HELM_CACHE_HOME": str(self._home / "cache"),
            "HELM_CONFIG_HOME": str(self._home / "config"),
            "HELM_DATA_HOME": str(self._home / "data"),
            # helm push stamps the archive's mtime as org.opencontainers.image.created in the
            # *local* time zone (RFC 3339 with offset): without this, the manifest digest
            # would depend on the publishing machine's TZ.
            "TZ": "UTC",
        }

    @property
    def transport_flags(self) -> list[str]:
        """``--plain-http`` / ``--ca-file`` for commands that talk to the registry."""
        flags = ["--plain-http"] if self.target.plain_http else []
        if self.target.ca_file is not None:
            flags += ["--ca-file", str(self.target.ca_file)]
        return flags

    @property
    def secrets(self) -> list[str]:
        return [self.credentials.password] if self.credentials else []

    def run(self, args: Sequence[str | Path], *, what: str, input_text: str | None = None) -> proc.Completed:
        """Run ``helm args…`` in this session; retry transient failures, then raise ToolError."""

        def attempt() -> proc.Completed:
            done = proc.run(
                [self.helm.path, *args],
                env=self.env,
                input_text=input_text,
                secrets=self.secrets,
                check=False,
                timeout=self.timeout,
                what=what,
            )
            if done.returncode != 0 and is_transient_text(done.stderr):
                raise TransientError(proc.mask(done.stderr.strip(), self.secrets))
            return done

        try:
            done = retrying(attempt, self.retry)
        except TransientError as exc:
            raise ToolError(
                f"{what} failed after {exc.attempts} attempts (transient errors, retried with backoff)",
                stderr=str(exc),
                hint="is the registry up? re-run the same command to finish",
            ) from exc
        if done.returncode != 0:
            stderr = proc.mask(done.stderr or done.stdout, self.secrets)
            if _AUTH_FAILURE.search(stderr):
                raise UserError(
                    f"{what}: registry {self.target.host} refused the credentials",
                    hint=f"check {ENV_USERNAME} / {ENV_PASSWORD}: {stderr.strip().splitlines()[-1]}",
                )
            raise ToolError(f"{what} failed (exit {done.returncode})", stderr=stderr)
        return done

    def login(self) -> None:
        assert self.credentials is not None
        flags = list(self.transport_flags)
        if self.target.plain_http and self.helm.major < 4:
            # helm 3's `registry login` has no --plain-http; --insecure makes it fall back to HTTP.
            flags = [f for f in flags if f != "--plain-http"] + ["--insecure"]
        user = self.credentials.username
        self.run(
            ["registry", "login", self.target.host, "--username", user, "--password-stdin", *flags],
            input_text=self.credentials.password + "\n",
            what=f"helm registry login {self.target.host}",
        )

    def push(self, archive: Path) -> str:
        """``helm push`` one archive (its ``.prov`` beside it goes too); returns helm's output."""
        done = self.run(
            ["push", archive, self.target.url, *self.transport_flags], what=f"helm push {archive.name}"
        )
        return done.stdout + done.stderr

    def template(self, release: str, chart: str, *, version: str | None, values: Sequence[Path]) -> str:
        """``helm template`` of a local archive or of ``oci://…`` (then with ``--version``)."""
        args: list[str | Path] = ["template", release, chart]
        if version is not None:
            args += ["--version", version, *self.transport_flags]
        for file in values:
            args += ["-f", file]
        return self.run(args, what=f"helm template {chart}").stdout
