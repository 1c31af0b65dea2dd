"""Load one YAML document the way Kubernetes' own YAML parser (go-yaml v2) reads it, fast.

PyYAML's C parser composes the node tree; a small tree walk builds the Python objects
(plain ``dict``/``list``/scalars) instead of PyYAML's generic generator-based constructor,
and implicit tags of plain scalars are cached by value. Together about twice the speed of
``yaml.load(..., Loader=CSafeLoader)``, which matters because parsing, not validation, is
the cost of the built-in engine.

Differences from PyYAML's safe loader, all to agree with kubeconform and kubectl
(``sigs.k8s.io/yaml``): ``y``/``n`` are booleans, ``1e3`` is a float, ``0o17`` an int,
``1:30`` and dates stay strings, a key repeated in one mapping is an error (kubeconform
``-strict``), and non-string keys become strings (``true`` → ``"true"``) as in JSON.
"""

from __future__ import annotations

import re
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from chartforge.yamlbound import check_bounds

try:
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # PyYAML built without libyaml: same results, slower
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

_T = "tag:yaml.org,2002:"
STR, INT, FLOAT, BOOL, NULL = _T + "str", _T + "int", _T + "float", _T + "bool", _T + "null"
MAP, SEQ, MERGE = _T + "map", _T + "seq", _T + "merge"
_CACHE_LIMIT = 200_000
_tag_cache: dict[str, str] = {}


def json_key(key: object) -> str:
    """Stringify a non-string key the way ``sigs.k8s.io/yaml`` does when it converts to JSON."""
    if key is None:
        return "null"
    if isinstance(key, bool):
        return "true" if key else "false"
    return str(key)


def _duplicate(node: MappingNode, key_node: Node) -> yaml.constructor.ConstructorError:
    return yaml.constructor.ConstructorError(
        "while constructing a mapping",
        node.start_mark,
        f"found duplicate key {key_node.value!r}",
        key_node.start_mark,
    )


class KubeLoader(_BaseLoader):
    """The safe loader with go-yaml v2 scalar rules, duplicate-key errors and string keys."""

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> str:
        if kind is ScalarNode and implicit[0]:  # plain scalar: the tag depends on the text alone
            tag = _tag_cache.get(value)
            if tag is None:
                tag = str(super().resolve(kind, value, implicit))  # type: ignore[no-untyped-call]
                if len(_tag_cache) < _CACHE_LIMIT:
                    _tag_cache[value] = tag
            return tag
        return str(super().resolve(kind, value, implicit))  # type: ignore[no-untyped-call]

    def descend_resolver(self, current_node: Any, current_index: Any) -> None:  # no path resolvers
        return None

    def ascend_resolver(self) -> None:
        return None

    def construct_mapping(self, node: MappingNode, deep: bool = False) -> dict[Any, Any]:
        """The slow path (merge keys, custom tags): same rules as :meth:`build`."""
        seen: set[tuple[str, str]] = set()
        for key_node, _ in node.value:
            if isinstance(key_node, ScalarNode) and key_node.tag != MERGE:
                if (key_node.tag, key_node.value) in seen:
                    raise _duplicate(node, key_node)
                seen.add((key_node.tag, key_node.value))
        self.flatten_mapping(node)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            mapping[key if isinstance(key, str) else json_key(key)] = self.construct_object(
                value_node, deep=deep
            )
        return mapping

    def build(self, node: Node) -> Any:
        """Python objects for ``node``: a direct walk for the common tags, PyYAML for the rest."""
        tag = node.tag
        if isinstance(node, ScalarNode):
            if tag == STR:
                return node.value
            if tag == INT:
                return self.construct_yaml_int(node)
            if tag == BOOL:
                return self.construct_yaml_bool(node)
            if tag == NULL:
                return None
            if tag == FLOAT:
                return self.construct_yaml_float(node)
        elif isinstance(node, MappingNode) and tag == MAP:
            out: dict[Any, Any] = {}
            for key_node, value_node in node.value:
                if key_node.__class__ is ScalarNode and key_node.tag == STR:
                    key = key_node.value
                elif key_node.tag == MERGE:
                    return self.construct_object(node, deep=True)
                else:
                    key = self.build(key_node)
                    key = key if isinstance(key, str) else json_key(key)
                if key in out:
                    raise _duplicate(node, key_node)
                out[key] = self.build(value_node)
            return out
        elif isinstance(node, SequenceNode) and tag == SEQ:
            return [self.build(child) for child in node.value]
        return self.construct_object(node, deep=True)


# Implicit types as go-yaml v2 resolves them, not as PyYAML does.
_REPLACED = {BOOL, INT, FLOAT, _T + "timestamp"}
_IMPLICIT = [
    (
        BOOL,
        r"y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF",
        "yYnNtTfFoO",
    ),
    (
        FLOAT,
        r"[-+]?(?:\.[0-9][0-9_]*|[0-9][0-9_]*\.[0-9_]*|[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+"
        r"|\.[0-9][0-9_]*[eE][-+]?[0-9]+)|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)",
        "-+0123456789.",
    ),
    (INT, r"[-+]?(?:0b[01_]+|0o?[0-7_]+|0x[0-9a-fA-F_]+|0|[1-9][0-9_]*)", "-+0123456789"),
]
KubeLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag not in _REPLACED]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}
for _tag, _pattern, _firsts in reversed(_IMPLICIT):
    for _first in _firsts:
        KubeLoader.yaml_implicit_resolvers.setdefault(_first, []).insert(
            0, (_tag, re.compile(f"^(?:{_pattern})$"))
        )
KubeLoader.bool_values = {**_BaseLoader.bool_values, "y": True, "n": False}


def load_document(text: str) -> Any:
    """Load the single YAML document in ``text`` (``None`` when empty); raises ``yaml.YAMLError``."""
    loader = KubeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if "*" in text:  # without aliases a document cannot expand beyond its own size
            check_bounds(node)
        try:
            return loader.build(node)
        except RecursionError:  # deeper than Python's stack (the bound check catches aliases first)
            raise yaml.YAMLError("document is nested too deeply") from None
    finally:
        loader.dispose()


def compose_document(text: str) -> Node | None:
    """The node tree (with line marks) of the single document in ``text``."""
    loader = KubeLoader(text)
    try:
        node = loader.get_single_node()
        if "*" in text:
            check_bounds(node)
        return node
    finally:
        loader.dispose()
