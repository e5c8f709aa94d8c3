"""Run each side of a parity comparison on the same rows, and find the cells that differ.

A side's result for a row is its output dict or, if it raised for that row, a
:class:`~featurekit.values.equality.Raised`. A foreign batch side (:func:`run_batch`) gets
frames shaped like training data: every value the input contract accepts, coerced as the
contract coerces it, in the input's canonical dtype; rows with values the contract refuses run
in small frames of their own shape, so one odd value never changes the dtype other rows see.
A frame that raises is bisected down to the rows that raise. featurekit's own batch path gets
the raw rows in one frame (:func:`featurekit.values.frames.typed_frame`) and collects
contract violations per row (:func:`run_fitted_batch`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from featurekit.compile.batch import Violations
from featurekit.compile.contract import Coercer
from featurekit.engines.pandas import transform_frame
from featurekit.errors import ContractError
from featurekit.values.equality import MISSING, Equality, Raised
from featurekit.values.frames import canonical_column, frame_rows, typed_frame

if TYPE_CHECKING:
    import pandas as pd

    from featurekit.transform import FittedTransform

BatchFn = Callable[["pd.DataFrame"], "pd.DataFrame"]
RowFn = Callable[[Mapping[str, Any]], Mapping[str, Any]]
Found = dict[str, list[tuple[int, str, Any, Any]]]
"""Column -> ``(row index, mismatch kind, batch value, served value)`` per mismatching cell."""


def input_frame(rows: Sequence[Mapping[str, Any]], spec: Any) -> pd.DataFrame:
    """``rows`` as the batch side's frame: the spec's inputs, typed where the values allow."""
    return typed_frame(rows, {i.name: i.type for i in spec.inputs})


def run_fitted_batch(fitted: FittedTransform, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
    """Per row: featurekit's batch output, or the input error it reports for that row.

    One call: contract violations are collected per row (:class:`Violations`) rather than
    raised for the whole frame.
    """
    if not rows:
        return []
    collect = Violations(len(rows))
    try:
        records = frame_rows(transform_frame(fitted, input_frame(rows, fitted.spec), collect=collect))
    except Exception:  # noqa: BLE001 - not a contract violation: isolate the rows that raise
        frame_of = lambda idx: input_frame([rows[n] for n in idx], fitted.spec)  # noqa: E731
        return _run_batch_bisect(fitted.transform, range(len(rows)), frame_of)
    return [Raised(collect.errors[i]) if collect.rows[i] else r for i, r in enumerate(records)]


def run_batch(batch_fn: BatchFn, rows: Sequence[Mapping[str, Any]], spec: Any) -> list[Any]:
    """Per row: the batch side's output dict, or :class:`Raised` (see the module docstring).

    Frames are shaped like training data: a value the input contract accepts is passed as the
    contract coerces it, in the input's canonical dtype (:func:`canonical_column`); a value it
    refuses is passed raw. Rows run in one frame per shape (which inputs were refused, and the
    raw types of those), so an odd value never changes the dtype the other rows see.
    """
    coercers = [(i.name, i.type, i.nullable, Coercer(i)) for i in spec.inputs]
    shapes: dict[tuple[str, ...], list[int]] = {}
    cells: list[list[tuple[bool, Any]]] = []
    for n, row in enumerate(rows):
        row_cells = []
        for name, _, _, coercer in coercers:
            raw = row.get(name)
            try:
                row_cells.append((True, coercer.coerce(raw)))
            except ContractError:
                row_cells.append((False, raw))
        cells.append(row_cells)
        shape = tuple("" if ok else type(raw).__name__ for ok, raw in row_cells)
        shapes.setdefault(shape, []).append(n)

    def frame_of(idx: Sequence[int]) -> pd.DataFrame:
        import pandas as pd

        index = pd.RangeIndex(len(idx))
        columns: dict[str, Any] = {}
        for c, (name, kind, nullable, _) in enumerate(coercers):
            values = [cells[n][c][1] for n in idx]
            if idx and cells[idx[0]][c][0]:  # accepted in this shape: the canonical column
                columns[name] = canonical_column(values, kind, nullable)
            else:
                columns[name] = typed_frame([{name: v} for v in values], {name: kind})[name]
        return pd.DataFrame(columns, index=index)

    out: list[Any] = [None] * len(rows)
    for shape, idx in shapes.items():
        # a frame with a refused value usually raises for all its rows: then run them one by one
        run = _run_batch_bisect if all(ok == "" for ok in shape) else _run_batch_alone
        for n, result in zip(idx, run(batch_fn, idx, frame_of)):
            out[n] = result
    return out


def _run_batch_alone(batch_fn: BatchFn, idx: Sequence[int], frame_of: Callable[[Sequence[int]], Any]) -> list[Any]:
    """The rows of ``idx`` in one frame; if that raises, each row in a frame of its own."""
    try:
        return _run_batch_frame(batch_fn, idx, frame_of)
    except Exception:  # noqa: BLE001 - a side's own failure is a result, not a crash
        return [_run_batch_bisect(batch_fn, [n], frame_of)[0] for n in idx]


def _run_batch_frame(batch_fn: BatchFn, idx: Sequence[int], frame_of: Callable[[Sequence[int]], Any]) -> list[Any]:
    records = frame_rows(batch_fn(frame_of(idx)))
    if len(records) != len(idx):
        raise ValueError(f"the batch side returned {len(records)} rows for {len(idx)} inputs")
    return records


def _run_batch_bisect(batch_fn: BatchFn, idx: Sequence[int], frame_of: Callable[[Sequence[int]], Any]) -> list[Any]:
    if not idx:
        return []
    try:
        return _run_batch_frame(batch_fn, idx, frame_of)
    except Exception as exc:  # noqa: BLE001 - a side's own failure is a result, not a crash
        if len(idx) == 1:
            return [Raised(exc)]
        mid = len(idx) // 2
        return _run_batch_bisect(batch_fn, idx[:mid], frame_of) + _run_batch_bisect(batch_fn, idx[mid:], frame_of)


def run_rows(row_fn: RowFn, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
    """Per row: the row side's output dict, or :class:`Raised`.

    A row side with a ``map(rows)`` method (:class:`featurekit.parity.http.HttpServing`) gets all
    rows at once and returns each row's outputs or exception; an error of the tool itself (an
    unreachable endpoint) propagates from ``map`` instead of becoming a finding per row.
    """
    many = getattr(row_fn, "map", None)
    if callable(many):
        return [Raised(r) if isinstance(r, BaseException) else dict(r) for r in many([dict(r) for r in rows])]
    out: list[Any] = []
    for row in rows:
        try:
            out.append(dict(row_fn(dict(row))))
        except Exception as exc:  # noqa: BLE001
            out.append(Raised(exc))
    return out


def cell(result: Any, column: str) -> Any:
    """One side's value for ``column``: the :class:`Raised` itself, the value, or ``MISSING``."""
    return result if isinstance(result, Raised) else result.get(column, MISSING)


def compare_rows(
    batch: Sequence[Any], served: Sequence[Any], columns: Sequence[str], policies: Mapping[str, Equality]
) -> Found:
    """Every cell where the two sides' results disagree under the column's policy."""
    found: Found = {}
    for i, (b, s) in enumerate(zip(batch, served)):
        for col in columns:
            bv, sv = cell(b, col), cell(s, col)
            if type(bv) is type(sv) and bv == sv and (type(bv) is not float or bv != 0.0):
                continue  # identical (zeros go the long way: -0.0 == 0.0)
            kind = policies[col].mismatch(bv, sv)
            if kind is not None:
                found.setdefault(col, []).append((i, kind, bv, sv))
    return found
