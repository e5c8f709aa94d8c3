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

The accumulators are mergeable combiners like the analyzers: ``baseline_create``,
``baseline_accumulate(spec, fitted_state, chunk, offset=, stride=)``, ``baseline_merge`` and
``baseline_finalize``. Counts, extrema, histograms and top values are identical for any
chunking (below the value cap); ``mean`` / ``std`` agree to floating-point rounding.
"""

from __future__ import annotations

import datetime as _dt
import heapq
import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

BASELINE_VERSION = 1
TOP_K = 50
VALUE_CAP = 10_000
HIST_BINS = 10
OUTPUT_SAMPLE_ROWS = 20_000
_GAMMA = 1.02
_LN_GAMMA = math.log(_GAMMA)
_ZERO = 1e-9

# An accumulator is a plain dict {"rows": int, "inputs": {name: colacc}, "outputs": {col: colacc}}.
# colacc: {"kind": "num"|"str"|"bool"|"ts", "n": rows, "nulls": int, ...kind fields}.


def _kind_of_type(type_name: str) -> str:
    return {"int": "num", "float": "num", "bool": "bool", "str": "str", "category": "str", "timestamp": "ts"}[type_name]


def _empty(kind: str) -> dict[str, Any]:
    acc: dict[str, Any] = {"kind": kind, "n": 0, "nulls": 0}
    if kind == "num":
        acc.update(m=0, mean=0.0, m2=0.0, min=None, max=None, inf=0, pos={}, neg={}, zero=0)
    elif kind == "str":
        acc.update(values={}, empty=0, capped=False, distinct_lb=0)
    elif kind == "bool":
        acc.update(trues=0)
    else:
        acc.update(min=None, max=None)
    return acc


def _take(values: Any, idx: Any) -> Any:
    import numpy as np

    return values[idx] if isinstance(values, np.ndarray) else values.take(idx)


def _numeric_sketch(acc: dict[str, Any], f: Any) -> None:
    """Fold finite float64 values ``f`` into the log-bucket sketch of ``acc``."""
    import numpy as np

    absf = np.abs(f)
    acc["zero"] = int(np.count_nonzero(absf < _ZERO))
    for name, sel in (("pos", f >= _ZERO), ("neg", f <= -_ZERO)):
        sub = absf[sel]
        if sub.size:
            keys = _log_bucket(sub)
            low = int(keys.min())
            counts = np.bincount(keys - low)  # keys span at most ~37,000 buckets (1e-9 .. 1.8e308)
            present = np.flatnonzero(counts)
            acc[name] = dict(zip((present + low).tolist(), counts[present].tolist()))


def _log_bucket(x: Any) -> Any:
    """The bucket ``k`` with ``gamma**(k-1) < x <= gamma**k`` exactly in float64, for ``x >= 1e-9``.

    ``log(x) / log(gamma)`` is within about 1e-11 of the true exponent (it is at most ~36,000),
    so its ceiling is right unless it lies within 1e-6 of an integer; only those values are
    settled by comparing with the powers themselves.

    >>> import numpy as np
    >>> _log_bucket(np.array([1.0, 1.02, np.nextafter(1.02, 2.0), 2.0])).tolist()
    [0, 1, 2, 36]
    """
    import numpy as np

    r = np.log(x) / _LN_GAMMA
    keys = np.ceil(r)
    near = np.flatnonzero(np.abs(r - np.rint(r)) < 1e-6)
    if near.size:
        k, v = keys[near], x[near]
        k = np.where(np.power(_GAMMA, k) < v, k + 1, k)
        keys[near] = np.where(np.power(_GAMMA, k - 1) >= v, k - 1, k)
    return keys.astype(np.int64)


def _lengths(arr: Any) -> Any:
    """Byte length of each string (from the offsets buffer, no copy for (large_)string)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_large_string(arr.type) or pa.types.is_string(arr.type):
        dtype = np.int64 if pa.types.is_large_string(arr.type) else np.int32
        offsets = np.frombuffer(arr.buffers()[1], dtype=dtype)[arr.offset : arr.offset + len(arr) + 1]
        return np.diff(offsets)
    return np.asarray(pc.binary_length(arr).fill_null(1).to_numpy(zero_copy_only=False))


def _col_acc(kind: str, values: Any, null: Any, n: int, idx: Any = None) -> dict[str, Any]:
    import numpy as np

    with np.errstate(all="ignore"):  # huge values: mean/std may overflow to inf, which is recorded as such
        return _col_acc_impl(kind, values, null, n, idx)


