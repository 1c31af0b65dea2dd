"""Bounded YAML: what a document expands to is checked on its node tree, before it is built.

YAML aliases let a few kilobytes stand for billions of nodes ("billion laughs": ten anchors,
each a list of ten aliases of the previous one). libyaml composes such a document into a small
graph in which aliases are shared nodes; it is *building* Python objects from it (or walking
it) that explodes. :func:`check_bounds` measures the expanded size and depth of the graph with
one memoised pass over its distinct nodes, and refuses a document past :data:`MAX_NODES` or
:data:`MAX_DEPTH` with the line of the alias that crossed the bound. An anchor that contains
itself is refused too (no JSON, hence no Kubernetes object or Helm value, can hold it).

Every YAML loader in chartforge goes through this check (sources, values, ``--set``,
manifests, Chart.yaml, registry content).
"""

from __future__ import annotations

import yaml
from yaml.nodes import MappingNode, Node, SequenceNode

MAX_NODES = 1_000_000  # expanded nodes in one document (the bundled catalog's largest: ~60,000)
MAX_DEPTH = 200  # nesting levels (the deepest Kubernetes object here: ~25)


class YAMLBoundError(yaml.MarkedYAMLError):
    """A document whose expansion is past the bounds; carries the mark of the offending node."""


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def check_bounds(root: Node | None, *, max_nodes: int = MAX_NODES, max_depth: int = MAX_DEPTH) -> None:
    """Raise :class:`YAMLBoundError` when ``root`` expands past ``max_nodes`` nodes or ``max_depth`` levels."""
    if root is None:
        return
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    on_path: set[int] = set()
    # Iterative post-order over the distinct nodes: (node, children pushed?)
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, expanded = stack.pop()
        key = id(node)
        if expanded:
            on_path.discard(key)
            kids = _children(node)
            total = 1 + sum(size[id(k)] for k in kids)
            levels = 1 + max((depth[id(k)] for k in kids), default=0)
            if total > max_nodes:
                raise YAMLBoundError(
                    None, None,
                    f"document expands to more than {max_nodes:,} nodes (nested aliases: 'billion laughs')",
                    node.start_mark,
                )  # fmt: skip
            if levels > max_depth:
                raise YAMLBoundError(
                    None, None, f"document is nested more than {max_depth} levels deep", node.start_mark
                )
            size[key], depth[key] = total, levels
            continue
        if key in size:
            continue
        if key in on_path:
            raise YAMLBoundError(
                None,
                None,
                "recursive alias: an anchor that contains itself cannot become JSON",
                node.start_mark,
            )
        on_path.add(key)
        stack.append((node, True))
        if len(on_path) > max_depth:
            raise YAMLBoundError(
                None, None, f"document is nested more than {max_depth} levels deep", node.start_mark
            )
        for child in _children(node):
            if id(child) not in size:
                stack.append((child, False))
