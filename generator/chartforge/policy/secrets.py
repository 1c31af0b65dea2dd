"""Heuristics that spot secret material in configuration text and data trees.

Tuned for few false positives: a key must *name* a secret (password, token, apiKey,
private key…) and hold a non-empty literal; references are not secrets — names of existing
Secrets (``existingSecret``, ``passwordKey``, ``secretKeyRef``), file paths, environment and
template placeholders (``${VAR}``, ``$(VAR)``, Helm/Grafana ``{{ }}``, Jinja ``[[ ]]``). Some
patterns are secrets whatever their key: PEM private key blocks, AWS access key ids, tokens
with a vendor prefix, and passwords embedded in URLs. Findings never repeat the value.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

_SECRET_WORD = re.compile(
    r"password|passwd|passphrase|secret|token|apikey|privatekey|accesskey|credential|authkey"
)
_PASSWORD_WORD = re.compile(r"password|passwd|passphrase")
#: Keys ending like this hold a reference or a setting about a secret, not the secret itself.
_REFERENCE_SUFFIXES = (
    "name", "names", "ref", "refs", "file", "files", "path", "paths", "dir", "url", "uri", "endpoint",
    "encryption", "length", "policy", "enabled", "enable", "mode", "type", "method", "ttl", "expiry",
    "expiration", "expires", "interval", "timeout", "template", "selector", "annotations", "labels",
    "keys", "field", "format", "header", "audience", "issuer", "volume", "mount", "provider", "store",
    "kind", "version", "algorithm", "rotation", "id", "ids", "count", "size", "source",
)  # fmt: skip
_REFERENCE_PREFIXES = ("existing", "use", "create", "generate", "require", "rotate", "min", "max", "auto")
#: ``…Key`` keys are references (``passwordKey: admin-password``) unless the key itself is a secret.
_SECRET_KEY_NAMES = ("apikey", "privatekey", "accesskey", "secretkey", "authkey", "signingkey", "masterkey")
_PLACEHOLDERS = ("{{", "}}", "[[", "]]", "[%", "${", "$(", "%(", "<%", "#{")
_NOT_SECRET_WORDS = {
    "true",
    "false",
    "yes",
    "no",
    "on",
    "off",
    "null",
    "none",
    "nil",
    "~",
    "|",
    "|-",
    ">",
    ">-",
}
_MASKED = re.compile(r"\*+|<[^>]*>|x{3,}|\.{3,}|-+", re.IGNORECASE)
#: ``tlsSecret: my-tls`` names a Secret object; ``jwtSecret: s3cr3t`` is one.
_OBJECT_NAME = re.compile(r"[a-z0-9]+(?:[-.][a-z0-9]+)*-[a-z0-9]+(?:[-.][a-z0-9]+)*")

_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a PEM private key block", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----")),
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|ANPA)[0-9A-Z]{16}\b")),
    ("a GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}\b")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_\-]{35}\b")),
)
_URL_CREDENTIALS = re.compile(r"[a-z][a-z0-9+.-]*://[^/\s:@]+:(?P<password>[^/\s@]+)@", re.IGNORECASE)
_ASSIGNMENT = re.compile(
    r"""^\s*(?:export\s+)?["']?(?P<key>[A-Za-z_][\w.\-]*)["']?\s*[:=]\s*(?P<value>.*?)\s*[,;]?\s*$"""
)
_DIRECTIVE = re.compile(r"^\s*(?P<key>requirepass|masterauth)\s+(?P<value>\S+)\s*$")  # redis.conf style
_COMMENT = ("#", ";", "//", "--")


def _norm(key: str) -> str:
    return re.sub(r"[^a-z0-9]", "", key.lower())


