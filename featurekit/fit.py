"""Fitting: run every analyzer once over the training data and freeze the results.

:func:`run` is the driver: it asks an engine (:mod:`featurekit.engines`) to run each pass as
an aggregation over the engine's chunks of data, so it holds no engine-specific code; the
engine is chosen by the caller (:func:`featurekit.transform.fit`).

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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from featurekit import registry
from featurekit.baseline import baseline_accumulate, baseline_create, baseline_finalize, baseline_merge, output_stride
from featurekit.compile.batch import evaluate, read_inputs
from featurekit.compile.contract import Coercer
from featurekit.errors import ApproximationWarning, FitError, FitMemoryWarning, FitWarning
from featurekit.ir.analysis import analyzed_keys, analyzed_nodes, fit_levels  # noqa: F401
from featurekit.ir.nodes import CallNode, InputNode, Node, walk
from featurekit.registry import Params
from featurekit.sample import Kept, take, thin
from featurekit.spec.model import Spec
from featurekit.spec.ref import SpecRef
from featurekit.values.column import Column

if TYPE_CHECKING:
    from types import FrameType

    from featurekit.engines.protocol import Engine

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


MAX_VIOLATION_RATE = 0.1
"""Default share of training rows whose value of one input may break the contract (and be
replaced as declared) before ``fit`` warns with the counts."""


@dataclass
class Fit:
    """What a fit learned: the frozen state and what :class:`~featurekit.transform.FittedTransform`
    keeps besides (``fit_info_``, ``baseline_``, ``sample_``)."""

    state: dict[str, dict]
    info: dict[str, Any]
    sample: list[dict[str, Any]]
    baseline: dict[str, Any] | None


def run(
    spec: Spec,
    engine: Engine,
    data: Any,
    *,
    progress: Callable[[str], None] | None = None,
    baseline: bool = True,
    max_violation_rate: float = MAX_VIOLATION_RATE,
) -> Fit:
    """Fit ``spec`` on ``data`` with ``engine``: every pass is an aggregation the engine runs.

    Pass *k* accumulates the analyzers at depth *k* (:class:`AnalyzerPass`); the first pass also
    counts the rows, tallies the contract violations and takes the training sample
    (:class:`FirstPass`); the baseline pass (:class:`BaselinePass`) computes the training
    statistics. ``baseline=False`` skips that pass (about 40% of the fit time on the churn
    spec). ``max_violation_rate``: warn (:class:`FitWarning`) when a larger share of the rows
    broke an input's contract.
    """
    started = time.perf_counter()
    ref = SpecRef(spec)
    reader = InputReader()
    state: dict[str, dict] = {}
    total = count_passes(spec)
    first: PassResult | None = None
    passes = 0
    for nodes in fit_levels(graph_roots(spec)):
        analyzers = analyzers_for(nodes)
        while analyzers:
            passes += 1
            pending = [n for n in nodes if n.key in analyzers]
            keys = [n.key for n in pending]
            label = f"fit pass {passes}/{total}: {len(pending)} analyzer(s)"
            job = (FirstPass if first is None else AnalyzerPass)(ref, keys, state, analyzers, reader)
            result = engine.aggregate(data, job, progress=_prefixed(progress, label))
            first = first or result
            analyzers = finish_pass(spec, pending, analyzers, result.accs, state)
            if progress:
                progress(f"{label} over {result.rows:,} rows")
    if first is None:  # no analyzers: one pass to count the rows and take the sample
        first = engine.aggregate(data, FirstPass(ref, [], state, {}, reader))
    rows = first.rows
    report_violations(first.tally, rows, max_violation_rate)
    check_analyzers_saw_values(spec, state, rows)
    stats = None
    if baseline:
        stats = baseline_finalize(engine.aggregate(data, BaselinePass(ref, state, output_stride(rows), reader)))
    info: dict[str, Any] = {"rows": rows, "seconds": round(time.perf_counter() - started, 6), "engine": engine.name}
    info.update(engine.fit_info(data) if hasattr(engine, "fit_info") else {})
    if first.tally:
        info["violations"] = first.tally
    return Fit(state, info, [row for _, row in first.sample], stats)


def _prefixed(progress: Callable[[str], None] | None, label: str) -> Callable[[str], None] | None:
    """``progress`` for an engine's own messages about a pass, after the pass's label."""
    if progress is None:
        return None
    return lambda message: progress(f"{label} {message}")


# -- the passes: aggregations an engine runs (picklable; see featurekit.engines.protocol) --------


class InputReader:
    """Reads a chunk's input columns with the contract applied, remembering the last chunk read
    (by identity) so that the passes over one in-memory frame read its inputs once.

    The memory travels with no job to another process (engines that pickle jobs read again)."""

    def __init__(self) -> None:
        self._last: tuple[Any, frozenset[str], Mapping[str, Column]] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"_last": None}

    def read(
        self,
        spec: Spec,
        chunk: pd.DataFrame,
        names: Sequence[str],
        tally: dict[str, dict[str, int]] | None = None,
    ) -> Mapping[str, Column]:
        """The named input columns of ``chunk`` (``tally`` counts the replaced violations)."""
        last = self._last
        if tally is None and last is not None and last[0] is chunk and last[1] >= set(names):
            return last[2]
        _check_columns(chunk, spec)
        coercers = {i.name: Coercer(i, where="fit") for i in spec.inputs if i.name in names}
        columns = read_inputs(chunk, coercers, names, where="fit", tally=tally)
        self._last = (chunk, frozenset(names), columns)
        return columns


@dataclass
class PassResult:
    """An analyzer pass's merged state: accumulators by node key, rows seen and, in the first
    pass, the contract-violation tally (input -> kind -> count), the sampled rows with their
    positions and the end position of the rows covered."""

    accs: dict[str, Any]
    rows: int
    tally: dict[str, dict[str, int]] = field(default_factory=dict)
    sample: Kept = field(default_factory=list)
    end: int = 0


class AnalyzerPass:
    """One fit pass: accumulate the analyzers of ``keys`` (``state``: earlier passes' results)."""

    def __init__(
        self,
        ref: SpecRef,
        keys: list[str],
        state: Mapping[str, dict],
        analyzers: Mapping[str, Any],
        reader: InputReader,
    ) -> None:
        self.ref = ref
        self.keys = keys
        self.state = dict(state)
        self.analyzers = dict(analyzers)
        self.reader = reader

    def empty(self) -> PassResult:
        return PassResult({k: self.analyzers[k].create() for k in self.keys}, 0)

    def accumulate(self, chunk: pd.DataFrame) -> PassResult:
        spec, nodes = self.ref.spec(), self.ref.nodes(self.keys)
        targets = [n.args[0] for n in nodes]
        needed = sorted({n.name for n in walk(targets) if isinstance(n, InputNode)})
        return PassResult(self._accumulate(nodes, self.reader.read(spec, chunk, needed), len(chunk)), len(chunk))

    def _accumulate(self, nodes: list[CallNode], inputs: Mapping[str, Column], n: int) -> dict[str, Any]:
        cols = evaluate([node.args[0] for node in nodes], inputs, n, self.state)
        out = {}
        for node in nodes:
            analyzer = self.analyzers[node.key]
            out[node.key] = analyzer.update(analyzer.create(), non_null_values(cols[node.args[0].key]))
        return out

    def merge(self, parts: Sequence[PassResult]) -> PassResult:
        """Exact for every built-in analyzer, in any tree shape."""
        tally: dict[str, dict[str, int]] = {}
        for part in parts:
            for name, kinds in part.tally.items():
                counts = tally.setdefault(name, {})
                for kind, n in kinds.items():
                    counts[kind] = counts.get(kind, 0) + n
        end = max(p.end for p in parts)
        return PassResult(
            {k: self.analyzers[k].merge([p.accs[k] for p in parts]) for k in self.keys},
            sum(p.rows for p in parts),
            tally,
            thin([p.sample for p in parts], end),
            end,
        )


class FirstPass(AnalyzerPass):
    """The first pass also reads every input the features use (tallying the contract
    violations) and takes the training sample: it needs each chunk's global row position."""

    def accumulate(self, chunk: pd.DataFrame) -> PassResult:
        """The pass over data that is this one chunk."""
        return self.accumulate_at(chunk, 0)

    def accumulate_at(self, chunk: pd.DataFrame, start: int) -> PassResult:
        spec, nodes = self.ref.spec(), self.ref.nodes(self.keys)
        used = {n.name for n in walk(graph_roots(spec)) if isinstance(n, InputNode)}
        tally: dict[str, dict[str, int]] = {}
        inputs = self.reader.read(spec, chunk, [i.name for i in spec.inputs if i.name in used], tally)
        n = len(chunk)
        sample = take(chunk, [i.name for i in spec.inputs], start)
        return PassResult(self._accumulate(nodes, inputs, n), n, tally, sample, start + n)


class BaselinePass:
    """The training statistics (:mod:`featurekit.baseline`) over every chunk; outputs on every
    ``stride``-th row by global row position."""

    def __init__(self, ref: SpecRef, state: Mapping[str, dict], stride: int, reader: InputReader) -> None:
        self.ref = ref
        self.state = dict(state)
        self.stride = stride
        self.reader = reader

    def empty(self) -> dict[str, Any]:
        acc = baseline_create(self.ref.spec(), self.state)
        acc["stride"] = self.stride
        return acc

    def accumulate(self, chunk: pd.DataFrame) -> dict[str, Any]:
        """The pass over data that is this one chunk."""
        return self.accumulate_at(chunk, 0)

    def accumulate_at(self, chunk: pd.DataFrame, start: int) -> dict[str, Any]:
        spec = self.ref.spec()
        inputs = self.reader.read(spec, chunk, [i.name for i in spec.inputs])
        return baseline_accumulate(spec, self.state, chunk, offset=start, stride=self.stride, inputs=inputs)

    def merge(self, parts: Sequence[dict[str, Any]]) -> dict[str, Any]:
        return baseline_merge(parts)


def graph_roots(spec: Spec) -> list[Node]:
    graph = spec.graph
    return [graph.features[o] for o in graph.outputs]


def _analyzer(node: CallNode) -> Any:
    analyzer = registry.get(node.op).analyzer
    assert analyzer is not None, f"op {node.op!r} has no analyzer"  # callers pass stateful nodes only
    return analyzer(Params(dict(node.params)), node.args[0].dtype).build()


def analyzers_for(nodes: list[CallNode]) -> dict[str, Any]:
    """The first-pass analyzer of each node, by node key."""
    return {n.key: _analyzer(n) for n in nodes}


def count_passes(spec: Spec) -> int:
    """Passes over the data a fit of ``spec`` makes (per depth, its analyzers' most passes)."""
    return sum(max(a.passes for a in analyzers_for(nodes).values()) for nodes in fit_levels(graph_roots(spec)))


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
    frame: FrameType | None = sys._getframe(0)
    level = 1
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
    assert isinstance(node, CallNode)  # fitted state belongs to op nodes
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
            _warn(
                FitWarning(
                    f"fit: input {name!r}: {total:,} of {rows:,} training value(s) ({total / rows:.1%}) broke the "
                    f"contract and were replaced as declared ({detail})\n  Fix: check the column (a unit, type or "
                    "schema change?) or the contract; fit(..., max_violation_rate=...) sets this threshold"
                )
            )
