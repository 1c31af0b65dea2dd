"""The single wrapper every subprocess goes through.

Argument lists only (never a shell), a timeout, secrets masked in the echoed command and
in error messages, captured stderr attached to the raised :class:`ToolError`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shlex
import signal
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from chartforge.errors import ToolError, ToolNotFound

log = logging.getLogger("chartforge.proc")

DEFAULT_TIMEOUT = 600.0
# Never inherited by a child process: helm gets the password on stdin, nothing else needs it.
# A caller that must hand one over passes it in ``env`` explicitly.
PRIVATE_ENV = ("CHARTFORGE_REGISTRY_PASSWORD", "CHARTFORGE_SIGNING_PASSPHRASE")


def child_env(env: Mapping[str, str] | None, secrets: Sequence[str] = ()) -> dict[str, str]:
    """The environment of a child: ours minus :data:`PRIVATE_ENV` and any variable holding a secret, plus ``env``."""
    hidden = {s for s in secrets if s}
    full = {k: v for k, v in os.environ.items() if k not in PRIVATE_ENV and v not in hidden}
    full.update(env or {})
    return full


@dataclass(frozen=True)
class Completed:
    args: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def mask(text: str, secrets: Sequence[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "****")
    return text


ENV_TIMEOUT = "CHARTFORGE_TOOL_TIMEOUT"


def tool_timeout(default: float) -> float:
    """``$CHARTFORGE_TOOL_TIMEOUT`` (seconds) when set, capping every call's own limit; else ``default``."""
    raw = os.environ.get(ENV_TIMEOUT, "")
    try:
        cap = float(raw) if raw else 0.0
    except ValueError:
        cap = 0.0
    return min(default, cap) if cap > 0 else default


def _kill_group(child: subprocess.Popen[str]) -> None:
    """SIGKILL the child's whole process group (a wrapper script's own children too), then reap it."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        child.communicate(timeout=5)


def run(
    args: Sequence[str | Path],
    *,
    cwd: str | Path | None = None,
    env: Mapping[str, str] | None = None,
    input_text: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    secrets: Sequence[str] = (),
    check: bool = True,
    what: str | None = None,
) -> Completed:
    """Run ``args``; raise :class:`ToolError` on non-zero exit when ``check``.

    ``secrets`` are replaced by ``****`` in the debug echo and in any error text.
    ``env`` is *added* to the current environment, from which :data:`PRIVATE_ENV` (the
    registry password) and any variable holding one of ``secrets`` are removed first.
    """
    argv = [str(a) for a in args]
    shown = mask(shlex.join(argv), secrets)
    log.debug("+ %s", shown)
    full_env = child_env(env, secrets)
    limit = tool_timeout(timeout)
    try:
        child = subprocess.Popen(
            argv,
            cwd=cwd,
            env=full_env,
            stdin=subprocess.PIPE if input_text is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # its own process group: a timeout or a signal ends all of it
        )
    except FileNotFoundError as exc:
        raise ToolNotFound(f"{argv[0]} is not installed or not executable", hint="run ci/install.sh") from exc
    except PermissionError as exc:
        raise ToolNotFound(f"{argv[0]} is not executable", hint="check its permissions") from exc
    try:
        stdout, stderr = child.communicate(input_text, timeout=limit)
    except subprocess.TimeoutExpired as exc:
        _kill_group(child)
        raise ToolError(
            f"{what or argv[0]} timed out after {limit:g}s: {shown}",
            hint=f"raise the limit with {ENV_TIMEOUT}=SECONDS if the tool is merely slow",
        ) from exc
    except BaseException:  # Ctrl-C, SIGTERM: never leave the tool (or its children) running
        _kill_group(child)
        raise
    cp = subprocess.CompletedProcess(argv, child.returncode, stdout, stderr)
    result = Completed(tuple(argv), cp.returncode, cp.stdout, cp.stderr)
    if check and cp.returncode != 0:
        raise ToolError(
            f"{what or 'command'} failed (exit {cp.returncode}): {shown}",
            stderr=mask(cp.stderr or cp.stdout, secrets),
        )
    return result
