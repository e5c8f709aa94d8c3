"""Spec lineage for the skew report: which inputs feed each output column, which ops read each input.

An op's :attr:`~featurekit.registry.Op.skew_role` says what a finding about its argument means
for it (a vocabulary's unseen rate, a fill hiding nulls, ...): the remedies read it from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from featurekit import registry
from featurekit.ir.nodes import CallNode, InputNode, walk

__all__ = ["known_values", "lineage", "vocabularies"]


def lineage(fitted: Any) -> dict[str, Any]:
    """``{"upstream": {output column: [input names]}, "consumers": {input: [op use]}}``; an op use
    is ``{"feature", "op", "role" (its skew_role), "params", "state"}``, one per op whose
    arguments read the input (directly or through other ops)."""
    graph = fitted.spec.graph
    upstream: dict[str, list[str]] = {}
    consumers: dict[str, list[dict[str, Any]]] = {}
    for feature in graph.outputs:
        nodes = walk([graph.features[feature]])
        ins = sorted({n.name for n in nodes if isinstance(n, InputNode)})
        for col in fitted.output_names[feature]:
            upstream[col] = ins
        for node in nodes:
            if not isinstance(node, CallNode):
                continue
            sub = {n.name for n in walk(list(node.args)) if isinstance(n, InputNode)}
            for name in sub:
                consumers.setdefault(name, []).append(
                    {
                        "feature": feature,
                        "op": node.op,
                        "role": registry.get(node.op).skew_role,
                        "params": dict(node.params),
                        "state": fitted.state_.get(node.key),
                    }
                )
    return {"upstream": upstream, "consumers": consumers}


def vocabularies(consumers: Mapping[str, list[dict[str, Any]]]) -> dict[str, list[tuple[dict[str, Any], frozenset]]]:
    """Per input, the op uses that map it through a fitted vocabulary (skew role ``vocabulary`` or
    ``indicators``, with ``state["vocab"]``) and that vocabulary, in lineage order."""
    out: dict[str, list[tuple[dict[str, Any], frozenset]]] = {}
    for name, uses in consumers.items():
        for use in uses:
            state = use["state"]
            if use["role"] in ("vocabulary", "indicators") and isinstance(state, Mapping) and "vocab" in state:
                out.setdefault(name, []).append((use, frozenset(state["vocab"])))
    return out


def known_values(spec: Any, baseline: Mapping[str, Any]) -> dict[str, tuple[dict[str, Any], frozenset]]:
    """Per input with open ``values``: a use of role ``known`` and its reference vocabulary, the
    declared known values together with the values training saw (the baseline's top values).

    Values outside a closed ``values`` list are contract violations, so only open inputs get it.
    """
    out = {}
    for inp in spec.inputs:
        if inp.open and inp.values is not None:
            top = (baseline.get("inputs", {}).get(inp.name) or {}).get("top") or []
            seen = frozenset(v for v, _ in top if isinstance(v, str))
            use = {"feature": inp.name, "op": "values", "role": "known", "params": {}, "state": None}
            out[inp.name] = (use, frozenset(inp.values) | seen)
    return out
