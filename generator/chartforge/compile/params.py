"""The parameter spec: every chart value declared once.

A ``parameters.yaml`` is a mapping of names to nodes. A node with ``properties`` is a group
(an object whose keys are declared); any other node is a leaf with a ``type``. From this one
declaration chartforge derives the ``values.yaml`` entry and its comment, the
``values.schema.json`` property and the README table row.

Example::

    replicaCount:
      type: integer
      default: 3
      minimum: 1
      description: Number of PostgreSQL members (1 primary + N-1 replicas)
    image:
      description: PostgreSQL image
      properties:
        tag: {type: string, default: "16-4.0-p2", description: Image tag (never latest)}
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema

from chartforge.errors import SourceError
from chartforge.yamlio import did_you_mean, line_of, plain

TYPES = ("string", "integer", "number", "boolean", "array", "object", "null")
LEAF_KEYS = {
    "type", "default", "description", "required", "enum", "minimum", "maximum", "exclusiveMinimum",
    "exclusiveMaximum", "pattern", "format", "minLength", "maxLength", "items", "additionalProperties",
    "minItems", "maxItems", "uniqueItems", "nullable", "examples", "section", "multipleOf", "not",
}  # fmt: skip
GROUP_KEYS = {"description", "properties", "required", "section", "nullable"}
_PY_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
    "null": (type(None),),
}


@dataclass(frozen=True)
class Param:
    """One declared value. ``children`` is set for groups, empty for leaves."""

    name: str
    path: str
    description: str
    types: tuple[str, ...] = ()
    default: Any = None
    required: bool = False
    constraints: tuple[tuple[str, Any], ...] = ()
    children: tuple[Param, ...] = ()
    section: str = ""
    file: str = ""
    line: int | None = None

    @property
    def is_group(self) -> bool:
        return not self.types

    def default_value(self) -> Any:
        if self.is_group:
            return {c.name: c.default_value() for c in self.children}
        return self.default

    def leaves(self) -> Iterator[Param]:
        if self.is_group:
            for child in self.children:
                yield from child.leaves()
        else:
            yield self

    def find(self, dotted: str) -> Param | None:
        node: Param | None = self
        for part in dotted.split("."):
            if node is None or not node.is_group:
                return None
            node = next((c for c in node.children if c.name == part), None)
        return node


def _type_ok(value: Any, types: tuple[str, ...]) -> bool:
    for t in types:
        if isinstance(value, bool) and t in ("integer", "number"):
            continue
        if isinstance(value, _PY_TYPES[t]):
            return True
    return False


def parse_params(data: Any, *, file: str, prefix: str = "") -> tuple[Param, ...]:
    """Parse a ``parameters.yaml`` mapping (or a group's ``properties``)."""
    if data is None:
        return ()
    if not isinstance(data, Mapping):
        raise SourceError(
            "expected a mapping of parameter names", path=file, line=line_of(data), key=prefix or None
        )
    return tuple(_parse_node(name, node, data, file=file, prefix=prefix) for name, node in data.items())


def _parse_node(name: str, node: Any, parent: Any, *, file: str, prefix: str) -> Param:
    path = f"{prefix}.{name}" if prefix else str(name)
    line = line_of(parent, name)
    if not isinstance(node, Mapping):
        raise SourceError(
            "a parameter must be a mapping with 'type' (a leaf) or 'properties' (a group)",
            path=file, line=line, key=path,
        )  # fmt: skip
    is_group = "properties" in node
    allowed = GROUP_KEYS if is_group else LEAF_KEYS
    for key in node:
        if key not in allowed:
            raise SourceError(
                f"unknown parameter attribute '{key}'", path=file, line=line_of(node, key) or line, key=path,
                hint=did_you_mean(str(key), allowed),
            )  # fmt: skip
    description = node.get("description")
    if not isinstance(description, str) or not description.strip():
        raise SourceError("every parameter needs a non-empty 'description'", path=file, line=line, key=path)
    section = str(node.get("section", ""))
    required = bool(node.get("required", False))
    if is_group:
        children = parse_params(node["properties"], file=file, prefix=path)
        return Param(name, path, description.strip(), (), None, required, (), children, section, file, line)
    raw_type = node.get("type")
    types = tuple(raw_type) if isinstance(raw_type, list) else (raw_type,)
    if not types or any(t not in TYPES for t in types):
        raise SourceError(
            f"invalid type {raw_type!r}", path=file, line=line_of(node, "type") or line, key=path,
            hint="one of " + ", ".join(TYPES) + " (or a list of them)",
        )  # fmt: skip
    if node.get("nullable"):
        types = (*types, "null") if "null" not in types else types
    if "default" not in node:
        raise SourceError("every leaf parameter needs a 'default'", path=file, line=line, key=path)
    default = plain(node["default"])
    if not _type_ok(default, types):
        raise SourceError(
            f"default {default!r} is not of type {'/'.join(types)}", path=file,
            line=line_of(node, "default") or line, key=path,
        )  # fmt: skip
    skip = {"type", "default", "description", "required", "nullable", "section"}
    constraints = tuple((k, plain(v)) for k, v in node.items() if k not in skip)
    _check_constraints(node, dict(constraints), types, file=file, line=line, path=path)
    enum = dict(constraints).get("enum")
    if enum is not None and default not in enum and default is not None:
        raise SourceError(f"default {default!r} is not in enum {enum}", path=file, line=line, key=path)
    return Param(
        name, path, description.strip(), types, default, required, constraints, (), section, file, line
    )


_VALID: set[str] = set()  # leaf schemas already checked (valid ones only: an error is raised each time)


def _check_constraints(
    node: Mapping[str, Any],
    constraints: dict[str, Any],
    types: tuple[str, ...],
    *,
    file: str,
    line: int | None,
    path: str,
) -> None:
    """The leaf's JSON-schema keywords are themselves valid (``maxLength: "53"``, ``pattern: "["``,
    a scalar ``enum`` are errors here, at their line, not a crash or a blamed environment later)."""
    schema = {"type": list(types), **constraints}
    key = repr(schema)  # repr keeps types apart ("1" vs 1), unlike JSON
    try:
        if key not in _VALID:  # a catalog repeats the same leaves (shared param macros) many times
            jsonschema.Draft7Validator.check_schema(schema)
            _VALID.add(key)
    except jsonschema.SchemaError as exc:
        keyword = next((str(p) for p in exc.absolute_path), "")
        raise SourceError(
            f"invalid '{keyword or exc.validator}': {exc.message}", path=file,
            line=line_of(node, keyword) if keyword in node else line, key=path,
        ) from None  # fmt: skip
    for keyword, value in constraints.items():
        if keyword == "pattern":
            try:
                re.compile(value)
            except re.error as exc:
                raise SourceError(
                    f"invalid 'pattern' {value!r}: {exc}",
                    path=file,
                    line=line_of(node, keyword) or line,
                    key=path,
                ) from None


def root_group(name: str, description: str, children: tuple[Param, ...]) -> Param:
    return Param(name=name, path="", description=description, children=children)
