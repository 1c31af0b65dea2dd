"""The schema store: self-contained per-kind JSON schemas, core and CRD, per Kubernetes version.

Core schemas come from the ``kubernetes-validate`` package (``vX.Y.0-local-strict/``). Its
per-kind files ``$ref`` a shared ``/api/_definitions.json`` that kubeconform cannot
follow, so each kind is *bundled*: the definitions it reaches are copied into its own
``$defs`` and every ref is rewritten to ``#/$defs/...``. Descriptions and ``x-kubernetes-*``
annotations are dropped on the way (no validator reads them; files shrink ~4x).

Bundled files are written atomically, lazily (only the kinds that are asked for), into
``<cache>/k8s-schemas/kubernetes-validate-<pkg version>/v1.34.0-standalone-strict/`` under the
names kubeconform's default ``-schema-location`` template produces
(``{{.NormalizedKubernetesVersion}}-standalone{{.StrictSuffix}}/{{.ResourceKind}}{{.KindSuffix}}.json``),
so kubeconform reads the very files the built-in engine reads. The cache root is
``$CHARTFORGE_CACHE``, else ``$XDG_CACHE_HOME/chartforge``, else ``~/.cache/chartforge``.

CRD schemas are plain files ``{group}/{kind}_{version}.json`` in a directory (by default
``sources/crds``), kubeconform's ``{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json``.
"""

from __future__ import annotations

import functools
import json
import os
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

from chartforge.errors import UserError
from chartforge.kube import KubeVersion, spelled

BUNDLE_FORMAT = 1  # bump when the bundling output changes, to invalidate caches
SchemaOrigin = Literal["core", "crd"]

# kubeconform-style location templates (relative to the core cache root / the CRD dir)
CORE_TEMPLATE = (
    "{{.NormalizedKubernetesVersion}}-standalone{{.StrictSuffix}}/{{.ResourceKind}}{{.KindSuffix}}.json"
)
CRD_TEMPLATE = "{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json"

_SCHEMA_MAPS = {"properties", "patternProperties", "$defs", "definitions", "dependentSchemas"}
_SCHEMA_LISTS = {"allOf", "anyOf", "oneOf", "prefixItems"}
_DATA = {"enum", "const", "default", "examples", "required", "example"}


@functools.cache
def kubernetes_validate_dir() -> Path:
    import kubernetes_validate

    return Path(kubernetes_validate.__file__).resolve().parent / "kubernetes-json-schema"


@functools.cache
def supported_versions() -> tuple[str, ...]:
    """Every Kubernetes version ``kubernetes-validate`` ships strict schemas for (``1.25``…)."""
    found = [
        spelled(p.name[1:].removesuffix("-local-strict"))
        for p in kubernetes_validate_dir().glob("v*-local-strict")
    ]
    return tuple(sorted(found, key=version_key))


def version_key(version: str) -> KubeVersion:
    """Sort key for ``1.9`` < ``1.10`` (versions as reported, parsed by the one parser)."""
    return KubeVersion.parse(version)


def normalize_version(version: str) -> str:
    """``1.34`` / ``v1.34`` / ``1.34.0`` → ``1.34``; an unsupported version is a :class:`UserError`."""
    try:
        candidate = spelled(version)
    except UserError:
        candidate = version
    known = supported_versions()
    if candidate not in known:
        shown = f"{known[0]} … {known[-1]}" if known else "none installed"
        raise UserError(
            f"Kubernetes version {version!r} is not supported",
            key="kubernetes-version",
            hint=f"supported: {shown} (from the kubernetes-validate package)",
        )
    return candidate


def default_cache_root() -> Path:
    explicit = os.environ.get("CHARTFORGE_CACHE")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "chartforge"


def core_schema_name(api_version: str, kind: str) -> str:
    """kubeconform's ``{{.ResourceKind}}{{.KindSuffix}}``: ``deployment-apps-v1``, ``service-v1``."""
    parts = api_version.split("/")
    suffix = "-" + parts[0].split(".")[0].lower()
    if len(parts) > 1:
        suffix += "-" + parts[1].lower()
    return kind.lower() + suffix


def crd_schema_relpath(api_version: str, kind: str) -> str:
    """kubeconform's ``{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json``."""
    parts = api_version.split("/")
    return f"{parts[0]}/{kind.lower()}_{parts[-1]}.json"


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temp file + rename, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _rewrite_ref(ref: str) -> tuple[str, str | None]:
    """``/api/_definitions.json#/$defs/X`` or ``#/$defs/X`` → (``#/$defs/X``, ``X``)."""
    _, _, fragment = ref.partition("#")
    prefix = "/$defs/"
    if fragment.startswith(prefix):
        name = fragment[len(prefix) :]
        return "#" + fragment, name
    return ref, None


