"""The kubeconform engine: run the real binary on local schemas only and map its verdicts back.

Resources are written to a few files in a temporary directory (``/dev/shm`` when there is
one) — each resource as its original document text, so kubeconform parses the YAML
itself (a ``List`` item as JSON). kubeconform reports each result with file, apiVersion,
kind and name but no document index, so resources are packed such that this identity is
unique within a file (:func:`pack`); that makes the mapping back to :class:`Manifest`
records exact whatever order its workers finish in, and anything it cannot attribute is
validated again one resource per file. kubeconform gets ``-strict``, ``-output json``,
``-verbose`` (so valid resources are listed too), ``-n`` workers, and two
``-schema-location`` options: the bundled core schemas of the store's cache and the CRD
directory — never ``default``, so it never reaches for the network. One process runs per
Kubernetes version, up to four at a time.

kubeconform 0.7 reports nested errors only inside its message text, as an indented tree
(``- at '/spec': validation failed   - at '/spec/replicas': got string, …``); that tree
is parsed here and normalised the way :mod:`chartforge.validate.builtin` normalises
``jsonschema_rs`` errors.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from chartforge import proc
from chartforge.errors import ToolError
from chartforge.kube import KubeVersion
from chartforge.manifests import Manifest
from chartforge.validate.locate import join_pointer
from chartforge.validate.results import FieldError, ResourceResult, no_schema_result
from chartforge.validate.schemas import SchemaStore

_ENTRY = re.compile(r"( +)- at '(.*?)': (.*?)(?=(?: +- at '.*?': )|$)", re.DOTALL)
_COMBINATOR = re.compile(r"^'?(?:oneOf|anyOf|not)'? failed")
_ADDITIONAL = re.compile(r"^additional propert(?:y|ies) (.*) not allowed$")
_MISSING = re.compile(r"^missing propert(?:y|ies) (.*)$")
_QUOTED = re.compile(r"'((?:[^'\\]|\\.)*)'")


def parse_message(msg: str) -> tuple[FieldError, ...]:
    """Turn kubeconform's one-line error tree into normalised field errors."""
    _, sep, tree = msg.partition("jsonschema validation failed with ")
    if not sep:
        return (FieldError("", msg),)
    found: set[FieldError] = set()
    collapse_below: int | None = None
    for match in _ENTRY.finditer(tree):
        depth = (len(match.group(1)) - 1) // 2
        path, text = match.group(2), match.group(3).strip()
        if collapse_below is not None:
            if depth > collapse_below:
                continue
            collapse_below = None
        if _COMBINATOR.match(text):
            found.add(FieldError(path, text))
            collapse_below = depth
        elif text == "validation failed" or text.startswith("allOf failed"):
            continue
        elif extra := _ADDITIONAL.match(text):
            for prop in _QUOTED.findall(extra.group(1)):
                found.add(FieldError(join_pointer(path, prop), f"unknown field {prop!r}"))
        elif missing := _MISSING.match(text):
            for prop in _QUOTED.findall(missing.group(1)):
                found.add(FieldError(join_pointer(path, prop), f"missing required field {prop!r}"))
        else:
            found.add(FieldError(path, text))
    return tuple(sorted(found)) or (FieldError("", msg),)


Signature = tuple[str, str, str]  # apiVersion, kind, name: what kubeconform's JSON output names


def _signature(resource: Manifest) -> Signature | None:
    """The identity kubeconform reports for ``resource``, when it is unambiguous."""
    meta = resource.obj.get("metadata")
    if not isinstance(meta, dict) or "generateName" in meta or not resource.raw:
        return None
    name = meta.get("name")
    return (resource.api_version, resource.kind, name) if isinstance(name, str) and name else None


def pack(resources: Sequence[Manifest], spread: int) -> list[list[int]]:
    """Group resource indexes into files in which each kubeconform signature is unique.

    ``spread`` files share the load (kubeconform reads files in parallel); a resource
    whose signature is already in its file moves to an overflow file; one without a
    usable signature (no name, ``generateName``, a List item) gets a file of its own.
    """
    base = max(1, min(spread, len(resources)))
    packed: list[list[int]] = [[] for _ in range(base)]
    seen: list[set[Signature]] = [set() for _ in packed]
    solo: list[list[int]] = []
    for i, resource in enumerate(resources):
        key = _signature(resource)
        if key is None:
            solo.append([i])
            continue
        slot = i % base
        while key in seen[slot]:
            slot = slot + 1 if slot >= base else base
            if slot == len(packed):
                packed.append([])
                seen.append(set())
        packed[slot].append(i)
        seen[slot].add(key)
    return [f for f in packed if f] + solo


