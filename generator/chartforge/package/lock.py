"""``Chart.lock`` for an umbrella chart, byte-for-byte what helm would write — minus the clock.

helm computes ``digest`` in ``internal/resolver.HashReq``: the SHA-256 of Go's
``json.Marshal([2][]*chart.Dependency{requested, locked})``, where ``requested`` are the
``dependencies`` of Chart.yaml and ``locked`` holds only name, repository and the resolved
version. ``helm dependency build`` compares that digest with Chart.yaml to decide whether the
lock is "out of sync", so it must match helm's exactly. ``generated`` is helm's timestamp;
it is fixed here so the lock file (and the archive holding it) is reproducible.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from chartforge.package.archive import FIXED_MTIME
from chartforge.yamlio import scalar

# Field order and omitempty flags of helm's chart.Dependency (pkg/chart/dependency.go).
_FIELDS: tuple[tuple[str, bool], ...] = (
    ("name", False),
    ("version", True),
    ("repository", False),
    ("condition", True),
    ("tags", True),
    ("enabled", True),
    ("import-values", True),
    ("export-values", True),
    ("alias", True),
)
_GO_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def _go_json(value: Any) -> str:
    """``encoding/json.Marshal``: compact, map keys sorted, HTML-sensitive characters escaped."""
    text = json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    for char, escaped in _GO_HTML_ESCAPES.items():
        text = text.replace(char, escaped)
    return text


def _go_dependency(dep: Mapping[str, Any]) -> str:
    parts = []
    for key, omit_empty in _FIELDS:
        value = dep.get(key)
        if key == "enabled":
            value = bool(value)
        elif key in ("tags", "import-values", "export-values"):
            value = list(value or [])
        elif value is not None or not omit_empty:
            value = "" if value is None else str(value)
        if omit_empty and not value:
            continue
        parts.append(f"{_go_json(key)}:{_go_json(value)}")
    return "{" + ",".join(parts) + "}"


def lock_digest(requested: Sequence[Mapping[str, Any]], locked: Sequence[Mapping[str, Any]]) -> str:
    """helm's ``HashReq(requested, locked)`` → ``sha256:<hex>``."""
    payload = "[" + ",".join(
        "[" + ",".join(_go_dependency(d) for d in deps) + "]" for deps in (requested, locked)
    )
    payload += "]"
    return "sha256:" + hashlib.sha256(payload.encode("utf-8")).hexdigest()


def chart_lock(requested: Sequence[Mapping[str, Any]], locked: Sequence[Mapping[str, str]]) -> bytes:
    """The Chart.lock text helm's ``yaml.Marshal(chart.Lock)`` produces (keys sorted)."""
    generated = datetime.fromtimestamp(FIXED_MTIME, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    lines = ["dependencies:"]
    for dep in locked:
        lines.append(f"- name: {scalar(dep['name'])}")
        lines.append(f"  repository: {scalar(dep['repository'])}")
        lines.append(f"  version: {scalar(dep['version'])}")
    lines.append(f"digest: {lock_digest(requested, locked)}")
    lines.append(f'generated: "{generated}"')
    return ("\n".join(lines) + "\n").encode("utf-8")
