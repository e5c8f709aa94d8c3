"""Training baseline statistics, stored in an artifact as ``baseline.json``.

Computed at fit time on the training data so that later skew / drift reports can compare
serving data against it. Per input column and per output column: ``count`` (rows seen),
``null_count`` / ``null_rate`` (NaN counts as null for floats) and, by type,

* numeric (int/float): ``min``, ``max``, ``mean``, ``std`` (population), ``inf_count`` and a
  ``histogram`` ``{"edges": [...], "counts": [...]}`` on (approximate) decile edges: the
  first edge is the exact minimum, the last the exact maximum, inner edges are the deciles
  rounded up to the boundary of a log-spaced bucket (within 2% relative; values with
  ``|x| < 1e-9`` share one bucket). Bin *i* holds the values ``edges[i] < x <= edges[i+1]``
  (the first bin also holds ``x == edges[0]``), and the counts are exact for these edges.
  Repeated edges are merged, so a low-cardinality column has fewer bins;
* str / category: ``top`` (up to 50 ``[value, count]`` pairs, most frequent first, ties by
  value), ``distinct`` (exact when ``distinct_capped`` is false; otherwise a lower bound:
  each accumulator keeps only the :data:`VALUE_CAP` most frequent values) and
  ``empty_rate`` (share of non-null values that are ``""``);
* bool: ``true_count`` / ``true_rate`` (of non-null values);
* timestamp: ``min`` / ``max`` (ISO-8601 UTC).

Inputs: counts, nulls, min/max/mean/std, true rate, empty-string rate are over every
training row; the sketches (numeric histogram, top values, distinct count) are over a
systematic sample: every ``stride``-th row by global row position, at most about
:data:`OUTPUT_SAMPLE_ROWS` rows. Outputs are summarised over that same sample (evaluating every
feature over the whole training set costs several times the fit itself).
``sample`` records the stride and sampled rows; with fewer rows than that, everything is
exact over all rows. Histogram and top-value counts are therefore counts *in the sample*;
compare rates, not counts.

Each column is summarised by the column-statistics analyzer
:class:`featurekit.analyzers.columns.ColumnStats` (the one the skew report's serving side uses
too). The accumulators are mergeable combiners like the analyzers: ``baseline_create``,
``baseline_accumulate(spec, fitted_state, chunk, offset=, stride=)``, ``baseline_merge`` and
``baseline_finalize``. Counts, extrema, histograms and top values are identical for any
chunking (below the value cap); ``mean`` / ``std`` agree to floating-point rounding.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from featurekit.analyzers.columns import TOP_K, VALUE_CAP, ColumnStats

__all__ = [
    "BASELINE_VERSION",
    "OUTPUT_SAMPLE_ROWS",
    "TOP_K",
    "VALUE_CAP",
    "baseline_accumulate",
    "baseline_create",
    "baseline_finalize",
    "baseline_merge",
    "compute_baseline",
    "output_stride",
]

BASELINE_VERSION = 1
OUTPUT_SAMPLE_ROWS = 20_000

# An accumulator is a plain dict {"rows": int, "sampled": int, "stride": int | None,
# "inputs": {name: column acc}, "outputs": {column: column acc}}; a column acc is a ColumnStats one.


# merging and finalizing depend on a column's kind only (the accumulator records it)
_BY_KIND = {
    kind: ColumnStats(type_name)
    for kind, type_name in (("num", "float"), ("str", "str"), ("bool", "bool"), ("ts", "timestamp"))
}


def _merge_col(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    return _BY_KIND[a["kind"]].merge([a, b])


def _finalize_col(acc: dict[str, Any]) -> dict[str, Any]:
    return _BY_KIND[acc["kind"]].finalize(acc)


# ------------------------------------------------------------------------------ public combiner


def _output_columns(spec: Any, state: Mapping[str, dict]) -> list[tuple[str, str]]:
    """(column, declared type) for every output column, in output order."""
    from featurekit import registry
    from featurekit.ir.nodes import CallNode
    from featurekit.registry import Params

    graph = spec.graph
    out = []
    for feature in graph.outputs:
        node = graph.features[feature]
        names = [feature]
        if isinstance(node, CallNode):
            op = registry.get(node.op)
            if op.outputs is not None:
                names = op.outputs(feature, Params(dict(node.params)), state.get(node.key))
        for name in names:
            out.append((name, node.dtype.value))
    return out


def baseline_create(spec: Any, fitted_state: Mapping[str, dict]) -> dict[str, Any]:
    """The empty baseline accumulator (statistics of no rows)."""
    return {
        "rows": 0,
        "sampled": 0,
        "stride": None,
        "inputs": {i.name: ColumnStats(i.type).create() for i in spec.inputs},
        "outputs": {c: ColumnStats(t).create() for c, t in _output_columns(spec, fitted_state)},
    }


def baseline_accumulate(
    spec: Any,
    fitted_state: Mapping[str, dict],
    chunk: Any,
    *,
    offset: int = 0,
    stride: int = 1,
    inputs: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One chunk's baseline accumulator.

    ``offset`` is the global position of the chunk's first row and ``stride`` the output
    sampling stride (rows whose global position is a multiple of it are transformed), so a
    chunked or partitioned run samples exactly the rows a single-frame run does. ``inputs``
    are the chunk's input columns when already read.
    """
    import numpy as np

    from featurekit.compile.batch import evaluate, read_inputs
    from featurekit.compile.contract import Coercer
    from featurekit.values.column import Column

    n = len(chunk)
    if inputs is None:
        coercers = {i.name: Coercer(i, where="fit") for i in spec.inputs}
        inputs = read_inputs(chunk, coercers, [i.name for i in spec.inputs], where="fit")
    acc = baseline_create(spec, fitted_state)
    acc["rows"] = n
    acc["stride"] = stride
    first = (-offset) % stride
    idx = np.arange(first, n, stride)
    m = len(idx)
    for inp in spec.inputs:
        col = inputs[inp.name]
        acc["inputs"][inp.name] = ColumnStats(inp.type).accumulate(col.values, col.null, n, None if m == n else idx)
    acc["sampled"] = m
    if m == 0:
        for col in acc["outputs"].values():
            col["n"] = 0
        return acc
    if m < n:
        sampled = {}
        for name, col in inputs.items():
            values = (
                col.values.take(idx)
                if hasattr(col.values, "take") and not isinstance(col.values, np.ndarray)
                else col.values[idx]
            )
            sampled[name] = Column(values, None if col.null is None else col.null[idx])
        inputs = sampled
    graph = spec.graph
    roots = [graph.features[o] for o in graph.outputs]
    cols = evaluate(roots, inputs, m, fitted_state)
    types = dict(_output_columns(spec, fitted_state))
    for feature in graph.outputs:
        node = graph.features[feature]
        result = cols[node.key]
        names_out = [c for c, _ in _output_columns_of(spec, fitted_state, feature)]
        results = result if isinstance(result, list) else [result]
        for name, col in zip(names_out, results):
            acc["outputs"][name] = ColumnStats(types[name]).accumulate(col.values, col.null, m)
    return acc


