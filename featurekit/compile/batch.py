"""The batch lowering: evaluate a feature graph over whole columns.

Inputs are read once into :class:`Column` form (numpy values + null mask; text as pyarrow),
with the input contract applied vectorized (object columns go through the same scalar
coercer the row path uses). Nodes are then evaluated in dependency order, each op's batch
implementation seeing whole columns, and outputs are assembled with dtypes fixed by the
graph (not by the data), so every batch of one transform has the same schema:

| feature type | never null | may be null (null shown as)    |
|--------------|------------|--------------------------------|
| float        | float64    | float64 (NaN)                  |
| int          | int64      | Int64 (pd.NA)                  |
| bool         | bool       | boolean (pd.NA)                |
| str          | str        | str (NaN)                      |
| timestamp    | datetime64[us, UTC] | same (NaT)            |
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

import featurekit.ir.ops  # noqa: F401  (registers the built-in ops this module looks up)
from featurekit import registry
from featurekit._kernels import strings as ks
from featurekit.compile.contract import Coercer
from featurekit.errors import ContractError, FitError, did_you_mean
from featurekit.ir.nodes import CallNode, ConstNode, InputNode, Node, walk
from featurekit.registry import NullRule, Params
from featurekit.types import EXACT_FLOAT_INT, INT64_MAX, TIMESTAMP_MAX_US, TIMESTAMP_MIN_US, DType
from featurekit.values.column import Column, union_null

MAX_ROWS_IN_MESSAGE = 5


class Violations:
    """Collects contract violations per row instead of raising (used by the parity tester).

    A violating value is then treated as null so the rest of the batch still computes;
    ``rows`` says which rows the batch path would have refused, and ``errors`` why.
    """

    def __init__(self, n: int) -> None:
        self.rows = np.zeros(n, dtype=bool)
        self.errors: dict[int, ContractError] = {}

    def add(self, positions: np.ndarray, error: ContractError) -> None:
        self.rows[positions] = True
        for p in positions.tolist():
            self.errors.setdefault(p, error)


# ------------------------------------------------------------------------------ inputs


def missing_columns(df: pd.DataFrame, names: Iterable[str], where: str) -> list[tuple[str, str | None]]:
    """``(name, did-you-mean hint)`` of each of ``names`` that ``df`` lacks; refuses MultiIndex
    columns and duplicate columns first (either would make ``df[name]`` a frame)."""
    columns = df.columns
    if isinstance(columns, pd.MultiIndex):
        raise ContractError(
            f"{where}: the frame has MultiIndex columns ({columns.nlevels} levels, e.g. "
            f"{columns[0]!r:.80})\n  Fix: flatten them to the spec's input names, e.g. "
            "df.columns = ['_'.join(map(str, c)) for c in df.columns]",
            input=None,
            rule="flat column names",
        )
    if columns.has_duplicates:
        dups = sorted({str(c) for c in columns[columns.duplicated()]})
        raise ContractError(
            f"{where}: the frame has duplicate columns {dups}\n  Fix: drop or rename "
            "the duplicates before transforming",
            input=dups[0],
        )
    present = [str(c) for c in columns]

    def hint(name: str) -> str | None:
        same = [c for c in present if c.casefold() == name.casefold()]  # Credit_Score for credit_score
        return f"did you mean {same[0]!r}?" if same else did_you_mean(name, present)

    return [(name, hint(name)) for name in names if name not in columns]


def read_inputs(
    df: pd.DataFrame,
    coercers: Mapping[str, Coercer],
    names: Iterable[str],
    where: str = "transform",
    collect: Violations | None = None,
    tally: dict[str, dict[str, int]] | None = None,
) -> dict[str, Column]:
    """Read and validate the named input columns of ``df`` (never mutating it).

    Every named column must be present (a nullable input too: a missing column is a renamed
    or forgotten one, not a column of nulls). ``tally`` (input -> violation kind -> count)
    counts the violating values the declared policy replaced.
    """
    names = list(names)
    missing = missing_columns(df, names, where)
    if missing:
        name, hint = missing[0]
        what = (
            f"input column {name!r} is missing"
            if len(missing) == 1
            else f"input columns {[m for m, _ in missing]} are missing"
        )
        raise ContractError(
            f"{where}: {what}; the frame has {[str(c) for c in df.columns][:20]}\n  Fix: add the "
            "column(s), or rename them to the spec's input names (a missing column is refused "
            "even for a nullable input: it is not a column of nulls)" + (f"\n  Hint: {hint}" if hint else ""),
            input=name,
            rule="required column",
        )
    out = {}
    for name in names:
        out[name] = read_column(df[name], coercers[name], collect, tally)
    return out


def read_column(
    series: pd.Series,
    coercer: Coercer,
    collect: Violations | None = None,
    tally: dict[str, dict[str, int]] | None = None,
) -> Column:
    """One input column in :class:`Column` form, with the contract applied."""
    kind = coercer.kind
    dtype = series.dtype
    typed = _read_typed(series, kind, dtype, coercer.spec.timezone)
    if typed is not None and kind == "timestamp" and coercer.spec.tz != "any":
        if (series.dt.tz is not None) != (coercer.spec.tz == "aware"):
            typed = None  # the other shape than tz declares: the coercer refuses it value by value
    if typed is None:
        return _read_objects(series, coercer, collect, tally)
    values, null, bad = typed
    return _apply_contract(values, null, bad, coercer, series, collect, tally)


def _count(tally: dict[str, dict[str, int]] | None, name: str, kind: str, n: int) -> None:
    if tally is not None and n:
        counts = tally.setdefault(name, {})
        counts[kind] = counts.get(kind, 0) + n


def _read_typed(series: pd.Series, kind: str, dtype: Any, timezone: str):
    """Vectorized read for columns whose dtype already fits; None means 'use the object path'."""
    no_bad = None
    if kind == "float":
        if dtype.kind == "f" and not isinstance(dtype, pd.api.extensions.ExtensionDtype):
            v = series.to_numpy(dtype=np.float64)
            return v, np.isnan(v), no_bad
        if dtype.kind in "iu" and not isinstance(dtype, pd.api.extensions.ExtensionDtype):
            raw = series.to_numpy()
            bad = np.abs(raw.astype(np.float64)) > EXACT_FLOAT_INT
            return raw.astype(np.float64), None, bad
        if isinstance(dtype, (pd.Float64Dtype, pd.Float32Dtype)):
            null = series.isna().to_numpy()
            v = series.to_numpy(dtype=np.float64, na_value=np.nan)
            return v, null | np.isnan(v), no_bad
        return None
    if kind == "int":
        if dtype.kind in "iu" and not isinstance(dtype, pd.api.extensions.ExtensionDtype):
            raw = series.to_numpy()
            return raw.astype(np.int64), None, (raw > INT64_MAX if dtype.kind == "u" else None)
        if isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.kind in "iu":
            null = series.isna().to_numpy()
            if dtype.kind == "u":  # UInt64 above int64 would wrap silently in to_numpy(int64)
                raw = series.to_numpy(dtype=np.uint64, na_value=0)
                return raw.astype(np.int64), null, raw > INT64_MAX
            return series.to_numpy(dtype=np.int64, na_value=0), null, None
        if dtype.kind == "f" and not isinstance(dtype, pd.api.extensions.ExtensionDtype):
            v = series.to_numpy(dtype=np.float64)
            null = np.isnan(v)
            with np.errstate(invalid="ignore"):
                ok = null | (np.isfinite(v) & (np.trunc(v) == v) & (np.abs(v) <= EXACT_FLOAT_INT))
            return np.where(ok & ~null, v, 0).astype(np.int64), null, ~ok
        return None
    if kind == "bool":
        if dtype.kind == "b" and not isinstance(dtype, pd.api.extensions.ExtensionDtype):
            return series.to_numpy(dtype=bool), None, None
        if isinstance(dtype, pd.BooleanDtype):
            return series.to_numpy(dtype=bool, na_value=False), series.isna().to_numpy(), None
        return None
    if kind in ("str", "category"):
        if (
            pd.api.types.is_object_dtype(dtype)
            or isinstance(dtype, pd.StringDtype)
            or isinstance(dtype, pd.CategoricalDtype)
        ):
            try:
                arr = ks.to_string_array(
                    series if not isinstance(dtype, pd.CategoricalDtype) else series.astype(object)
                )
            except (TypeError, ValueError, pa.ArrowException):
                return None
            null = arr.is_null().to_numpy(zero_copy_only=False)
            return arr, null, None
        return None
    if kind == "timestamp":
        if dtype.kind == "M":
            tz = series.dt.tz  # also for Arrow-backed columns (ArrowDtype has no .tz)
            s = series
            if tz is None:
                # naive values in another zone: the object path applies zoneinfo exactly as rows do
                return None if timezone != "UTC" else _datetimes(s.dt.tz_localize("UTC"))
            return _datetimes(s.dt.tz_convert("UTC"))
        return None
    return None


def _datetimes(series: pd.Series):
    if series.dt.unit == "ns" and (series.dt.nanosecond.fillna(0) != 0).any():
        return None  # sub-microsecond values: the object path reports them as type violations
    values = series.astype("datetime64[us, UTC]")
    null = values.isna().to_numpy()
    us = values.to_numpy(dtype="datetime64[us]").view(np.int64)
    return np.where(null, 0, us), null, None


def _read_objects(
    series: pd.Series,
    coercer: Coercer,
    collect: Violations | None = None,
    tally: dict[str, dict[str, int]] | None = None,
) -> Column:
    """The exact path for mixed Python values: the row path's coercer, value by value."""
    kind = coercer.kind
    raw = series.to_numpy(dtype=object)
    n = len(raw)
    typed: list[Any] = [None] * n
    violations: list[tuple[int, Any, str, str | None]] = []
    classify = coercer.classify
    for i, value in enumerate(raw):
        t, vkind, rule = classify(value)
        typed[i] = t
        if vkind is not None:
            violations.append((i, value, vkind, rule))
    for kind_ in sorted({v[2] for v in violations}):
        if coercer.raises_on(kind_):
            same = [v for v in violations if v[2] == kind_]
            error = coercer.error(
                same[0][1], kind_, same[0][3], rows=[v[0] for v in same[:MAX_ROWS_IN_MESSAGE]], count=len(same)
            )
            if collect is None:
                raise error
            collect.add(np.array([v[0] for v in same], dtype=np.int64), error)
    for i, _value, vkind, _rule in violations:
        typed[i] = None if coercer.raises_on(vkind) else coercer.replacement(typed[i], vkind)
        _count(tally, coercer.name, vkind, 0 if coercer.raises_on(vkind) else 1)
    null = np.fromiter((t is None for t in typed), dtype=bool, count=n)
    if kind in ("str", "category"):
        return Column(pa.array(typed, type=pa.large_string()), null)
    np_type = {"float": np.float64, "bool": bool}.get(kind, np.int64)
    filled = np.fromiter((0 if t is None else t for t in typed), dtype=np_type, count=n)
    return Column(filled, null if null.any() else None)


