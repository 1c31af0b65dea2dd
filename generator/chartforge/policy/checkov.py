"""checkov's Kubernetes checks as Diagnostics (code = checkov id, e.g. ``CKV_K8S_43``).

All renderings of a run go to checkov in one process (its start-up costs seconds): each
object is written to its own file in a temporary directory, so every failed check maps back
to the object, chart and environment it came from. checkov is told to stay offline:
``BC_SKIP_MAPPING`` (no guideline download from the vendor platform),
``CKV_SKIP_PACKAGE_UPDATE_CHECK`` (no PyPI version check) and ``--skip-download``.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from chartforge import codes, proc
from chartforge.diagnostics import Diagnostic
from chartforge.errors import ToolError, ToolNotFound
from chartforge.manifests import Manifest
from chartforge.policy.model import as_list, as_map, item_key
from chartforge.policy.waivers import Waivers, apply_waivers
from chartforge.yamlio import plain

OFFLINE_ENV = {
    "BC_SKIP_MAPPING": "TRUE",
    "CKV_SKIP_PACKAGE_UPDATE_CHECK": "TRUE",
    "CHECKOV_RUN_SCA_PACKAGE_SCAN_V2": "FALSE",
}
CLUSTER_SCOPED = frozenset(
    {
        "APIService", "ClusterIssuer", "ClusterRole", "ClusterRoleBinding", "ClusterSecretStore",
        "CSIDriver", "CustomResourceDefinition", "IngressClass", "MutatingWebhookConfiguration",
        "Namespace", "PersistentVolume", "PriorityClass", "RuntimeClass", "StorageClass",
        "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding", "ValidatingWebhookConfiguration",
    }
)  # fmt: skip


@dataclass(frozen=True)
class CheckovBatch:
    """One rendering (chart × environment × Kubernetes version) to scan."""

    objects: Sequence[Manifest]
    chart: str = ""
    environment: str = ""
    kubernetes_version: str = ""
    namespace: str = ""  # release namespace, filled into objects that set none


def find_checkov(explicit: str | None = None) -> str:
    """``explicit``, then ``$CHECKOV``, then PATH, then next to the running Python."""
    for candidate in (explicit, os.environ.get("CHECKOV")):
        if candidate:
            found = shutil.which(candidate)
            if found:
                return found
            raise ToolNotFound(f"checkov not found at {candidate}", hint="pip install checkov")
    found = shutil.which("checkov") or shutil.which("checkov", path=str(Path(sys.executable).parent))
    if not found:
        raise ToolNotFound("checkov is not installed", hint="pip install checkov, or run with --no-checkov")
    return found


def field_path(obj: Mapping[str, Any], key: str) -> str:
    """checkov's ``spec/template/spec/containers/[0]/image`` → ``spec.template.spec.containers[app].image``
    (list items by name, as in the built-in checks); "" when the key is not a field path."""
    parts = [p for p in key.split("/") if p]
    if not parts or parts[0] not in obj:
        return ""
    text: str = ""
    node: Any = obj
    for part in parts:
        if part.startswith("[") and part.endswith("]"):
            index = part[1:-1]
            items = as_list(node)
            if index.isdigit() and int(index) < len(items):
                node, part = items[int(index)], f"[{item_key(items[int(index)], int(index))}]"
            else:
                node = None
            text += part
        else:
            node = as_map(node).get(part)
            text += f".{part}" if text else part
    return text


def _write(batches: Sequence[CheckovBatch], root: Path) -> dict[str, tuple[CheckovBatch, Manifest]]:
    index: dict[str, tuple[CheckovBatch, Manifest]] = {}
    for b, batch in enumerate(batches):
        for o, manifest in enumerate(batch.objects):
            obj = plain(manifest.obj)
            meta = obj.get("metadata")
            if (
                batch.namespace
                and isinstance(meta, dict)
                and not meta.get("namespace")
                and manifest.kind not in CLUSTER_SCOPED
            ):
                meta["namespace"] = batch.namespace
            name = f"b{b:04d}-o{o:05d}.yaml"
            (root / name).write_text(yaml.safe_dump(obj, sort_keys=False), encoding="utf-8")
            index[name] = (batch, manifest)
    return index


def _failed_checks(stdout: str) -> list[Mapping[str, Any]]:
    text = stdout.strip()
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    if start < 0:
        raise ValueError("no JSON in checkov's output")
    data = json.loads(text[start:])
    reports = data if isinstance(data, list) else [data]
    failed: list[Mapping[str, Any]] = []
    for report in reports:
        if as_map(report).get("check_type", "kubernetes") == "kubernetes":
            failed.extend(
                as_map(c) for c in as_list(as_map(as_map(report).get("results")).get("failed_checks"))
            )
    return failed


def _diagnostic(check: Mapping[str, Any], batch: CheckovBatch, m: Manifest) -> Diagnostic:
    keys = [str(k) for k in as_list(as_map(check.get("check_result")).get("evaluated_keys"))]
    fields = [f for f in (field_path(m.obj, k) for k in keys) if f]
    extra = [("namespace", m.namespace or batch.namespace), ("checker", "checkov")]
    if check.get("guideline"):
        extra.append(("guideline", str(check["guideline"])))
    return Diagnostic(
        severity="error",
        code=str(check.get("check_id") or codes.CHECKOV_UNKNOWN),
        message=f"checkov: {check.get('check_name') or 'check failed'}",
        stage="policy",
        chart=batch.chart,
        environment=batch.environment,
        kubernetes_version=batch.kubernetes_version,
        path=m.source or m.file,
        line=None if m.source else (m.line or None),
        kind=m.kind,
        name=m.name,
        field=fields[0] if fields else "",
        extra=tuple(extra),
    )


def run_checkov(
    batches: Iterable[CheckovBatch],
    *,
    waivers: Waivers | None = None,
    checkov: str | None = None,
    timeout: float = 1800.0,
) -> list[Diagnostic]:
    """Scan every batch with ``checkov --framework kubernetes`` in one run; waivers applied.

    Raises :class:`ToolNotFound` when checkov is missing and :class:`ToolError` (with
    checkov's stderr) when it fails or prints something that is not its JSON report.
    """
    batches = list(batches)
    if not any(b.objects for b in batches):
        return []
    binary = find_checkov(checkov)
    with tempfile.TemporaryDirectory(prefix="chartforge-checkov-") as tmp:
        root = Path(tmp).resolve()
        index = _write(batches, root)
        args = [binary, "-d", str(root), "--framework", "kubernetes", "-o", "json", "--quiet", "--compact"]
        done = proc.run(
            [*args, "--skip-download"], env=OFFLINE_ENV, check=False, timeout=timeout, what="checkov"
        )
    if done.returncode not in (0, 1):
        raise ToolError(f"checkov failed (exit {done.returncode})", stderr=done.stderr or done.stdout)
    try:
        failed = _failed_checks(done.stdout)
    except ValueError as exc:
        raise ToolError(
            f"checkov printed no JSON report: {exc}", stderr=done.stderr or done.stdout[:2000]
        ) from exc
    diagnostics = []
    for check in failed:
        found = index.get(Path(str(check.get("file_path") or "")).name)
        if found is not None:
            diagnostics.append(_diagnostic(check, *found))
    diagnostics.sort(key=lambda d: (d.chart, d.environment, d.path, d.kind, d.name, d.code, d.field))
    return apply_waivers(diagnostics, waivers)
