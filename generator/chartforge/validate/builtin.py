"""The built-in engine: ``jsonschema_rs`` on the same self-contained schemas kubeconform reads.

To give kubeconform's verdicts it follows kubeconform 0.7's choices: a schema without
``$schema`` (the CRD schemas) is draft-04 with formats asserted, including kubeconform's own
``duration`` (a Go duration such as ``30s`` or an ISO 8601 one such as ``PT30S``); a
draft 2019-09/2020-12 schema (the core schemas) does not assert formats. Go-only regex
syntax in CRD patterns is rewritten first (:mod:`.patterns`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jsonschema_rs

from chartforge.manifests import Manifest
from chartforge.validate.locate import join_pointer
from chartforge.validate.patterns import ecma_patterns, needs_rewrite
from chartforge.validate.results import FieldError, ResourceResult, no_schema_result
from chartforge.validate.schemas import SchemaStore, load_schema

_GO_DURATION = re.compile(r"[-+]?(?:0|(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)")
_ISO_DURATION = re.compile(r"P(?:\d+W|(?:\d+Y)?(?:\d+M)?(?:\d+D)?(?:T(?:\d+H)?(?:\d+M)?(?:\d+S)?)?)")


def is_duration(value: str) -> bool:
    """kubeconform's ``duration`` format: Go ``time.ParseDuration`` syntax, else ISO 8601."""
    if _GO_DURATION.fullmatch(value):
        return True
    return bool(_ISO_DURATION.fullmatch(value)) and value != "P" and not value.endswith("T")


_FORMATS = {"duration": is_duration}
_COMPILED: dict[str, Any] = {}  # by path text: an equal Path from a new SchemaStore compares slowly


def _draft(schema: dict[str, Any]) -> int:
    uri = str(schema.get("$schema", ""))
    for marker, draft in (
        ("draft-04", 4),
        ("draft-06", 6),
        ("draft-07", 7),
        ("2019-09", 2019),
        ("2020-12", 2020),
    ):
        if marker in uri:
            return draft
    return 4  # kubeconform's default draft for schemas that do not say


def compiled_validator(path: Path) -> Any:
    """A compiled validator for the schema file at ``path``, cached for the process."""
    validator = _COMPILED.get(str(path))
    if validator is None:
        schema = load_schema(path)
        if needs_rewrite(json.dumps(schema)):
            schema = ecma_patterns(schema)
        draft = _draft(schema)
        cls = {
            4: jsonschema_rs.Draft4Validator,
            6: jsonschema_rs.Draft6Validator,
            7: jsonschema_rs.Draft7Validator,
            2019: jsonschema_rs.Draft201909Validator,
        }.get(draft, jsonschema_rs.Draft202012Validator)
        validator = cls(schema, validate_formats=draft < 2019, formats=_FORMATS)
        _COMPILED[str(path)] = validator
    return validator


def _pointer(parts: Sequence[str | int]) -> str:
    out = ""
    for part in parts:
        out = join_pointer(out, str(part))
    return out


def field_errors(validator: Any, obj: dict[str, Any]) -> tuple[FieldError, ...]:
    """Every violation, normalised to the field paths both engines report."""
    found: set[FieldError] = set()
    for error in validator.iter_errors(obj):
        base = _pointer(error.instance_path)
        kind = error.kind.name
        detail = error.kind.as_dict()
        if kind == "additionalProperties":
            for prop in detail.get("unexpected", []):
                found.add(FieldError(join_pointer(base, str(prop)), f"unknown field {prop!r}"))
        elif kind == "required":
            prop = detail.get("property")
            found.add(FieldError(join_pointer(base, str(prop)), f"missing required field {prop!r}"))
        else:
            found.add(FieldError(base, error.message))
    return tuple(sorted(found))


class BuiltinEngine:
    """Validates in-process; needs nothing but the Python dependencies."""

    name = "builtin"

    def validate(self, resources: Sequence[Manifest], stores: Sequence[SchemaStore]) -> list[ResourceResult]:
        results: list[ResourceResult] = []
        for store in stores:
            version = store.kubernetes_version
            for resource in resources:
                ref = store.find(resource.api_version, resource.kind)
                if ref is None:
                    results.append(no_schema_result(resource, store))
                    continue
                results.append(self._check(resource, version, ref.path))
        return results

    @staticmethod
    def _check(resource: Manifest, version: str, schema: Path) -> ResourceResult:
        validator = compiled_validator(schema)
        try:
            if validator.is_valid(resource.obj):
                return ResourceResult(resource, version, "valid", schema=str(schema))
            errors = field_errors(validator, resource.obj)
        except (ValueError, TypeError, OverflowError) as exc:  # a value JSON cannot hold (e.g. !!binary)
            errors = (FieldError("", f"object is not representable as JSON: {exc}"),)
        return ResourceResult(resource, version, "invalid", errors, str(schema))
