"""One error hierarchy for chartforge, and the exit codes the CLI maps them to.

Exit codes (documented in the README):

====  ==========================================================
0     success
1     findings (lint/validate/policy/drift) or a user error
2     usage error (bad command-line arguments)
3     an external tool (helm, kubeconform, the registry) failed
4     refused for safety (e.g. same version, different content)
70    internal error (a bug): one line; ``--debug`` shows the traceback
====  ==========================================================

Every error builds its own one-line message from keyword fields, so each call site
names *where* the problem is (``path``, ``line``, ``key``) and *what was expected*
(``hint``) without formatting strings by hand.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USER_ERROR = 1
EXIT_USAGE = 2
EXIT_TOOL_FAILED = 3
EXIT_REFUSED = 4
EXIT_INTERNAL = 70  # a bug in chartforge (EX_SOFTWARE); the message says to re-run with --debug


class ChartforgeError(Exception):
    """Root of every error chartforge raises on purpose."""

    exit_code: int = EXIT_USER_ERROR

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        key: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.key = key
        self.hint = hint
        super().__init__(self.render())

    @property
    def location(self) -> str:
        """``file:line`` (or just ``file``), empty when the error has no location."""
        if self.path is None:
            return ""
        return f"{self.path}:{self.line}" if self.line is not None else self.path

    def render(self) -> str:
        parts = []
        if self.location:
            parts.append(f"{self.location}:")
        if self.key:
            parts.append(f"{self.key}:")
        parts.append(self.message)
        text = " ".join(parts)
        if self.hint:
            text += f" ({self.hint})"
        return text


class UserError(ChartforgeError):
    """Bad input from the user: sources, values, arguments."""


class SourceError(UserError):
    """A file under ``sources/`` is malformed or inconsistent."""


class TemplateError(UserError):
    """A Jinja2 template failed to compile or render (undefined variable, syntax error)."""


class ValuesError(UserError):
    """Values (environment file, ``--set``) do not match the chart's schema."""


class ValuesErrors(ValuesError):
    """Every values problem of a run at once, sorted by file and line: one ``error:`` line each."""

    def __init__(self, errors: Sequence[ValuesError]) -> None:
        self.errors = tuple(errors)
        first = self.errors[0]
        super().__init__(first.message, path=first.path, line=first.line, key=first.key, hint=first.hint)

    def render(self) -> str:
        return "\nerror: ".join(ChartforgeError.render(e) for e in self.errors)


def raise_all(errors: Sequence[ValuesError]) -> None:
    """Nothing, one error as itself, or several as one ``ValuesErrors``."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise ValuesErrors(errors)


class UsageError(ChartforgeError):
    exit_code = EXIT_USAGE


class ToolError(ChartforgeError):
    """An external tool (helm, kubeconform, registry) failed; carries its stderr."""

    exit_code = EXIT_TOOL_FAILED

    def __init__(self, message: str, *, stderr: str = "", **kwargs: object) -> None:
        self.stderr = stderr
        super().__init__(message, **kwargs)  # type: ignore[arg-type]

    def render(self) -> str:
        text = super().render()
        if self.stderr.strip():
            text += "\n" + self.stderr.strip()
        return text


class ToolNotFound(ToolError):
    """A required external binary is not installed."""


class RefusedError(ChartforgeError):
    """An operation refused because it would be unsafe (immutable version, …)."""

    exit_code = EXIT_REFUSED
