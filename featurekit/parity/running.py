"""Run each side of a parity comparison on the same rows, and find the cells that differ.

A side's result for a row is its output dict or, if it raised for that row, a
:class:`~featurekit.values.equality.Raised`. The batch side gets the rows as one frame
(:func:`featurekit.values.frames.typed_frame`); rows whose inputs break the contract run one
at a time (a batch raises for all its rows at once), and a frame that raises anyway is
bisected down to the rows that raise. featurekit's own batch path collects contract
violations per row instead (:func:`run_fitted_batch`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from featurekit.compile.batch import Violations
from featurekit.compile.contract import Coercer
from featurekit.engines.pandas import transform_frame
from featurekit.errors import ContractError
from featurekit.values.equality import MISSING, Equality, Raised
from featurekit.values.frames import frame_rows, typed_frame

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
        return run_batch(fitted.transform, rows, fitted.spec)
    return [Raised(collect.errors[i]) if collect.rows[i] else r for i, r in enumerate(records)]


def run_batch(batch_fn: BatchFn, rows: Sequence[Mapping[str, Any]], spec: Any) -> list[Any]:
    """Per row: the batch side's output dict, or :class:`Raised` (see the module docstring)."""
    suspect = _contract_violations(rows, spec)
    if not suspect:
        return _run_batch_bisect(batch_fn, rows, spec)
    clean_idx = [i for i in range(len(rows)) if i not in suspect]
    out: list[Any] = [None] * len(rows)
    for i, result in zip(clean_idx, _run_batch_bisect(batch_fn, [rows[i] for i in clean_idx], spec)):
        out[i] = result
    for i in sorted(suspect):
        out[i] = _run_batch_bisect(batch_fn, [rows[i]], spec)[0]
    return out


def _contract_violations(rows: Sequence[Mapping[str, Any]], spec: Any) -> set[int]:
    coercers = [(i.name, Coercer(i)) for i in spec.inputs]
    bad = set()
    for n, row in enumerate(rows):
        for name, coercer in coercers:
            try:
                coercer.coerce(row.get(name))
            except ContractError:
                bad.add(n)
                break
    return bad


def _run_batch_bisect(batch_fn: BatchFn, rows: Sequence[Mapping[str, Any]], spec: Any) -> list[Any]:
    if not rows:
        return []
    try:
        records = frame_rows(batch_fn(input_frame(rows, spec)))
        if len(records) != len(rows):
            raise ValueError(f"the batch side returned {len(records)} rows for {len(rows)} inputs")
        return records
    except Exception as exc:  # noqa: BLE001 - a side's own failure is a result, not a crash
        if len(rows) == 1:
            return [Raised(exc)]
        mid = len(rows) // 2
        return _run_batch_bisect(batch_fn, rows[:mid], spec) + _run_batch_bisect(batch_fn, rows[mid:], spec)


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