def _apply_contract(
    values: Any,
    null: np.ndarray | None,
    bad: np.ndarray | None,
    coercer: Coercer,
    series: pd.Series,
    collect: Violations | None = None,
    tally: dict[str, dict[str, int]] | None = None,
) -> Column:
    """Vectorized twin of ``Coercer.classify`` + policy for a typed column."""
    spec = coercer.spec
    n = len(series)
    null = null if null is not None and null.any() else None
    checks: list[tuple[str, np.ndarray, str]] = []
    if bad is not None and bad.any():
        checks.append(("type", bad, coercer.type_rule()))
        null = union_null(null, bad)
    if (spec.min is not None or spec.max is not None) and coercer.kind in ("int", "float"):
        with np.errstate(invalid="ignore"):
            out = np.zeros(n, dtype=bool)
            if spec.min is not None:
                out |= values < spec.min
            if spec.max is not None:
                out |= values > spec.max
        if null is not None:
            out &= ~null
        if out.any():
            checks.append(("range", out, coercer.range_rule()))
    if coercer.values is not None:
        inside = ks.is_in(values, sorted(coercer.values))
        out = ~inside if null is None else ~inside & ~null
        if out.any():
            checks.append(("domain", out, f"values {sorted(coercer.values)!r}"))
    if not spec.nullable and null is not None:
        missing = null if bad is None else null & ~bad
        if missing.any():
            checks.append(("null", missing, "nullable: false (a value is required)"))
    for kind, mask, rule in checks:
        positions = np.flatnonzero(mask)
        first = positions[0]
        sample = series.iloc[first]
        if coercer.raises_on(kind):
            error = coercer.error(
                sample, kind, rule, rows=[int(p) for p in positions[:MAX_ROWS_IN_MESSAGE]], count=len(positions)
            )
            if collect is None:
                raise error
            collect.add(positions, error)
            null = union_null(null, mask)
            continue
        _count(tally, coercer.name, kind, len(positions))
        values, null = _replace(values, null, mask, kind, coercer)
    return Column(values, null)