def _clean(node: Any, needed: list[str]) -> Any:
    """Copy one schema node without annotations; rewrite refs, collecting definition names."""
    if isinstance(node, list):
        return [_clean(x, needed) for x in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "description" or key.startswith("x-kubernetes-") or key in ("$id", "$defs"):
            continue
        if key == "$ref" and isinstance(value, str):
            out[key], name = _rewrite_ref(value)
            if name is not None:
                needed.append(name)
        elif key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {k: _clean(v, needed) for k, v in value.items()}
        elif key in _DATA:
            out[key] = value
        elif key in _SCHEMA_LISTS or isinstance(value, dict | list):
            out[key] = _clean(value, needed)
        else:
            out[key] = value
    return out


def bundle_schema(schema: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """Return ``schema`` made self-contained: every reachable definition in its own ``$defs``."""
    needed: list[str] = []
    result: dict[str, Any] = _clean(schema, needed)
    defs: dict[str, Any] = {}
    while needed:
        name = needed.pop()
        if name in defs:
            continue
        if name not in definitions:
            raise KeyError(f"definition {name!r} is referenced but missing from _definitions.json")
        defs[name] = _clean(definitions[name], needed)
    if defs:
        result["$defs"] = dict(sorted(defs.items()))
    return result


@dataclass(frozen=True)
class SchemaRef:
    """Where the schema for one apiVersion/kind lives (a file on disk) and where it came from."""

    path: Path
    origin: SchemaOrigin


class SchemaStore:
    """Core (bundled, cached) and CRD schemas for one Kubernetes version."""

    def __init__(self, version: str, *, crd_dir: Path | None, cache_root: Path | None = None) -> None:
        self.kubernetes_version = normalize_version(version)
        self.crd_dir = crd_dir
        package = metadata.version("kubernetes-validate")
        self.cache_root = (
            (cache_root or default_cache_root())
            / "k8s-schemas"
            / (f"kubernetes-validate-{package}-b{BUNDLE_FORMAT}")
        )
        full = KubeVersion.parse(self.kubernetes_version).full  # the package's directory names
        self.source_dir = kubernetes_validate_dir() / f"v{full}-local-strict"
        self.core_dir = self.cache_root / f"v{full}-standalone-strict"
        self._definitions: dict[str, Any] | None = None
        self._found: dict[tuple[str, str], SchemaRef | None] = {}

    @property
    def core_location(self) -> str:
        """The ``-schema-location`` template kubeconform needs for the bundled core schemas."""
        return f"{self.cache_root}/{CORE_TEMPLATE}"

    @property
    def crd_location(self) -> str | None:
        return f"{self.crd_dir}/{CRD_TEMPLATE}" if self.crd_dir is not None else None

    def find(self, api_version: str, kind: str) -> SchemaRef | None:
        """The schema for ``api_version``/``kind``: core first, then CRD (kubeconform's order)."""
        key = (api_version, kind)
        if key not in self._found:
            self._found[key] = self._core(api_version, kind) or self._crd(api_version, kind)
        return self._found[key]

    def served_as(self, kind: str) -> tuple[str, ...]:
        """The apiVersions this Kubernetes version serves ``kind`` under (for "removed API" hints)."""
        found: set[str] = set()
        for path in self.source_dir.glob(f"{kind.lower()}-*.json"):
            try:
                gvks = json.loads(path.read_text(encoding="utf-8")).get("x-kubernetes-group-version-kind", [])
            except (OSError, ValueError):
                continue
            for gvk in gvks:
                if gvk.get("kind") == kind:
                    found.add(f"{gvk['group']}/{gvk['version']}" if gvk.get("group") else str(gvk["version"]))
        return tuple(sorted(found))

    def _core(self, api_version: str, kind: str) -> SchemaRef | None:
        name = core_schema_name(api_version, kind) + ".json"
        target = self.core_dir / name
        if target.is_file():
            try:
                load_schema(target)  # parsed once per process anyway; a damaged cache entry is rebuilt
                return SchemaRef(target, "core")
            except (OSError, ValueError):
                pass
        source = self.source_dir / name
        if not source.is_file():
            return None
        schema = json.loads(source.read_text(encoding="utf-8"))
        bundled = bundle_schema(schema, self._load_definitions())
        write_atomic(target, json.dumps(bundled, separators=(",", ":"), sort_keys=True))
        return SchemaRef(target, "core")

    def _crd(self, api_version: str, kind: str) -> SchemaRef | None:
        if self.crd_dir is None or "/" not in api_version:
            return None
        path = self.crd_dir / crd_schema_relpath(api_version, kind)
        return SchemaRef(path, "crd") if path.is_file() else None

    def _load_definitions(self) -> dict[str, Any]:
        if self._definitions is None:
            raw: dict[str, Any] = json.loads(
                (self.source_dir / "_definitions.json").read_text(encoding="utf-8")
            )
            self._definitions = raw["$defs"]
        return self._definitions


@functools.cache
def load_schema(path: Path) -> dict[str, Any]:
    """Parse a schema file once per process (files are immutable once written)."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data
