"""``chartforge publish`` and ``chartforge release`` (build → check → package → publish)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import typer

from chartforge.cli._app import OutputFormat, app, emit_json, emit_line, err, state
from chartforge.cli.package import signer_from_options
from chartforge.cli.select import ChangedSinceOpt, ChartOpt, names, selected
from chartforge.errors import UsageError
from chartforge.pipeline import publish_charts, release
from chartforge.publish.helmreg import select_helm
from chartforge.publish.publish import ChartPublication, PublishResult
from chartforge.publish.retry import RetryPolicy
from chartforge.publish.target import (
    Credentials,
    RegistryTarget,
    credentials_from_env,
    credentials_from_stdin,
    target_from_catalog,
)
from chartforge.stale import require_fresh

REGISTRY_HELP = "oci://HOST[:PORT]/NAMESPACE (default: registry.url of sources/catalog.yaml)."


def resolve_target(registry: str | None, plain_http: bool | None, ca_file: Path | None) -> RegistryTarget:
    if registry:
        return RegistryTarget.parse(registry, plain_http=bool(plain_http), ca_file=ca_file)
    return target_from_catalog(state.root, plain_http=plain_http, ca_file=ca_file)


def resolve_credentials(password_stdin: bool) -> Credentials | None:
    if not password_stdin:
        return credentials_from_env()
    raw = sys.stdin.buffer.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError("--password-stdin: stdin is not valid UTF-8 (nothing of it is shown)") from None
    return credentials_from_stdin(text)


def _progress(item: ChartPublication) -> None:
    """One result line per chart as it is pushed (stdout): status, reference, digest."""
    detail = f" {item.manifest_digest}" if item.manifest_digest else ""
    emit_line(f"{item.status:>9}  {item.reference}{detail}")


def _progress_err(item: ChartPublication) -> None:
    """The same line on stderr, when stdout carries the JSON result (`-o json`: one document)."""
    detail = f" {item.manifest_digest}" if item.manifest_digest else ""
    err(f"{item.status:>9}  {item.reference}{detail}")


def progress_for(output: OutputFormat) -> Callable[[ChartPublication], None]:
    return _progress if output is OutputFormat.text else _progress_err


def render_result(result: PublishResult, output: OutputFormat) -> None:
    if output is OutputFormat.json:
        emit_json(result.to_dict())
        return
    pushed, unchanged = result.with_status("pushed"), result.with_status("unchanged")
    emit_line(f"published to {result.registry}: {len(pushed)} pushed, {len(unchanged)} unchanged")


# Typer options shared by publish and release.
RegistryOpt = typer.Option(None, "--registry", help=REGISTRY_HELP)
PlainHttpOpt = typer.Option(None, "--plain-http/--no-plain-http", help="Plain HTTP (a local registry).")
CaFileOpt = typer.Option(None, "--ca-file", help="PEM bundle to verify the registry's TLS certificate.")
StdinOpt = typer.Option(
    False, "--password-stdin", help="Read the password from stdin (user: $CHARTFORGE_REGISTRY_USERNAME)."
)
HelmOpt = typer.Option(None, "--helm", help="helm binary (default: $HELM, PATH, .tools/bin).")
RetriesOpt = typer.Option(5, "--retries", min=1, help="Attempts per registry call on transient errors.")
BackoffOpt = typer.Option(1.0, "--backoff", min=0.0, help="First retry delay in seconds (doubles each time).")
OutputOpt = typer.Option(OutputFormat.text, "--output", "-o", help="text or json.")
SkipCompatOpt = typer.Option(
    False, "--skip-compat", help="Do not compare with the last published versions first (not advised)."
)


@app.command("publish")
def publish_cmd(
    registry: str | None = RegistryOpt,
    dist: Path | None = typer.Option(
        None, "--dist", help="Keep the archives in this directory (default: a temporary one)."
    ),
    plain_http: bool | None = PlainHttpOpt,
    ca_file: Path | None = CaFileOpt,
    password_stdin: bool = StdinOpt,
    helm: str | None = HelmOpt,
    retries: int = RetriesOpt,
    backoff: float = BackoffOpt,
    skip_compat: bool = SkipCompatOpt,
    output: OutputFormat = OutputOpt,
    chart: list[str] = ChartOpt,
    changed_since: str | None = ChangedSinceOpt,
) -> None:
    """Package charts/ and push every chart, sub-charts first; same version + same content is a no-op.

    First every chart is compared with its last published version (release safety): a content change
    without a version bump, a bump smaller than the change needs, or a change `helm upgrade` refuses
    stops the publish before anything is packaged or pushed (exit 4).
    """
    only = names(selected(chart, changed_since))
    require_fresh(state.root, "publish")
    target = resolve_target(registry, plain_http, ca_file)
    credentials = resolve_credentials(password_stdin)
    policy = RetryPolicy(attempts=retries, initial_delay=backoff)
    result = publish_charts(
        state.root, target, select_helm(target, helm), dist=dist, credentials=credentials, retry=policy,
        on_event=progress_for(output), compat=not skip_compat, charts=only,
    )  # fmt: skip
    render_result(result, output)


@app.command("release")
def release_cmd(
    registry: str | None = RegistryOpt,
    dist: Path | None = typer.Option(None, "--dist", help="Where the archives go (default: ROOT/dist)."),
    plain_http: bool | None = PlainHttpOpt,
    ca_file: Path | None = CaFileOpt,
    password_stdin: bool = StdinOpt,
    helm: str | None = HelmOpt,
    retries: int = RetriesOpt,
    backoff: float = BackoffOpt,
    skip_check: bool = typer.Option(False, "--skip-check", help="Do not run the check stage (not advised)."),
    skip_compat: bool = SkipCompatOpt,
    frozen: bool = typer.Option(
        False, "--frozen", help="Fail if charts/ or values/ differ from what sources/ compile to (CI)."
    ),
    sign: bool = typer.Option(False, "--sign", help="Write and push a .prov with each archive."),
    key: Path | None = typer.Option(None, "--key", help="Exported OpenPGP secret key file for --sign."),
    output: OutputFormat = OutputOpt,
) -> None:
    """build → compat → check → package → publish, stopping at the first stage that fails."""
    target = resolve_target(registry, plain_http, ca_file)
    outcome = release(
        state.root,
        target,
        select_helm(target, helm),
        credentials=resolve_credentials(password_stdin),
        dist=dist,
        retry=RetryPolicy(attempts=retries, initial_delay=backoff),
        check=not skip_check,
        compat=not skip_compat,
        frozen=frozen,
        signer=signer_from_options(sign, key),
        on_event=progress_for(output),
        on_stage=lambda stage: err(f"== {stage}"),
    )
    render_result(outcome.publish, output)