def _replace(values: Any, null: np.ndarray | None, mask: np.ndarray, kind: str, coercer: Coercer):
    spec = coercer.spec
    policy = spec.on_violation
    base_null = null if null is not None else np.zeros(len(mask), dtype=bool)
    if policy == "null":
        return values, base_null | mask
    if policy == "clip" and kind == "range":
        return np.clip(values, spec.min, spec.max).astype(values.dtype), null
    fill = coercer.default
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        import pyarrow.compute as pc

        values = pc.if_else(pa.array(mask), pa.scalar(fill, pa.large_string()), values)
    else:
        values = np.where(mask, np.asarray(fill, dtype=values.dtype), values)
    return values, base_null & ~mask


# ------------------------------------------------------------------------------ evaluation


def const_column(node: ConstNode, n: int) -> Column:
    if node.dtype is DType.STR:
        return Column(pa.repeat(pa.scalar(node.value, pa.large_string()), n), None)
    np_type = {DType.FLOAT: np.float64, DType.BOOL: bool}.get(node.dtype, np.int64)
    return Column(np.full(n, node.value, dtype=np_type), None)


def eval_call(node: CallNode, args: list[Column], state: dict | None) -> Any:
    """Run one op's batch implementation, merging nulls per its null rule."""
    op = registry.get(node.op)
    params = Params(dict(node.params))
    result = op.batch(args, params, state)
    if op.outputs is not None:
        return result
    col = result if isinstance(result, Column) else Column(result, None)
    values = col.values
    if isinstance(values, np.ndarray):
        values = _as_dtype(values, node.dtype)
    elif isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if op.null_rule is NullRule.PROPAGATE:
        null = union_null(*(a.null for a in args), col.null)
    else:
        null = col.null
    if null is not None and not null.any():
        null = None
    return Column(values, null)


