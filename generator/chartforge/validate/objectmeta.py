"""``metadata`` of every object checked as the API server checks it: as ObjectMeta.

A CRD's schema leaves ``metadata`` open (``type: object``), so neither kubeconform nor a
plain JSON-schema check of a custom resource looks inside it — yet the API server validates
``metadata`` of *every* kind as ``ObjectMeta`` and rejects a ``name`` that is not a string
or label values that are not strings. This check runs after either engine, on the results
whose schema is a CRD's (core schemas already embed ObjectMeta), with the ObjectMeta
definition of the same Kubernetes version, so both engines report the same fields.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import jsonschema_rs

from chartforge.validate.builtin import field_errors
from chartforge.validate.results import FieldError, ResourceResult
from chartforge.validate.schemas import SchemaStore, bundle_schema

OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
_VALIDATORS: dict[str, Any] = {}


def _validator(store: SchemaStore) -> Any:
    version = store.kubernetes_version
    if version not in _VALIDATORS:
        root = {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$ref": f"/api/_definitions.json#/$defs/{OBJECT_META}",
        }
        schema = bundle_schema(root, store._load_definitions())
        _VALIDATORS[version] = jsonschema_rs.Draft202012Validator(schema, validate_formats=False)
    return _VALIDATORS[version]


def metadata_errors(store: SchemaStore, obj: Any) -> tuple[FieldError, ...]:
    """Violations of ObjectMeta in ``obj['metadata']``, as ``/metadata/...`` field errors."""
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    if meta is None:
        return ()
    validator = _validator(store)
    try:
        if validator.is_valid(meta):
            return ()
        found = field_errors(validator, meta)
    except (ValueError, TypeError, OverflowError) as exc:
        return (FieldError("/metadata", f"not representable as JSON: {exc}"),)
    return tuple(FieldError("/metadata" + e.path, e.message) for e in found)


def with_metadata_checked(
    results: Iterable[ResourceResult], stores: Sequence[SchemaStore]
) -> list[ResourceResult]:
    """``results`` with ObjectMeta violations added to those validated against a CRD schema."""
    by_version = {s.kubernetes_version: s for s in stores}
    out: list[ResourceResult] = []
    for result in results:
        store = by_version.get(result.kubernetes_version)
        ref = store.find(result.resource.api_version, result.resource.kind) if store is not None else None
        if store is None or ref is None or ref.origin != "crd" or result.status not in ("valid", "invalid"):
            out.append(result)
            continue
        extra = metadata_errors(store, result.resource.obj)
        if not extra:
            out.append(result)
            continue
        errors = tuple(sorted({*result.errors, *extra}))
        out.append(
            ResourceResult(result.resource, result.kubernetes_version, "invalid", errors, result.schema)
        )
    return out