def is_secret_key(key: str) -> bool:
    """Whether ``key`` names a secret value (``password``, ``DB_PASSWORD``, ``apiKey``…)."""
    k = _norm(key)
    if not _SECRET_WORD.search(k) or k.startswith(_REFERENCE_PREFIXES):
        return False
    if k.endswith("key") and not k.endswith(_SECRET_KEY_NAMES):
        return False
    return not k.endswith(_REFERENCE_SUFFIXES)


def is_reference_container(key: str) -> bool:
    """Mappings under such keys hold *names* of secrets (``secretKeys``, ``remoteRefs``)."""
    k = _norm(key)
    return k.endswith(("ref", "refs", "keys", "names", "paths", "files")) or k.startswith("existing")


def is_literal_secret(value: Any, key: str = "") -> bool:
    """Whether ``value`` is a real literal (not empty, a placeholder, a path or a template)."""
    if isinstance(value, bool) or value is None:
        return False
    if isinstance(value, int | float):
        return bool(_PASSWORD_WORD.search(_norm(key)))
    if not isinstance(value, str):
        return False
    text = value.strip().strip("\"'").strip()
    if not text or text.lower() in _NOT_SECRET_WORDS or _MASKED.fullmatch(text):
        return False
    if any(mark in text for mark in _PLACEHOLDERS) or text.startswith(("$", "/", "./", "file:", "env:")):
        return False
    if _norm(key).endswith("secret") and _OBJECT_NAME.fullmatch(text):
        return False
    return not text.startswith(("{", "["))  # a nested structure, scanned on its own


def _pattern_hits(text: str) -> Iterator[str]:
    for label, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            if not match.group(0).endswith("EXAMPLE"):  # AWS's documented example key
                yield label
                break
    for match in _URL_CREDENTIALS.finditer(text):
        if is_literal_secret(match.group("password")):
            yield "a password inside a URL"
            break


def scan_text(text: str) -> Iterator[tuple[int, str]]:
    """(1-based line, what was found) for secret material in a config file's text."""
    for number, line in enumerate(text.splitlines(), start=1):
        for label in _pattern_hits(line):
            yield number, label
        if line.lstrip().startswith(_COMMENT):
            continue
        directive = _DIRECTIVE.match(line)  # the directive itself names a password
        if directive and is_literal_secret(directive.group("value"), "password"):
            yield number, f"directive '{directive.group('key')}' holds a literal password"
            continue
        match = _ASSIGNMENT.match(line)
        if (
            match
            and is_secret_key(match.group("key"))
            and is_literal_secret(match.group("value"), match.group("key"))
        ):
            yield number, f"key '{match.group('key')}' holds a literal value"


Path = tuple[str | int, ...]


def scan_tree(data: Any, path: Path = ()) -> Iterator[tuple[Path, int | None, str]]:
    """(key path, line inside a multi-line string or None, what) for secrets in a values tree."""
    if isinstance(data, Mapping):
        name, value = data.get("name"), data.get("value")
        if isinstance(name, str) and is_secret_key(name) and is_literal_secret(value, name):
            yield (*path, "value"), None, f"env '{name}' holds a literal value"
        for key, child in data.items():
            child_path = (*path, str(key))
            if isinstance(child, Mapping | list):
                if not is_reference_container(str(key)):
                    yield from scan_tree(child, child_path)
            elif is_secret_key(str(key)) and is_literal_secret(child, str(key)) and "\n" not in str(child):
                yield child_path, None, f"key '{key}' holds a literal value"
            elif isinstance(child, str):
                yield from _scan_string(child, child_path)
    elif isinstance(data, Sequence) and not isinstance(data, str):
        for index, child in enumerate(data):
            if isinstance(child, Mapping | list):
                yield from scan_tree(child, (*path, index))
            elif isinstance(child, str):
                yield from _scan_string(child, (*path, index))


def _scan_string(text: str, path: Path) -> Iterator[tuple[Path, int | None, str]]:
    if "\n" in text:
        for line, label in scan_text(text):
            yield path, line, label
    else:
        for label in _pattern_hits(text):
            yield path, None, label
