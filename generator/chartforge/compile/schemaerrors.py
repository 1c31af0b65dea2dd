"""Values against a chart's JSON schema: every problem at once, in plain words, at its line.

``values_problems`` validates as strictly as helm does (``format`` included: helm 3 and helm 4
reject a bad ``hostname`` or ``uri`` at install, so the build does too) and turns each
JSON-schema error into a ``ValuesError`` with the file, line and key of the offending value
and a sentence a chart user reads without knowing JSON schema.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import jsonschema

from chartforge.errors import ValuesError
from chartforge.yamlio import did_you_mean, line_at

FORMATS = jsonschema.FormatChecker()
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*\.?$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*$")


@FORMATS.checks("hostname")
def _hostname(value: object) -> bool:
    """RFC 1123 host name, as helm's validators read it (labels of 1–63, at most 253 in all)."""
    if not isinstance(value, str):
        return True
    return len(value.rstrip(".")) <= 253 and bool(_HOSTNAME.match(value))


@FORMATS.checks("uri", raises=ValueError)
def _uri(value: object) -> bool:
    """An absolute URI: a scheme, no spaces or control characters."""
    if not isinstance(value, str):
        return True
    if any(c.isspace() or ord(c) < 0x20 for c in value):
        return False
    parts = urlsplit(value)  # raises ValueError on a bad IPv6 literal or port
    _ = parts.port
    return bool(_SCHEME.match(parts.scheme))


_TYPES = {"integer": "an integer", "number": "a number", "string": "a string", "boolean": "true or false",
          "object": "a mapping", "array": "a list", "null": "null"}  # fmt: skip
_BOUNDS = {
    "minimum": "at least {}", "maximum": "at most {}", "exclusiveMinimum": "greater than {}",
    "exclusiveMaximum": "less than {}", "minLength": "at least {} characters long",
    "maxLength": "at most {} characters long", "minItems": "a list of at least {} items",
    "maxItems": "a list of at most {} items",
}  # fmt: skip


def _show(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return str(value)


def _type_name(value: Any) -> str:
    names = [_TYPES.get(str(t), str(t)) for t in (value if isinstance(value, list) else [value])]
    return " or ".join(names)


def plain_message(error: jsonschema.ValidationError) -> str:
    """One JSON-schema error as a sentence (``'latest' should not be valid under …`` → ``must not be 'latest'``)."""
    kind, want, got = error.validator, error.validator_value, error.instance
    if kind == "not" and isinstance(want, Mapping) and "enum" in want:
        return f"must not be {' or '.join(_show(v) for v in want['enum'])}"
    if kind == "not" and isinstance(want, Mapping) and "const" in want:
        return f"must not be {_show(want['const'])}"
    if kind == "enum" and isinstance(want, list):
        return f"must be one of {', '.join(_show(v) for v in want)} (got {_show(got)})"
    if kind == "const":
        return f"must be {_show(want)} (got {_show(got)})"
    if kind == "type":
        return f"must be {_type_name(want)} (got {_show(got)})"
    if kind == "pattern":
        return f"must match the pattern {want!r} (got {_show(got)})"
    if kind == "format":
        return f"must be a valid {want} (got {_show(got)})"
    if kind in _BOUNDS:
        return f"must be {_BOUNDS[str(kind)].format(want)} (got {_show(got)})"
    if kind == "uniqueItems":
        return "must not repeat an item"
    return str(error.message)


def _problem(error: jsonschema.ValidationError, data: Any, display: str) -> ValuesError:
    path: list[str | int] = list(error.absolute_path)
    if error.validator == "additionalProperties":
        allowed = (
            set((error.schema.get("properties") or {}).keys()) if isinstance(error.schema, Mapping) else set()
        )
        extra = (
            sorted(k for k in error.instance if k not in allowed)
            if isinstance(error.instance, Mapping)
            else []
        )
        bad = extra[0] if extra else "?"
        return ValuesError(
            f"unknown key '{bad}'", path=display, line=line_at(data, [*path, bad]),
            key=".".join(str(p) for p in [*path, bad]), hint=did_you_mean(bad, allowed),
        )  # fmt: skip
    if error.validator == "required":
        missing = re.findall(r"^'([^']+)'", error.message)
        name = missing[0] if missing else "?"
        return ValuesError(
            f"missing required key '{name}'", path=display, line=line_at(data, path),
            key=".".join(str(p) for p in [*path, name]),
        )  # fmt: skip
    key = ".".join(str(p) for p in path)
    return ValuesError(plain_message(error), path=display, line=line_at(data, path), key=key or None)


def values_problems(schema: Mapping[str, Any], merged: Any, data: Any, *, display: str) -> list[ValuesError]:
    """Every problem of ``merged`` (``data`` as written, for lines) against ``schema``, by line then key."""
    validator = jsonschema.Draft7Validator(schema, format_checker=FORMATS)
    found = [_problem(e, data, display) for e in validator.iter_errors(merged)]
    return sorted_errors(found)


def sorted_errors(errors: Sequence[ValuesError]) -> list[ValuesError]:
    """By file, line, key; one error per (file, line, key, message)."""
    seen: dict[tuple[str, int, str, str], ValuesError] = {}
    for e in errors:
        seen.setdefault((e.path or "", e.line or 0, e.key or "", e.message), e)
    return [seen[k] for k in sorted(seen)]
