"""Secret material where it does not belong: ConfigMaps, container env literals, values."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from chartforge.manifests import Manifest
from chartforge.policy.codes import Finding
from chartforge.policy.model import PodTemplate, Version, as_list, as_map
from chartforge.policy.pss_baseline import finding
from chartforge.policy.secrets import Path, is_literal_secret, is_secret_key, scan_text, scan_tree
from chartforge.yamlio import line_at


def configmap_secrets(manifest: Manifest) -> Iterator[Finding]:
    if manifest.kind != "ConfigMap":
        return
    for key, value in as_map(manifest.obj.get("data")).items():
        field = f"data[{key}]"
        if not isinstance(value, str):
            continue
        if "\n" not in value.strip() and is_secret_key(str(key)) and is_literal_secret(value, str(key)):
            yield Finding("SECRET-IN-CONFIGMAP", manifest, field, f"key '{key}' holds a literal value")
            continue
        for line, label in scan_text(value):
            yield Finding("SECRET-IN-CONFIGMAP", manifest, field, f"line {line} of '{key}': {label}")


def env_secrets(pod: PodTemplate, version: Version) -> Iterator[Finding]:
    """``env: [{name: DB_PASSWORD, value: hunter2}]`` — use ``valueFrom.secretKeyRef`` instead."""
    for c in pod.containers:
        for i, env in enumerate(as_list(c.spec.get("env"))):
            name = str(as_map(env).get("name") or i)
            value = as_map(env).get("value")
            if is_secret_key(name) and is_literal_secret(value, name):
                field = f"{c.path}.env[{name}].value"
                yield finding(
                    pod, "SECRET-IN-ENV", field, f"container '{c.name}' env '{name}' holds a literal value"
                )


def dotted(path: Path) -> str:
    """``("auth", "users", 0, "password")`` → ``auth.users[0].password``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@dataclass(frozen=True)
class ValuesFinding:
    field: str
    line: int | None
    message: str


def values_secrets(values: Mapping[str, Any]) -> Iterator[ValuesFinding]:
    for path, inner_line, label in scan_tree(values):
        line = line_at(values, path)
        if line is not None and inner_line is not None:
            line += inner_line  # a block scalar starts on the line after its key
        where = f" (line {inner_line} of the text)" if inner_line is not None and line is None else ""
        yield ValuesFinding(dotted(path), line, label + where)
