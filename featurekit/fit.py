"""Fitting: run every analyzer once over the training data and freeze the results.

Analyzers are combiners (create/update/merge/finalize), so the same fit runs over one
DataFrame, over chunks or over partitions. An analyzer whose input depends on another
analyzer's result (``zscore(clip(x, lower_pct=1))``) runs in a later pass: pass *k* updates
every analyzer at depth *k*, so a spec needs as many passes over the data as its deepest
chain of analyzed ops (the churn spec: 3), plus one for each depth holding a two-pass
analyzer (a bounded vocabulary). The result maps each analyzed node's content key to its
frozen state (plain JSON-able data).

Warnings (:class:`featurekit.errors.FitMemoryWarning`, :class:`featurekit.errors.ApproximationWarning`)
name the feature and the fix when an exact quantile held more than
:data:`EXACT_QUANTILE_WARN_DISTINCT` distinct values, or a bounded analyzer's result is less
certain than declared (sketch cap reached, bounded vocabulary not provably the exact top k).

What fit refuses or reports, so bad training data never becomes a silent wrong value:

* a declared input column the data lacks (also a nullable one): :class:`FitError` naming it,
  with a did-you-mean hint (``Credit_Score`` for ``credit_score``);
* an analyzer that saw no non-null value although the data has rows (the column is all null,
  or every value broke the contract and was replaced by null): :class:`FitError`, unless the
  feature declares ``on_empty_fit: fallback`` (the op's documented empty-fit state). Fitting
  on zero rows is a declared case: every analyzer uses its empty-fit state;
* an input whose values broke the contract (and were replaced as declared) in more than
  ``max_violation_rate`` of the rows (default 10%): a :class:`FitWarning` with the counts.
  The counts are kept in ``fit_info_["violations"]`` either way.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from featurekit import registry
from featurekit.compile.batch import evaluate, read_inputs
from featurekit.compile.contract import Coercer
from featurekit.errors import ApproximationWarning, FitError, FitMemoryWarning, FitWarning
from featurekit.ir.analysis import analyzed_keys, analyzed_nodes, fit_levels  # noqa: F401
from featurekit.ir.nodes import CallNode, InputNode, Node, walk
from featurekit.registry import Params
from featurekit.sample import SystematicSample
from featurekit.spec.model import Spec
from featurekit.values.column import Column

#: An exact quantile accumulator holding more distinct values than this makes ``fit`` warn
#: (:class:`~featurekit.errors.FitMemoryWarning`): about 16 bytes each, 80 MB at the threshold.
EXACT_QUANTILE_WARN_DISTINCT = 5_000_000
_EXACT_BYTES_PER_VALUE = 16  # float64/int64 value + int64 count
_SUGGESTED_APPROX = 0.001


def non_null_values(col: Column) -> Any:
    """The values an analyzer sees: the non-null ones."""
    values = col.values
    if col.null is None:
        return values
    keep = ~col.null
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values.filter(pa.array(keep))
    return values[keep]


def as_chunk_source(data: Any, spec: Spec) -> Callable[[], Iterator[pd.DataFrame]]:
    """A re-iterable source of DataFrame chunks (fit may need several passes)."""
    if isinstance(data, pd.DataFrame):
        return lambda: iter([data])
    if isinstance(data, list) and (not data or isinstance(data[0], Mapping)):
        frame = rows_to_frame(data, [i.name for i in spec.inputs])
        return lambda: iter([frame])
    if callable(data):
        return data
    if isinstance(data, (list, tuple)) and all(isinstance(d, pd.DataFrame) for d in data):
        return lambda: iter(data)
    raise FitError(
        f"fit: cannot read training data of type {type(data).__name__}\n  Fix: pass a pandas "
        "DataFrame, a list of row dicts, a list of DataFrame chunks, a function returning an "
        "iterator of chunks, or a Dask DataFrame (featurekit[dask])"
    )


def rows_to_frame(rows: Iterable[Mapping[str, Any]], columns: list[str]) -> pd.DataFrame:
    """Row dicts as an object-dtype frame: values are checked by the exact (row) coercer."""
    rows = list(rows)
    index = pd.RangeIndex(len(rows))
    # explicit object Series: pandas 3 would otherwise infer str/datetime dtypes from object
    # arrays, and the values would skip the exact scalar coercion the row path uses
    data = {c: pd.Series([r.get(c) for r in rows], dtype=object, index=index) for c in columns}
    return pd.DataFrame(data, index=index)


MAX_VIOLATION_RATE = 0.1
"""Default share of training rows whose value of one input may break the contract (and be
replaced as declared) before ``fit`` warns with the counts."""


def fit(
    spec: Spec,
    data: Any,
    *,
    progress: Callable[[str], None] | None = None,
    baseline: bool = True,
    max_violation_rate: float = MAX_VIOLATION_RATE,
) -> Any:
    """Fit ``spec`` on ``data``; see :meth:`featurekit.spec.model.Spec.fit`.

    ``baseline=False`` skips the training statistics the skew report compares serving traffic
    with (one extra pass; about 40% of the fit time on the churn spec). ``max_violation_rate``:
    warn (:class:`FitWarning`) when a larger share of the rows broke an input's contract.
    """
    from featurekit.transform import FittedTransform

    if _is_dask(data):
        from featurekit.engines.dask import fit_dask

        return fit_dask(spec, data, progress=progress, max_violation_rate=max_violation_rate)
    source = as_chunk_source(data, spec)
    started = time.perf_counter()
    tally: dict[str, dict[str, int]] = {}
    # one in-memory frame: read and check its inputs once for every pass and the baseline
    read = _read_all_inputs(spec, data, tally) if isinstance(data, pd.DataFrame) else None
    state: dict[str, dict] = {}
    rows = 0
    sample = SystematicSample([i.name for i in spec.inputs])  # taken in the first pass over the data
    passes = 0
    for nodes in fit_levels(graph_roots(spec)):
        analyzers = analyzers_for(nodes)
        while analyzers:
            pending = [n for n in nodes if n.key in analyzers]
            first = passes == 0
            accs = None
            rows = 0
            for chunk in source():
                if first:
                    sample.add(chunk)
                part = accumulate(
                    spec,
                    pending,
                    state,
                    chunk,
                    inputs=read,
                    analyzers=analyzers,
                    tally=tally if first and read is None else None,
                )
                accs = part if accs is None else merge(spec, pending, [accs, part], analyzers)
                rows += len(chunk)
            if accs is None:
                accs = create(spec, pending, analyzers)
            analyzers = finish_pass(spec, pending, analyzers, accs, state)
            passes += 1
            if progress:
                progress(f"fit pass {passes}: {len(pending)} analyzer(s) over {rows:,} rows")
    if passes == 0:  # no analyzers: one pass to count the rows and take the sample
        for chunk in source():
            sample.add(chunk)
        rows = sample.seen
    report_violations(tally, rows, max_violation_rate)
    check_analyzers_saw_values(spec, state, rows)
    stats = None
    if baseline:
        from featurekit.baseline import compute_baseline  # baseline statistics: one extra pass

        every_input = read is not None and len(read) == len(spec.inputs)
        stats = compute_baseline(spec, state, source, rows, inputs=read if every_input else None)
    info: dict[str, Any] = {"rows": rows, "seconds": round(time.perf_counter() - started, 6), "engine": "pandas"}
    if tally:
        info["violations"] = tally
    fitted = FittedTransform(spec, state, fit_info=info)
    fitted.baseline_ = stats
    fitted.sample_ = sample.rows()
    return fitted


def graph_roots(spec: Spec) -> list[Node]:
    graph = spec.graph
    return [graph.features[o] for o in graph.outputs]


def _analyzer(node: CallNode) -> Any:
    return registry.get(node.op).analyzer(Params(dict(node.params)), node.args[0].dtype).build()


def analyzers_for(nodes: list[CallNode]) -> dict[str, Any]:
    """The first-pass analyzer of each node, by node key."""
    return {n.key: _analyzer(n) for n in nodes}


def count_passes(spec: Spec) -> int:
    """Passes over the data a fit of ``spec`` makes (per depth, its analyzers' most passes)."""
    return sum(max(a.passes for a in analyzers_for(nodes).values()) for nodes in fit_levels(graph_roots(spec)))


def create(spec: Spec, nodes: list[CallNode], analyzers: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Empty accumulators for one fit pass (``analyzers``: this pass's, by node key)."""
    return {n.key: (analyzers[n.key] if analyzers else _analyzer(n)).create() for n in nodes}


def _read_all_inputs(
    spec: Spec, frame: pd.DataFrame, tally: dict[str, dict[str, int]] | None = None
) -> dict[str, Column]:
    """The inputs the features use, read from ``frame`` with the contract applied (as
    :func:`accumulate` would, pass after pass)."""
    used = {n.name for n in walk(graph_roots(spec)) if isinstance(n, InputNode)}
    names = [i.name for i in spec.inputs if i.name in used]
    _check_columns(frame, spec)
    return read_inputs(frame, {i.name: Coercer(i, where="fit") for i in spec.inputs}, names, where="fit", tally=tally)


def accumulate(
    spec: Spec,
    nodes: list[CallNode],
    state: Mapping[str, dict],
    chunk: pd.DataFrame,
    inputs: Mapping[str, Column] | None = None,
    analyzers: Mapping[str, Any] | None = None,
    tally: dict[str, dict[str, int]] | None = None,
) -> dict[str, Any]:
    """One chunk's accumulators for one fit pass (``state`` holds earlier passes' results).

    This is the unit of distributed fitting: engines run it per partition and :func:`merge`
    the results in any tree shape. ``inputs`` are the chunk's input columns when already read;
    ``analyzers`` this pass's analyzers by node key (default: each node's first pass); ``tally``
    counts the contract violations replaced while reading the inputs.
    """
    targets = [n.args[0] for n in nodes]
    if inputs is None:
        needed = sorted({n.name for n in walk(targets) if isinstance(n, InputNode)})
        _check_columns(chunk, spec)
        coercers = {i.name: Coercer(i, where="fit") for i in spec.inputs if i.name in needed}
        inputs = read_inputs(chunk, coercers, needed, where="fit", tally=tally)
    cols = evaluate(targets, inputs, len(chunk), state)
    out = {}
    for node in nodes:
        analyzer = analyzers[node.key] if analyzers else _analyzer(node)
        out[node.key] = analyzer.update(analyzer.create(), non_null_values(cols[node.args[0].key]))
    return out


def merge(
    spec: Spec, nodes: list[CallNode], parts: list[dict[str, Any]], analyzers: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Merge accumulators of the same pass (exact for every built-in analyzer)."""
    return {n.key: (analyzers[n.key] if analyzers else _analyzer(n)).merge([p[n.key] for p in parts]) for n in nodes}


def finish_pass(
    spec: Spec, nodes: list[CallNode], analyzers: Mapping[str, Any], accs: Mapping[str, Any], state: dict[str, dict]
) -> dict[str, Any]:
    """Finalize one pass: freeze the state of the nodes whose analysis is complete into
    ``state`` (warning where :mod:`featurekit.fit` says), and return the next pass's analyzers
    of the others, by node key (empty when the nodes are done)."""
    follow = {}
    for node in nodes:
        analyzer = analyzers[node.key]
        result = analyzer.finalize(accs[node.key])
        nxt = analyzer.next_stage(result)
        if nxt is not None:
            follow[node.key] = nxt
            continue
        state[node.key] = freeze_state(node, result)
        _warn_exact_quantile_memory(spec, node, analyzer, accs[node.key])
        _warn_approximation(spec, node, result, state[node.key])
    return follow


def freeze_state(node: CallNode, fitted: dict) -> dict:
    """The op's frozen state from its analyzer's result."""
    op = registry.get(node.op)
    return op.state_from(fitted, Params(dict(node.params))) if op.state_from else fitted


def _where(spec: Spec, node: CallNode) -> str:
    """``feature 'x' (op(params))``: the first feature whose expression computes ``node``."""
    graph = spec.graph
    feature = next((f for f in graph.outputs if node.key in {n.key for n in walk([graph.features[f]])}), "?")
    declared = registry.get(node.op).params
    shown = ", ".join(f"{k}={v!r}" for k, v in node.params if k not in declared or v != declared[k].default)
    return f"feature {feature!r} ({node.op}({shown}))"


def _warn(warning: Warning) -> None:
    """Issue ``warning`` at the first caller outside featurekit (the user's ``fit`` call)."""
    package = os.path.dirname(os.path.abspath(__file__))
    frame, level = sys._getframe(0), 1
    while frame is not None and frame.f_code.co_filename.startswith(package):
        frame, level = frame.f_back, level + 1
    warnings.warn(warning, stacklevel=level)


def _warn_exact_quantile_memory(spec: Spec, node: CallNode, analyzer: Any, acc: Any) -> None:
    from featurekit.analyzers import Median, Quantiles
    from featurekit.analyzers.sketch import MAX_BUCKETS, bucket_ordinals, mantissa_bits

    if not isinstance(analyzer, (Quantiles, Median)) or acc.values.size <= EXACT_QUANTILE_WARN_DISTINCT:
        return
    distinct = int(acc.values.size)
    held = distinct * _EXACT_BYTES_PER_VALUE
    buckets = min(
        int(np.unique(bucket_ordinals(acc.values.astype(np.float64), mantissa_bits(_SUGGESTED_APPROX))).size),
        2 * MAX_BUCKETS,
    )
    _warn(
        FitMemoryWarning(
            f"fit: {_where(spec, node)}: the exact quantile accumulator held {distinct:,} distinct values "
            f"(~{held / 2**20:,.1f} MB per copy; every partition's accumulator and each merge of a Dask fit "
            f"hold their own copies, up to 9 in a merge of fan-in 8)\n"
            f"  Fix: add approx={_SUGGESTED_APPROX} to {node.op}(...) for quantiles within 0.1% of the exact "
            f"value in bounded memory (~{buckets * _EXACT_BYTES_PER_VALUE / 2**10:,.0f} KB on this data; "
            "see docs/scale.md)"
        )
    )


def _warn_approximation(spec: Spec, node: CallNode, result: dict, frozen: dict) -> None:
    floor = result.get("error_floor")
    if floor:
        _warn(
            ApproximationWarning(
                f"fit: {_where(spec, node)}: the quantile sketch reached its bucket cap; values below "
                f"{2 * floor:.6g} in magnitude share one bucket, so the fitted quantiles are within "
                f"approx·|q| + {floor:.6g} (not approx·|q|)\n  Fix: use a larger approx= (fewer buckets per "
                "factor of two), or transform the column (e.g. log1p) so it spans fewer powers of two"
            )
        )
    if frozen.get("certain") is False:
        _warn(
            ApproximationWarning(
                f"fit: {_where(spec, node)}: the bounded vocabulary is not certainly the exact top "
                f"{dict(node.params).get('top_k')}: values left out of the bounded table occurred up to "
                f"{frozen['count_bound']:,} time(s)\n  Fix: raise bounded= (values tracked exactly) or lower top_k"
            )
        )


def _check_columns(chunk: pd.DataFrame, spec: Spec) -> None:
    """Every declared input is a column of the training data (a nullable one too: a missing
    column is a renamed or forgotten one; fitting, and the baseline, would learn from nothing)."""
    from featurekit.compile.batch import missing_columns
    from featurekit.errors import ContractError

    try:
        missing = missing_columns(chunk, [i.name for i in spec.inputs], "fit")
    except ContractError as exc:
        raise FitError(exc.message, input=exc.input) from None
    if missing:
        hints = "; ".join(f"{name!r}: {hint}" for name, hint in missing if hint)
        raise FitError(
            f"fit: the training data lacks input column(s) {[m for m, _ in missing]}; it has "
            f"{[str(c) for c in chunk.columns][:20]}\n  Fix: add the columns or rename them to "
            "the spec's input names" + (f"\n  Hint: {hints}" if hints else ""),
            input=missing[0][0],
        )


def check_analyzers_saw_values(spec: Spec, state: Mapping[str, dict], rows: int) -> None:
    """Refuse an analyzer that saw no non-null value on data with rows (its state's ``count``
    is 0), unless a feature holding it declares ``on_empty_fit: fallback``."""
    if rows == 0:
        return  # fitting on zero rows is the declared empty fit: every op uses its fallback
    empty = [key for key, s in state.items() if s.get("count") == 0]
    if not empty:
        return
    graph = spec.graph
    allowed = {n.key for f in spec.features if f.on_empty_fit == "fallback" for n in walk([graph.features[f.name]])}
    refused = [key for key in empty if key not in allowed]
    if not refused:
        return
    nodes = {n.key: n for n in walk(graph_roots(spec))}
    node = nodes[refused[0]]
    inputs = sorted({n.name for n in walk([node]) if isinstance(n, InputNode)})
    owners = [f.name for f in spec.features if any(n.key == node.key for n in walk([graph.features[f.name]]))]
    params = ", ".join(f"{k}={v!r}" for k, v in node.params if v is not None)
    raise FitError(
        f"fit: feature {owners[0]!r}: op {node.op!r}{f' ({params})' if params else ''} saw no non-null "
        f"value of {', '.join(repr(i) for i in inputs) or 'its argument'} in {rows:,} training row(s) "
        f"(all null, or all replaced by null as contract violations)"
        + (f"; {len(refused) - 1} more analyzer(s) too" if len(refused) > 1 else "")
        + "\n  Fix: check the training column; or declare the feature as {expr: ..., on_empty_fit: "
        "fallback} to use the op's documented empty-fit state",
        feature=owners[0],
        op=node.op,
        input=inputs[0] if inputs else None,
    )


def report_violations(tally: Mapping[str, Mapping[str, int]], rows: int, max_rate: float) -> None:
    """Warn (:class:`FitWarning`) for each input whose replaced contract violations exceed
    ``max_rate`` of the training rows."""
    for name, kinds in tally.items():
        total = sum(kinds.values())
        if rows and total / rows > max_rate:
            detail = ", ".join(f"{kind}: {n:,}" for kind, n in sorted(kinds.items()))
            warnings.warn(
                FitWarning(
                    f"fit: input {name!r}: {total:,} of {rows:,} training value(s) ({total / rows:.1%}) broke the "
                    f"contract and were replaced as declared ({detail})\n  Fix: check the column (a unit, type or "
                    "schema change?) or the contract; fit(..., max_violation_rate=...) sets this threshold"
                ),
                stacklevel=3,
            )


def _is_dask(data: Any) -> bool:
    module = type(data).__module__ or ""
    return module.startswith("dask")
