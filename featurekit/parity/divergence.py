"""Name the first op where the batch and row paths of a spec diverge, for one input row.

Both paths evaluate every intermediate node of the feature's graph (the row path through a
tracing variant of its generated function); nodes are compared in dependency order and the
first one that differs in any bit is reported with its op, parameters and both values. That
is where a difference starts: a 1-ULP difference in ``log1p`` that a later ``zscore``
amplifies is reported at ``log1p``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np

from featurekit.compile.batch import evaluate, read_inputs
from featurekit.compile.contract import Coercer
from featurekit.ir.nodes import CallNode, InputNode, walk
from featurekit.parity.running import input_frame
from featurekit.parity.tolerance import node_tolerance
from featurekit.values.equality import Equality

if TYPE_CHECKING:
    from featurekit.transform import FittedTransform


def _batch_values(fitted: FittedTransform, row: Mapping[str, Any], nodes: list) -> dict[str, Any]:
    spec = fitted.spec
    frame = input_frame([row], spec)
    coercers = {i.name: Coercer(i) for i in spec.inputs}
    names = sorted({n.name for n in nodes if isinstance(n, InputNode)})
    cols = evaluate(nodes, read_inputs(frame, coercers, names), 1, fitted.state_)
    out: dict[str, Any] = {}
    for node in nodes:
        col = cols.get(node.key)
        if col is None or isinstance(col, list):
            continue
        if col.null is not None and col.null[0]:
            out[node.key] = None
            continue
        value = col.values[0]
        out[node.key] = (
            value.as_py() if hasattr(value, "as_py") else (value.item() if isinstance(value, np.generic) else value)
        )
    return out


def first_divergent_op(fitted: FittedTransform, row: Mapping[str, Any], column: str) -> str | None:
    """``"op(params) in feature F: batch X vs row Y"`` for the first differing node, or None."""
    graph = fitted.spec.graph
    feature = next((f for f, cols in fitted.output_names.items() if column in cols), None)
    if feature is None:
        return None
    nodes = walk([graph.features[feature]])
    try:
        batch = _batch_values(fitted, row, nodes)
        traced = fitted.trace_row(row)
    except Exception as exc:  # noqa: BLE001 - a path that raises is itself the divergence
        return f"a path raised while tracing: {type(exc).__name__}: {str(exc).splitlines()[0][:120]}"
    for node in nodes:
        if node.key not in batch or node.key not in traced:
            continue
        b, r = batch[node.key], traced[node.key]
        if Equality(ulps=node_tolerance(node)).mismatch(b, r) is not None:
            if isinstance(node, CallNode):
                what = f"{node.op}({', '.join(f'{k}={v!r}' for k, v in node.params)})"
            else:
                assert isinstance(node, InputNode)  # constants are literals in the row code, never traced
                what = f"input {node.name!r}"
            return f"{what} in feature {feature!r}: batch {b!r} vs row {r!r}"
    return None
