"""Map a JSON pointer in a parsed resource back to a line of its manifest file.

Only used on the failure path: the document is composed again (nodes keep their marks)
and the pointer is followed as far as it goes, so a missing field points at its parent.
"""

from __future__ import annotations

import yaml

from chartforge.manifests import Manifest
from chartforge.yamlload import compose_document


def unescape(segment: str) -> str:
    return segment.replace("~1", "/").replace("~0", "~")


def escape(segment: str) -> str:
    return segment.replace("~", "~0").replace("/", "~1")


def join_pointer(base: str, segment: str) -> str:
    return f"{base}/{escape(segment)}"


class FieldLocator:
    """Caches the composed node tree of each resource it is asked about."""

    def __init__(self) -> None:
        self._nodes: dict[int, yaml.Node | None] = {}

    def _root(self, resource: Manifest) -> yaml.Node | None:
        key = id(resource)
        if key not in self._nodes:
            try:
                self._nodes[key] = compose_document(resource.raw) if resource.raw else None
            except yaml.YAMLError:
                self._nodes[key] = None
        return self._nodes[key]

    def line(self, resource: Manifest, pointer: str) -> int:
        """1-based line in the file of the deepest node ``pointer`` reaches (the document start if none)."""
        node = self._root(resource)
        if node is None:
            return resource.line
        best = node
        for raw in pointer.split("/")[1:] if pointer else []:
            segment = unescape(raw)
            child: yaml.Node | None = None
            if isinstance(node, yaml.MappingNode):
                for key_node, value_node in node.value:
                    if isinstance(key_node, yaml.ScalarNode) and key_node.value == segment:
                        best, child = key_node, value_node
                        break
            elif isinstance(node, yaml.SequenceNode) and segment.isdigit() and int(segment) < len(node.value):
                child = node.value[int(segment)]
                best = child
            if child is None:
                break
            node = child
        return resource.line + best.start_mark.line