def _as_dtype(values: np.ndarray, dtype: DType) -> np.ndarray:
    want = {DType.FLOAT: np.float64, DType.INT: np.int64, DType.TIMESTAMP: np.int64, DType.BOOL: np.bool_}.get(dtype)
    if want is not None and values.dtype != want:
        return values.astype(want)
    return values


def evaluate(
    targets: list[Node],
    inputs: Mapping[str, Column],
    n: int,
    state: Mapping[str, dict],
    cache: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Evaluate ``targets`` (and what they need); returns node key -> Column (or columns).

    Intermediate columns are released as soon as their last consumer has run, so peak memory
    is the live columns, not every node of the graph; the result holds the targets.
    """
    cols: dict[str, Any] = {} if cache is None else cache
    order = walk(targets)
    keep = {t.key for t in targets}
    pending: dict[str, int] = {}
    for node in order:
        if isinstance(node, CallNode) and node.key not in cols:
            for a in {a.key for a in node.args}:
                pending[a] = pending.get(a, 0) + 1
    for node in order:
        if node.key in cols:
            continue
        if isinstance(node, InputNode):
            cols[node.key] = inputs[node.name]
        elif isinstance(node, ConstNode):
            cols[node.key] = const_column(node, n)
        else:
            assert isinstance(node, CallNode)
            op = registry.get(node.op)
            st = state.get(node.key)
            if op.analyzer is not None and st is None and op.analyzer(Params(dict(node.params)), node.args[0].dtype):
                raise FitError(f"op {node.op!r} needs fitted state that is missing (node {node.key[:12]})")
            cols[node.key] = eval_call(node, [cols[a.key] for a in node.args], st)
            for a in {a.key for a in node.args}:
                pending[a] -= 1
                if pending[a] == 0 and a not in keep:
                    del cols[a]
    return cols


#: Rows per block of :func:`evaluate_blocks`: small enough that a block's intermediate columns
#: stay in the CPU caches and recycle the same allocations, large enough that the per-op
#: Python overhead (~60 ops x a few microseconds per block) is negligible.
BLOCK_ROWS = 1 << 16


def slice_column(col: Column, start: int, stop: int) -> Column:
    """Rows ``start:stop`` of a column, without copying (numpy views, Arrow slices)."""
    values = col.values[start:stop] if isinstance(col.values, np.ndarray) else col.values.slice(start, stop - start)
    return Column(values, None if col.null is None else col.null[start:stop])


class _Gather:
    """Assembles one output column from the blocks' results, into one preallocated array."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.values: Any = None
        self.null: np.ndarray | None = None
        self.parts: list[Any] = []

    def write(self, start: int, col: Column) -> None:
        stop = start + len(col)
        if isinstance(col.values, np.ndarray):
            if self.values is None:
                self.values = np.empty(self.n, dtype=col.values.dtype)
            self.values[start:stop] = col.values
        else:
            self.parts.append(col.values)
        if col.null is not None:
            if self.null is None:
                self.null = np.zeros(self.n, dtype=bool)
            self.null[start:stop] = col.null

    def column(self) -> Column:
        values = self.values if self.values is not None else pa.concat_arrays(self.parts)
        return Column(values, self.null if self.null is not None and self.null.any() else None)


def evaluate_blocks(
    targets: list[Node], inputs: Mapping[str, Column], n: int, state: Mapping[str, dict], block_rows: int = BLOCK_ROWS
) -> dict[str, Any]:
    """:func:`evaluate` block by block of ``block_rows`` rows; returns the targets' full columns.

    Every batch op is row-wise once fitted state is frozen, so evaluating row blocks and
    concatenating gives exactly the whole-frame result. Intermediate columns then never exceed
    one block (peak memory is the inputs, the outputs and one block's working set), and the
    kernels work on cache-resident data.

    >>> import numpy as np
    >>> from featurekit.spec.load_yaml import spec_from_dict
    >>> spec = spec_from_dict({"featurekit": 1, "name": "d", "version": "1.0.0",
    ...                        "inputs": {"x": {"type": "float"}}, "features": {"y": "x * 2.0"}})
    >>> root = spec.graph.features["y"]
    >>> x = Column(np.arange(5.0), None)
    >>> evaluate_blocks([root], {"x": x}, 5, {}, block_rows=2)[root.key].values.tolist()
    [0.0, 2.0, 4.0, 6.0, 8.0]
    """
    if n <= block_rows:
        cols = evaluate(targets, inputs, n, state)
        return {t.key: cols[t.key] for t in targets}
    gathers: dict[str, Any] = {}
    for start in range(0, n, block_rows):
        stop = min(n, start + block_rows)
        part = {name: slice_column(col, start, stop) for name, col in inputs.items()}
        cols = evaluate(targets, part, stop - start, state)
        for t in targets:
            result = cols[t.key]
            if isinstance(result, list):
                sinks = gathers.setdefault(t.key, [_Gather(n) for _ in result])
                for sink, col in zip(sinks, result):
                    sink.write(start, col)
            else:
                gathers.setdefault(t.key, _Gather(n)).write(start, result)
    return {
        key: [g.column() for g in sink] if isinstance(sink, list) else sink.column() for key, sink in gathers.items()
    }


# ------------------------------------------------------------------------------ outputs


def check_timestamp_output(
    col: Column, feature: str, where: str = "transform", collect: Violations | None = None
) -> Column:
    """A timestamp output column, refusing instants outside years 1-9999 UTC as the row path
    does (pandas could hold year 10000; a ``datetime`` cannot). With ``collect`` the rows are
    recorded as refused and set to null instead of raising."""
    values = col.values
    out = (values < TIMESTAMP_MIN_US) | (values > TIMESTAMP_MAX_US)
    if col.null is not None:
        out &= ~col.null
    if not out.any():
        return col
    from featurekit.values.rowlib import format_us

    positions = np.flatnonzero(out)
    error = ContractError.timestamp_output(
        feature=feature,
        value=format_us(int(values[positions[0]])),
        where=where,
        rows=[int(p) for p in positions[:MAX_ROWS_IN_MESSAGE]],
        count=len(positions),
    )
    if collect is None:
        raise error
    collect.add(positions, error)
    return Column(np.where(out, 0, values), union_null(col.null, out))


def output_series(
    col: Column, dtype: DType, nullable: bool, index: pd.Index, taken: list[np.ndarray] | None = None
) -> pd.Series:
    """A result column as a pandas Series with the graph's declared dtype (module table).

    The Series wraps the computed arrays without copying them, except where they may share
    memory with an array in ``taken`` (the caller's input arrays and the outputs made so far):
    an output must never be a window onto its input data or onto another output column. The
    values array used is appended to ``taken``.
    """
    values, null = col.values, col.null
    if isinstance(values, np.ndarray) and taken is not None:
        if any(np.may_share_memory(values, a) for a in taken):
            values = values.copy()
        taken.append(values)
    if dtype is DType.STR:
        ser = pd.Series(values.to_numpy(zero_copy_only=False), index=index, dtype="str")
        if null is not None:
            ser = ser.mask(pd.Series(null, index=index, copy=False))
        return ser
    if dtype is DType.FLOAT:
        out = values if null is None else np.where(null, np.nan, values)
        return pd.Series(out, index=index, dtype=np.float64, copy=False)
    if dtype is DType.TIMESTAMP:
        ser = pd.Series(values.astype("datetime64[us]"), index=index, copy=False).dt.tz_localize("UTC")
        if null is not None:
            ser = ser.mask(pd.Series(null, index=index, copy=False))
        return ser
    if not nullable:
        return pd.Series(values, index=index, dtype=np.int64 if dtype is DType.INT else bool, copy=False)
    # masked arrays over the computed values and mask, without copying either
    mask = null if null is not None else np.zeros(len(values), bool)
    if dtype is DType.INT:
        return pd.Series(pd.arrays.IntegerArray(values.astype(np.int64, copy=False), mask), index=index, copy=False)
    return pd.Series(pd.arrays.BooleanArray(values.astype(bool, copy=False), mask), index=index, copy=False)