def _fast_tmp() -> str | None:
    """``/dev/shm`` when usable: thousands of small files are written and read once."""
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK) else None


class KubeconformEngine:
    """Drives the kubeconform binary found by :func:`chartforge.tools.find_kubeconform`."""

    name = "kubeconform"

    def __init__(self, binary: str, *, workers: int | None = None, timeout: float = 600.0) -> None:
        self.binary = binary
        self.workers = workers or os.cpu_count() or 2
        self.timeout = timeout

    def validate(self, resources: Sequence[Manifest], stores: Sequence[SchemaStore]) -> list[ResourceResult]:
        if not resources:
            return []
        for store in stores:  # kubeconform reads the bundled core schemas from disk: build them first
            for api_version, kind in {(r.api_version, r.kind) for r in resources}:
                store.find(api_version, kind)
        with ThreadPoolExecutor(max_workers=max(1, min(len(stores), 4))) as pool:
            batches = pool.map(lambda s: self._validate_version(resources, s), stores)
            return [result for batch in batches for result in batch]

    def command(self, folder: Path, store: SchemaStore) -> list[str]:
        args = [self.binary, "-strict", "-output", "json", "-verbose", "-n", str(self.workers)]
        args += [
            "-kubernetes-version",
            KubeVersion.parse(store.kubernetes_version).full,
            "-schema-location",
            store.core_location,
        ]
        if store.crd_location:
            args += ["-schema-location", store.crd_location]
        return [*args, str(folder)]

    def _validate_version(self, resources: Sequence[Manifest], store: SchemaStore) -> list[ResourceResult]:
        found = self._run(resources, pack(resources, 2 * self.workers), store)
        missing = [i for i in range(len(resources)) if i not in found]
        if missing:  # a record we could not attribute: ask again, one resource per file
            retry = self._run([resources[i] for i in missing], [[k] for k in range(len(missing))], store)
            for k, i in enumerate(missing):
                if k in retry:
                    found[i] = replace(retry[k], resource=resources[i])
        unreported = [resources[i].label for i in range(len(resources)) if i not in found]
        if unreported:
            raise ToolError(
                f"kubeconform returned no result for {len(unreported)} resource(s), e.g. {unreported[0]}"
            )
        return [found[i] for i in range(len(resources))]

    def _run(
        self, resources: Sequence[Manifest], files: list[list[int]], store: SchemaStore
    ) -> dict[int, ResourceResult]:
        with tempfile.TemporaryDirectory(prefix="chartforge-kubeconform-", dir=_fast_tmp()) as tmp:
            folder = Path(tmp)
            for n, members in enumerate(files):
                docs = [resources[i].raw or json.dumps(resources[i].obj) for i in members]
                (folder / f"{n:06d}.yaml").write_text("\n---\n".join(docs), encoding="utf-8")
            done = proc.run(
                self.command(folder, store), check=False, timeout=self.timeout, what="kubeconform"
            )
        try:
            records: list[dict[str, Any]] = json.loads(done.stdout)["resources"]
        except (ValueError, KeyError, TypeError) as exc:
            raise ToolError(
                f"kubeconform (exit {done.returncode}) printed no JSON report for Kubernetes {store.kubernetes_version}",
                stderr=done.stderr or done.stdout,
            ) from exc
        index = {
            (n, _signature(resources[i]) if len(members) > 1 else None): i
            for n, members in enumerate(files)
            for i in members
        }
        found: dict[int, ResourceResult] = {}
        for record in records:
            n = int(Path(str(record.get("filename", "-1"))).stem)
            solo = 0 <= n < len(files) and len(files[n]) == 1
            key = (
                None
                if solo
                else (str(record.get("version")), str(record.get("kind")), str(record.get("name")))
            )
            i = index.get((n, key))
            if i is not None and i not in found:
                found[i] = self._result(resources[i], record, store)
        return found

    @staticmethod
    def _result(resource: Manifest, record: dict[str, Any], store: SchemaStore) -> ResourceResult:
        version = store.kubernetes_version
        status, msg = str(record.get("status", "")), str(record.get("msg", ""))
        if status == "statusValid":
            return ResourceResult(resource, version, "valid")
        if status == "statusError" and msg.startswith("could not find schema"):
            return no_schema_result(resource, store)
        if status in ("statusInvalid", "statusError"):
            return ResourceResult(resource, version, "invalid", parse_message(msg))
        raise ToolError(f"kubeconform reported {status!r} for {resource.label}: {msg}")
