"""Fitting: run every analyzer once over the training data and freeze the results.

Analyzers are combiners (create/update/merge/finalize), so the same fit runs over one
DataFrame, over chunks or over partitions. An analyzer whose input depends on another
analyzer's result (``zscore(clip(x, lower_pct=1))``) runs in a later pass: pass *k* updates
every analyzer at depth *k*, so a spec needs as many passes over the data as its deepest
chain of analyzed ops (the churn spec: 3). The result maps each analyzed node's content key
to its frozen state (plain JSON-able data).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Iterable, Iterator, Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from featurekit import registry
from featurekit.compile.batch import evaluate, read_inputs
from featurekit.compile.column import Column
from featurekit.compile.contract import Coercer
from featurekit.errors import FitError
from featurekit.ir.analysis import analyzed_keys, analyzed_nodes, fit_levels  # noqa: F401
from featurekit.ir.nodes import CallNode, InputNode, Node, walk
from featurekit.registry import Params
from featurekit.sample import SystematicSample
from featurekit.spec.model import Spec


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
    raise FitError(f"fit: cannot read training data of type {type(data).__name__}\n  Fix: pass a pandas "
                   "DataFrame, a list of row dicts, a list of DataFrame chunks, a function returning an "
                   "iterator of chunks, or a Dask DataFrame (featurekit[dask])")


def rows_to_frame(rows: Iterable[Mapping[str, Any]], columns: list[str]) -> pd.DataFrame:
    """Row dicts as an object-dtype frame: values are checked by the exact (row) coercer."""
    rows = list(rows)
    index = pd.RangeIndex(len(rows))
    # explicit object Series: pandas 3 would otherwise infer str/datetime dtypes from object
    # arrays, and the values would skip the exact scalar coercion the row path uses
    data = {c: pd.Series([r.get(c) for r in rows], dtype=object, index=index) for c in columns}
    return pd.DataFrame(data, index=index)


def fit(spec: Spec, data: Any, *, progress: Callable[[str], None] | None = None, baseline: bool = True) -> Any:
    """Fit ``spec`` on ``data``; see :meth:`featurekit.spec.model.Spec.fit`.

    ``baseline=False`` skips the training statistics the skew report compares serving traffic
    with (one extra pass; about 40% of the fit time on the churn spec).
    """
    from featurekit.transform import FittedTransform

    if _is_dask(data):
        from featurekit.engines.dask import fit_dask

        return fit_dask(spec, data, progress=progress)
    source = as_chunk_source(data, spec)
    started = time.perf_counter()
    # one in-memory frame: read and check its inputs once for every pass and the baseline
    read = _read_all_inputs(spec, data) if isinstance(data, pd.DataFrame) else None
    state: dict[str, dict] = {}
    rows = 0
    sample = SystematicSample([i.name for i in spec.inputs])  # taken in the first pass over the data
    for level, nodes in enumerate(fit_levels(graph_roots(spec)), start=1):
        accs = None
        rows = 0
        for chunk in source():
            if level == 1:
                sample.add(chunk)
            part = accumulate(spec, nodes, state, chunk, inputs=read)
            accs = part if accs is None else merge(spec, nodes, [accs, part])
            rows += len(chunk)
        state.update(finalize(spec, nodes, accs if accs is not None else create(spec, nodes)))
        if progress:
            progress(f"fit pass {level}: {len(nodes)} analyzer(s) over {rows:,} rows")
    if not state:
        for chunk in source():
            sample.add(chunk)
        rows = sample.seen
    stats = None
    if baseline:
        from featurekit.baseline import compute_baseline  # baseline statistics: one extra pass

        every_input = read is not None and len(read) == len(spec.inputs)
        stats = compute_baseline(spec, state, source, rows, inputs=read if every_input else None)
    info = {"rows": rows, "seconds": round(time.perf_counter() - started, 6), "engine": "pandas"}
    fitted = FittedTransform(spec, state, fit_info=info)
    fitted.baseline_ = stats
    fitted.sample_ = sample.rows()
    return fitted


def graph_roots(spec: Spec) -> list[Node]:
    graph = spec.graph
    return [graph.features[o] for o in graph.outputs]


def _analyzer(node: CallNode) -> Any:
    return registry.get(node.op).analyzer(Params(dict(node.params)), node.args[0].dtype).build()


def create(spec: Spec, nodes: list[CallNode]) -> dict[str, Any]:
    """Empty accumulators for one fit pass."""
    return {n.key: _analyzer(n).create() for n in nodes}


def _read_all_inputs(spec: Spec, frame: pd.DataFrame) -> dict[str, Column]:
    """The inputs the features use, read from ``frame`` with the contract applied (as
    :func:`accumulate` would, pass after pass)."""
    used = {n.name for n in walk(graph_roots(spec)) if isinstance(n, InputNode)}
    names = [i.name for i in spec.inputs if i.name in used]
    _check_columns(frame, spec, names)
    return read_inputs(frame, {i.name: Coercer(i, where="fit") for i in spec.inputs}, names, where="fit")


def accumulate(spec: Spec, nodes: list[CallNode], state: Mapping[str, dict], chunk: pd.DataFrame,
               inputs: Mapping[str, Column] | None = None) -> dict[str, Any]:
    """One chunk's accumulators for one fit pass (``state`` holds earlier passes' results).

    This is the unit of distributed fitting: engines run it per partition and :func:`merge`
    the results in any tree shape. ``inputs`` are the chunk's input columns when already read.
    """
    targets = [n.args[0] for n in nodes]
    if inputs is None:
        needed = sorted({n.name for n in walk(targets) if isinstance(n, InputNode)})
        _check_columns(chunk, spec, needed)
        coercers = {i.name: Coercer(i, where="fit") for i in spec.inputs if i.name in needed}
        inputs = read_inputs(chunk, coercers, needed, where="fit")
    cols = evaluate(targets, inputs, len(chunk), state)
    out = {}
    for node in nodes:
        analyzer = _analyzer(node)
        out[node.key] = analyzer.update(analyzer.create(), non_null_values(cols[node.args[0].key]))
    return out


def merge(spec: Spec, nodes: list[CallNode], parts: list[dict[str, Any]]) -> dict[str, Any]:
    """Merge accumulators of the same pass (exact for every built-in analyzer)."""
    return {n.key: _analyzer(n).merge([p[n.key] for p in parts]) for n in nodes}


def finalize(spec: Spec, nodes: list[CallNode], accs: Mapping[str, Any]) -> dict[str, dict]:
    """Frozen state of each analyzed node from its merged accumulator."""
    return {n.key: freeze_state(n, _analyzer(n).finalize(accs[n.key])) for n in nodes}


def freeze_state(node: CallNode, fitted: dict) -> dict:
    """The op's frozen state from its analyzer's result."""
    op = registry.get(node.op)
    return op.state_from(fitted, Params(dict(node.params))) if op.state_from else fitted


def _check_columns(chunk: pd.DataFrame, spec: Spec, needed: list[str]) -> None:
    missing = [n for n in needed if n not in chunk.columns]
    required = [n for n in missing if not next(i for i in spec.inputs if i.name == n).nullable]
    if required:
        raise FitError(f"fit: the training data lacks input column(s) {required}; it has "
                       f"{[str(c) for c in chunk.columns][:20]}\n  Fix: add the columns or rename them to "
                       "the spec's input names", input=required[0])


def _is_dask(data: Any) -> bool:
    module = type(data).__module__ or ""
    return module.startswith("dask")