def _output_columns_of(spec: Any, state: Mapping[str, dict], feature: str) -> list[tuple[str, str]]:
    from featurekit import registry
    from featurekit.ir.nodes import CallNode
    from featurekit.registry import Params

    node = spec.graph.features[feature]
    names = [feature]
    if isinstance(node, CallNode):
        op = registry.get(node.op)
        if op.outputs is not None:
            names = op.outputs(feature, Params(dict(node.params)), state.get(node.key))
    return [(n, node.dtype.value) for n in names]


def baseline_merge(accs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Merge accumulators of disjoint parts of the same data (any order, any tree)."""
    accs = list(accs)
    if not accs:
        raise ValueError("baseline_merge needs at least one accumulator")
    out = accs[0]
    for other in accs[1:]:
        out = {
            "rows": out["rows"] + other["rows"],
            "sampled": out["sampled"] + other["sampled"],
            "stride": out["stride"] or other["stride"],
            "inputs": {k: _merge_col(v, other["inputs"][k]) for k, v in out["inputs"].items()},
            "outputs": {k: _merge_col(v, other["outputs"][k]) for k, v in out["outputs"].items()},
        }
    return out


def baseline_finalize(acc: dict[str, Any]) -> dict[str, Any]:
    """The JSON-able baseline (what ``baseline.json`` holds)."""
    return {
        "baseline_version": BASELINE_VERSION,
        "rows": acc["rows"],
        "sample": {"stride": acc["stride"] or 1, "rows": acc["sampled"]},
        "inputs": {k: _finalize_col(v) for k, v in acc["inputs"].items()},
        "outputs": {k: _finalize_col(v) for k, v in acc["outputs"].items()},
    }


def output_stride(rows: int) -> int:
    """The output sampling stride for ``rows`` training rows."""
    return max(1, -(-rows // OUTPUT_SAMPLE_ROWS))


def compute_baseline(
    spec: Any,
    fitted_state: Mapping[str, dict],
    source: Callable[[], Iterator[Any]],
    rows: int | None = None,
    inputs: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One extra pass over ``source`` (a re-iterable of DataFrame chunks): the finalized baseline.

    ``inputs``: every input column, already read, when ``source`` is one frame.
    """
    if rows is None:
        rows = sum(len(c) for c in source())
    stride = output_stride(rows)
    acc, offset = None, 0
    for chunk in source():
        part = baseline_accumulate(spec, fitted_state, chunk, offset=offset, stride=stride, inputs=inputs)
        offset += len(chunk)
        acc = part if acc is None else baseline_merge([acc, part])
    if acc is None:
        acc = baseline_create(spec, fitted_state)
        acc["stride"] = stride
    return baseline_finalize(acc)