def _col_acc_impl(kind: str, values: Any, null: Any, n: int, idx: Any = None) -> dict[str, Any]:
    """Accumulator of one column: cheap statistics over all ``n`` rows, the sketches
    (histogram, value counts) over the rows ``idx`` (all rows when None)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    acc = _empty(kind)
    acc["n"] = n
    if kind in ("num", "bool", "ts"):
        raw = np.asarray(values)
        if kind == "num" and raw.dtype.kind == "b":
            raw = raw.astype(np.int64)
        if kind == "bool":
            acc["nulls"] = 0 if null is None else int(np.count_nonzero(null))
            acc["trues"] = int(np.count_nonzero(raw if null is None else raw & ~np.asarray(null, dtype=bool)))
            return acc
        is_float = kind == "num" and raw.dtype.kind == "f"
        extremes = (raw.min(), raw.max()) if null is None and raw.size else None
        # min/max propagate NaN, so finite extremes mean a clean column: no masks, no compaction
        if null is None and (not is_float or extremes is None or all(map(math.isfinite, extremes))):
            good = None
        elif is_float:
            keep = np.ones(n, dtype=bool) if null is None else ~np.asarray(null, dtype=bool)
            keep &= ~np.isnan(raw)
            good = keep & np.isfinite(raw)
            acc["inf"] = int(np.count_nonzero(keep)) - int(np.count_nonzero(good))
        else:
            keep = good = ~np.asarray(null, dtype=bool)
        acc["nulls"] = 0 if good is None else n - int(np.count_nonzero(keep))
        arr = raw if good is None else raw[good]
        if arr.size:
            lo, hi = extremes if good is None else (arr.min(), arr.max())
            as_int = arr.dtype.kind in "iu" or kind == "ts"
            acc["min"], acc["max"] = (int(lo), int(hi)) if as_int else (float(lo), float(hi))
        if kind == "ts" or not arr.size:
            return acc
        mean = float(arr.mean())  # accumulates in float64 for int columns too, without a float copy
        dev = arr - mean
        acc.update(m=int(arr.size), mean=mean, m2=float(np.einsum("i,i->", dev, dev)))
        del dev
        if idx is not None:
            arr = raw[idx] if good is None else raw[idx][good[idx]]
        _numeric_sketch(acc, arr.astype(np.float64, copy=False))
        return acc
    # str / category
    keep = np.ones(n, dtype=bool) if null is None else ~np.asarray(null, dtype=bool)
    arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values, type=pa.large_string())
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if null is None and arr.null_count:  # with a mask, the mask is authoritative (Column contract)
        keep = keep & ~np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
    acc["nulls"] = n - int(np.count_nonzero(keep))
    acc["empty"] = int(np.count_nonzero((_lengths(arr) == 0) & keep))
    if idx is not None:
        arr, keep = arr.take(pa.array(idx)), keep[idx]
    if not keep.all():
        arr = arr.filter(pa.array(keep))
    vc = pc.value_counts(arr)
    distinct = len(vc)
    acc["distinct_lb"] = distinct
    vals, counts = vc.field("values"), vc.field("counts")
    if distinct > VALUE_CAP:
        table = pa.table({"values": vals, "counts": counts})
        # a full sort beats select_k here: with two keys Arrow's select_k is several times slower
        order = pc.sort_indices(table, [("counts", "descending"), ("values", "ascending")])[:VALUE_CAP]
        vals, counts = pc.take(vals, order), pc.take(counts, order)
        acc["capped"] = True
    acc["values"] = dict(zip(vals.to_pylist(), counts.to_pylist()))
    if idx is not None and len(idx) < n:
        acc["capped"] = acc["capped"] or distinct < len(arr)  # some values may be unseen in the sample
    return acc


def _merge_col(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    if a["kind"] != b["kind"]:
        raise ValueError(f"cannot merge baseline accumulators of kinds {a['kind']} and {b['kind']}")
    kind = a["kind"]
    out = {"kind": kind, "n": a["n"] + b["n"], "nulls": a["nulls"] + b["nulls"]}
    if kind in ("num", "ts"):
        mins = [x for x in (a["min"], b["min"]) if x is not None]
        maxs = [x for x in (a["max"], b["max"]) if x is not None]
        out["min"] = min(mins) if mins else None
        out["max"] = max(maxs) if maxs else None
    if kind == "num":
        m = a["m"] + b["m"]
        if m:
            delta = b["mean"] - a["mean"]
            mean = a["mean"] + delta * b["m"] / m
            m2 = a["m2"] + b["m2"] + delta * delta * a["m"] * b["m"] / m
        else:
            mean, m2 = 0.0, 0.0
        out.update(m=m, mean=mean, m2=m2, inf=a["inf"] + b["inf"], zero=a["zero"] + b["zero"])
        for side in ("pos", "neg"):
            merged = dict(a[side])
            for k, c in b[side].items():
                merged[k] = merged.get(k, 0) + c
            out[side] = merged
    elif kind == "bool":
        out["trues"] = a["trues"] + b["trues"]
    elif kind == "str":
        values = dict(a["values"])
        for v, c in b["values"].items():
            values[v] = values.get(v, 0) + c
        capped = a["capped"] or b["capped"]
        if len(values) > VALUE_CAP:
            capped = True
            values = dict(sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))[:VALUE_CAP])
        out.update(
            values=values,
            empty=a["empty"] + b["empty"],
            capped=capped,
            distinct_lb=max(a["distinct_lb"], b["distinct_lb"], len(values)),
        )
    return out


# ------------------------------------------------------------------------------ public combiner


def _output_columns(spec: Any, state: Mapping[str, dict]) -> list[tuple[str, str]]:
    """(column, kind) for every output column, in output order."""
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
            out.append((name, _kind_of_type(node.dtype.value)))
    return out


def baseline_create(spec: Any, fitted_state: Mapping[str, dict]) -> dict[str, Any]:
    """The empty baseline accumulator (statistics of no rows)."""
    return {
        "rows": 0,
        "sampled": 0,
        "stride": None,
        "inputs": {i.name: _empty(_kind_of_type(i.type)) for i in spec.inputs},
        "outputs": {c: _empty(k) for c, k in _output_columns(spec, fitted_state)},
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
        acc["inputs"][inp.name] = _col_acc(_kind_of_type(inp.type), col.values, col.null, n, None if m == n else idx)
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
    kinds = dict(_output_columns(spec, fitted_state))
    for feature in graph.outputs:
        node = graph.features[feature]
        result = cols[node.key]
        names_out = [c for c, _ in _output_columns_of(spec, fitted_state, feature)]
        results = result if isinstance(result, list) else [result]
        for name, col in zip(names_out, results):
            acc["outputs"][name] = _col_acc(kinds[name], col.values, col.null, m)
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
    return [(n, _kind_of_type(node.dtype.value)) for n in names]


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


def _ts_iso(micros: int | None) -> str | None:
    if micros is None:
        return None
    epoch = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
    return (epoch + _dt.timedelta(microseconds=micros)).isoformat()


def _gpow(k: int) -> float:
    try:
        return _GAMMA**k
    except OverflowError:
        return math.inf


def _histogram(acc: dict[str, Any]) -> dict[str, list]:
    """Decile edges on the log-bucket sketch; exact counts for those edges."""
    lo, hi = acc["min"], acc["max"]
    # buckets in ascending value order as (upper bound, count)
    buckets: list[tuple[float, int]] = []
    for k in sorted(acc["neg"], reverse=True):  # -gamma**k <= x < -gamma**(k-1)
        buckets.append((-_gpow(k - 1), acc["neg"][k]))
    if acc["zero"]:
        buckets.append((_ZERO, acc["zero"]))
    for k in sorted(acc["pos"]):  # gamma**(k-1) < x <= gamma**k
        buckets.append((_gpow(k), acc["pos"][k]))
    if isinstance(lo, int):  # integer data: an integer upper bound is just as exact
        buckets = [(math.floor(u), c) for u, c in buckets]
    total = sum(c for _, c in buckets)
    if not total:
        return {"edges": [], "counts": []}
    # inner decile edges: the upper bound of the bucket holding each decile
    edges = [lo]
    cum, j = 0, 0
    bounds = []
    for i in range(1, HIST_BINS):
        target = total * i / HIST_BINS
        while j < len(buckets) and cum + buckets[j][1] < target:
            cum += buckets[j][1]
            j += 1
        if j < len(buckets):
            bounds.append(j)
    for j in sorted(set(bounds)):
        edge = min(max(buckets[j][0], lo), hi)
        if edge > edges[-1] and edge < hi:
            edges.append(edge)
    if hi > edges[-1] or len(edges) == 1:
        edges.append(hi)
    counts = [0] * (len(edges) - 1)
    b = 0
    for upper, c in buckets:
        while b < len(counts) - 1 and upper > edges[b + 1]:
            b += 1
        counts[b] += c
    return {"edges": edges, "counts": counts}


def _finalize_col(acc: dict[str, Any]) -> dict[str, Any]:
    kind, n, nulls = acc["kind"], acc["n"], acc["nulls"]
    out: dict[str, Any] = {"count": n, "null_count": nulls, "null_rate": nulls / n if n else None}
    present = n - nulls
    if kind == "num":
        m = acc["m"]
        out.update(
            min=acc["min"],
            max=acc["max"],
            mean=acc["mean"] if m else None,
            std=math.sqrt(max(acc["m2"], 0.0) / m) if m else None,
            inf_count=acc["inf"],
            histogram=_histogram(acc),
        )
    elif kind == "bool":
        out.update(true_count=acc["trues"], true_rate=acc["trues"] / present if present else None)
    elif kind == "ts":
        out.update(min=_ts_iso(acc["min"]), max=_ts_iso(acc["max"]))
    else:
        top = heapq.nsmallest(TOP_K, ((-c, v) for v, c in acc["values"].items()))  # most frequent, then by value
        out.update(
            top=[[v, -c] for c, v in top],
            distinct=len(acc["values"]) if not acc["capped"] else acc["distinct_lb"],
            distinct_capped=acc["capped"],
            empty_rate=acc["empty"] / present if present else None,
        )
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
