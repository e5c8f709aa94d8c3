"""Static questions about a typed feature graph (pure Python, safe on the serving path)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from featurekit import registry
from featurekit.ir.nodes import CallNode, Node, walk
from featurekit.registry import Params

if TYPE_CHECKING:
    from featurekit.spec.model import Spec


def analyzed_nodes(roots: list[Node]) -> list[CallNode]:
    """The nodes that need fitting, children before parents."""
    out = []
    for node in walk(roots):
        if isinstance(node, CallNode):
            op = registry.get(node.op)
            if op.analyzer is not None and op.analyzer(Params(dict(node.params)), node.args[0].dtype) is not None:
                out.append(node)
    return out


def analyzed_keys(spec: Spec) -> set[str]:
    """Content keys of every node of ``spec`` that needs fitted state."""
    graph = spec.graph
    return {n.key for n in analyzed_nodes([graph.features[o] for o in graph.outputs])}


def fit_levels(roots: list[Node]) -> list[list[CallNode]]:
    """Analyzed nodes grouped by pass: a node's pass is 1 + the deepest analyzed node below it."""
    depth: dict[str, int] = {}
    analyzed = {n.key for n in analyzed_nodes(roots)}
    for node in walk(roots):
        below = max((depth[a.key] for a in getattr(node, "args", ())), default=0)
        depth[node.key] = below + (1 if node.key in analyzed else 0)
    levels: dict[int, list[CallNode]] = {}
    for node in analyzed_nodes(roots):
        levels.setdefault(depth[node.key], []).append(node)
    return [levels[k] for k in sorted(levels)]
