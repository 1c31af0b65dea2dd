"""``semver``: the smallest version bump a change needs, with every reason.

Like cargo-semver-checks for a crate's API, the API of a chart is its values: the
``values.schema.json`` says which values files are accepted. Anything a values file that worked
before may now be refused for (a property removed, a type narrowed, an enum value removed, a new
or tighter constraint, a new required key) is **major**; anything that only accepts more (a
property or enum value added, a type widened, a constraint relaxed or dropped) is **minor**;
defaults, descriptions and templates are **patch**; identical is **none**. A renamed parameter
whose old name stays in the schema as a deprecated alias is not a removal: the rename is minor
while the alias lives. For charts (directories or packaged ``.tgz``) every ``upgrade-check``
finding between the two default renderings is major too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, Literal

Level = Literal["none", "patch", "minor", "major"]
LEVELS: tuple[Level, ...] = ("none", "patch", "minor", "major")

LOWER_BOUNDS = ("minimum", "exclusiveMinimum", "minLength", "minItems", "minProperties")
UPPER_BOUNDS = ("maximum", "exclusiveMaximum", "maxLength", "maxItems", "maxProperties")
EXACT = ("pattern", "format", "multipleOf", "const", "not", "uniqueItems", "dependencies", "propertyNames",
         "if", "then", "else", "allOf", "anyOf", "oneOf")  # fmt: skip
STRUCTURE = {"type", "properties", "required", "enum", "additionalProperties", "items", *LOWER_BOUNDS,
             *UPPER_BOUNDS, *EXACT}  # fmt: skip
RENAMED_TO = "x-chartforge-renamed-to"


@dataclass(frozen=True, order=True)
class Reason:
    level: Level
    path: str  # values path: postgresql.replicaCount, ingress.hosts[]
    message: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


def rank(level: Level) -> int:
    return LEVELS.index(level)


def highest(levels: Iterable[Level]) -> Level:
    return max(levels, key=rank, default="none")


@dataclass(frozen=True)
class SemverResult:
    required: Level
    reasons: tuple[Reason, ...]

    @classmethod
    def of(cls, reasons: Iterable[Reason]) -> SemverResult:
        ordered = tuple(sorted(set(reasons), key=lambda r: (-rank(r.level), r.path, r.message)))
        return cls(highest(r.level for r in ordered), ordered)

    def to_dict(self) -> dict[str, Any]:
        return {"required": self.required, "reasons": [r.to_dict() for r in self.reasons]}


def _types(schema: Mapping[str, Any]) -> set[str] | None:
    found = schema.get("type")
    if found is None:
        return None
    return {str(t) for t in found} if isinstance(found, list) else {str(found)}


def _covers(wide: set[str], narrow: set[str]) -> bool:
    return all(t in wide or (t == "integer" and "number" in wide) for t in narrow)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _type_reasons(old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> list[Reason]:
    ot, nt = _types(old), _types(new)
    if ot == nt:
        return []
    if nt is None or (ot is not None and _covers(nt, ot)):
        return [Reason("minor", path, f"type widened from {sorted(ot or [])} to {sorted(nt or ['any'])}")]
    if ot is None or _covers(ot, nt):
        return [Reason("major", path, f"type narrowed from {sorted(ot or ['any'])} to {sorted(nt)}")]
    return [Reason("major", path, f"type changed from {sorted(ot)} to {sorted(nt)}")]


def _bound_reasons(old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> list[Reason]:
    reasons = []
    for key in (*LOWER_BOUNDS, *UPPER_BOUNDS):
        ov, nv = old.get(key), new.get(key)
        if ov == nv:
            continue
        if ov is None:
            reasons.append(Reason("major", path, f"new constraint {key}: {nv}"))
        elif nv is None:
            reasons.append(Reason("minor", path, f"constraint {key}: {ov} removed"))
        else:
            tighter = nv > ov if key in LOWER_BOUNDS else nv < ov
            reasons.append(Reason("major" if tighter else "minor", path,
                                  f"{key} {'tightened' if tighter else 'relaxed'} from {ov} to {nv}"))  # fmt: skip
    for key in EXACT:
        ov, nv = old.get(key), new.get(key)
        if json.dumps(ov, sort_keys=True) == json.dumps(nv, sort_keys=True):
            continue
        if ov is None or (key == "uniqueItems" and nv is True):
            reasons.append(Reason("major", path, f"new constraint {key}: {json.dumps(nv)}"))
        elif nv is None or (key == "uniqueItems" and not nv):
            reasons.append(Reason("minor", path, f"constraint {key} removed"))
        else:
            reasons.append(
                Reason("major", path, f"constraint {key} changed from {json.dumps(ov)} to {json.dumps(nv)}")
            )
    return reasons


def _enum_reasons(old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> list[Reason]:
    oe, ne = old.get("enum"), new.get("enum")
    if oe == ne:
        return []
    if oe is None:
        return [Reason("major", path, f"new enum {json.dumps(ne)}")]
    if ne is None:
        return [Reason("minor", path, "enum removed (any value of the type accepted)")]
    reasons = [Reason("major", path, f"enum value {json.dumps(v)} removed") for v in oe if v not in ne]
    reasons += [Reason("minor", path, f"enum value {json.dumps(v)} added") for v in ne if v not in oe]
    return reasons


def _additional(schema: Mapping[str, Any]) -> Any:
    found = schema.get("additionalProperties", True)
    return True if found == {} else found


def _object_reasons(old: Mapping[str, Any], new: Mapping[str, Any], path: str) -> list[Reason]:
    reasons: list[Reason] = []
    op, np_ = old.get("properties") or {}, new.get("properties") or {}
    for key in op:
        if key in np_:
            reasons += compare_schemas(op[key], np_[key], _join(path, key))
        elif op[key].get(RENAMED_TO):
            reasons.append(
                Reason("major", _join(path, key), f"deprecated alias removed (use {op[key][RENAMED_TO]})")
            )
        else:
            reasons.append(
                Reason("major", _join(path, key), "property removed (values setting it are refused)")
            )
    for key in np_:
        if key not in op:
            alias = np_[key].get(RENAMED_TO)
            note = f"deprecated alias of {alias} added" if alias else "property added"
            reasons.append(Reason("minor", _join(path, key), note))
    ore, nre = set(old.get("required") or []), set(new.get("required") or [])
    reasons += [Reason("major", _join(path, k), "now required") for k in sorted(nre - ore)]
    reasons += [Reason("minor", _join(path, k), "no longer required") for k in sorted(ore - nre)]
    oa, na = _additional(old), _additional(new)
    if oa != na:
        if isinstance(oa, dict) and isinstance(na, dict):
            reasons += compare_schemas(oa, na, _join(path, "*"))
        elif na is True or (isinstance(na, dict) and oa is False):
            reasons.append(Reason("minor", path, "additionalProperties relaxed (more keys accepted)"))
        else:
            reasons.append(Reason("major", path, "additionalProperties tightened (unknown keys now refused)"))
    return reasons


def compare_schemas(old: Mapping[str, Any], new: Mapping[str, Any], path: str = "") -> list[Reason]:
    """Every difference between two JSON schemas (draft-07 subset chartforge emits), with its level."""
    if not isinstance(old, Mapping) or not isinstance(new, Mapping):
        same = json.dumps(old, sort_keys=True) == json.dumps(new, sort_keys=True)
        return [] if same else [Reason("major", path, "schema replaced")]
    reasons = _type_reasons(old, new, path) + _bound_reasons(old, new, path) + _enum_reasons(old, new, path)
    reasons += _object_reasons(old, new, path)
    oi, ni = old.get("items"), new.get("items")
    if isinstance(oi, Mapping) and isinstance(ni, Mapping):
        reasons += compare_schemas(oi, ni, f"{path}[]")
    elif oi != ni:
        level: Level = "minor" if ni is None else "major"
        reasons.append(Reason(level, f"{path}[]", "item schema " + ("removed" if ni is None else "changed")))
    for key in sorted((set(old) | set(new)) - STRUCTURE):
        if json.dumps(old.get(key), sort_keys=True) != json.dumps(new.get(key), sort_keys=True):
            what = {"default": "default changed", "description": "description changed"}.get(
                key, f"{key} changed"
            )
            if key == "default":
                what += f" from {json.dumps(old.get(key))} to {json.dumps(new.get(key))}"
            reasons.append(Reason("patch", path or "(root)", what))
    return reasons


def schema_semver(old: Mapping[str, Any], new: Mapping[str, Any]) -> SemverResult:
    return SemverResult.of(compare_schemas(old, new))
