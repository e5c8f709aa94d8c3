"""The parity entry points; each returns a :class:`~featurekit.parity.report.ParityReport`.

* :func:`check` — the two compiled paths of a fitted spec;
* :func:`compare` — any batch callable (DataFrame -> DataFrame) against any row callable
  (dict -> dict), e.g. featurekit's batch path against a team's hand-written serving code;
* :func:`replay` — logged serving records (JSONL of ``{"input": {...}, "output": {...}}``)
  against the batch path;
* :func:`assert_parity` — :func:`check` for pytest.

Inputs are the given rows plus generated edge rows (:mod:`featurekit.parity.generation`) and,
for :func:`check` and :func:`compare`, rows at the boundaries where the batch side's outputs
change along a numeric or time input (:mod:`featurekit.parity.boundaries`, ``boundaries=``).
Cells are compared with an :class:`~featurekit.values.equality.Equality` per column
(:mod:`featurekit.parity.tolerance`): ``equality="strict"`` for featurekit's own two paths
(:func:`check`, :func:`replay`), ``equality="value"`` by default for foreign code
(:func:`compare`), whose types may differ harmlessly (``1`` vs ``1.0``, None vs NaN). A run
that would compare nothing -- no column, or one side raising on every row -- raises
:class:`~featurekit.errors.ParityError` instead of reporting a pass. A side that
raises where the other returns is a mismatch of kind ``raises`` (both raising featurekit
input errors for the same row is agreement). Failing rows are shrunk to a minimal reproducer
(:mod:`featurekit.parity.shrinking`); for spec-compiled paths the first op where the paths
diverge is named (:mod:`featurekit.parity.divergence`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from featurekit.errors import ParityError
from featurekit.parity.boundaries import BUDGET, search_boundaries, stated_numbers
from featurekit.parity.constants import with_constant_hints
from featurekit.parity.divergence import first_divergent_op
from featurekit.parity.generation import edge_rows, row_accepted
from featurekit.parity.report import ParityReport, column_report
from featurekit.parity.running import (
    BatchFn,
    RowFn,
    cell,
    compare_rows,
    run_batch,
    run_fitted_batch,
    run_rows,
)
from featurekit.parity.shrinking import signature
from featurekit.parity.tolerance import column_policies, column_tolerances
from featurekit.serving_log import LogStats, iter_records, no_records
from featurekit.values.codec import decode_row
from featurekit.values.equality import Equality, Mode, Raised
from featurekit.values.frames import input_rows

if TYPE_CHECKING:
    from featurekit.spec.model import Spec
    from featurekit.transform import FittedTransform


def _given_rows(data: Any, limit: int | None) -> list[dict[str, Any]]:
    if data is None:
        return []
    rows = [dict(r) for r in data] if isinstance(data, list) else input_rows(data, keep_nan=True)
    return rows[:limit] if limit else rows


def _at_column(
    divergence: Callable[[Mapping[str, Any], str], str | None] | None, col: str
) -> Callable[[Mapping[str, Any]], str | None] | None:
    """``divergence`` with its column bound (None stays None)."""
    if divergence is None:
        return None
    return lambda row: divergence(row, col)


def _boundary_rows(
    batch_runner: Callable[[Sequence[Mapping[str, Any]]], list[Any]],
    stated: Any,
    given: list[dict[str, Any]],
    budget: int,
    seed: int,
    equality: Mode,
    columns: Sequence[str] | None,
) -> list[dict[str, Any]]:
    """Rows at the batch side's boundaries along each numeric or time input."""
    found = search_boundaries(
        batch_runner,
        stated.spec.inputs,
        given,
        numbers=stated_numbers(stated),
        budget=budget,
        seed=seed,
        equality=equality,
        columns=columns,
    )
    return found.rows


def _run(
    batch_runner: Callable[[Sequence[Mapping[str, Any]]], list[Any]],
    row_fn: RowFn,
    rows: list[dict[str, Any]],
    columns: Sequence[str] | None,
    policies: Callable[[Sequence[str]], Mapping[str, Equality]],
    *,
    n_given: int,
    max_examples: int,
    shrink_examples: bool,
    divergence: Callable[[Mapping[str, Any], str], str | None] | None,
    label: str,
    equality: Mode,
    accepted: Callable[[Mapping[str, Any]], bool] | None = None,
    n_boundary: int = 0,
) -> ParityReport:
    started = time.perf_counter()
    batch, served = batch_runner(rows), run_rows(row_fn, rows)
    if columns is None:  # what the batch side returns, from the first row it does not raise on
        columns = next((list(b) for b in batch if not isinstance(b, Raised)), [])
    _refuse_vacuous(rows, batch, served, columns)
    checks = policies(columns)
    found = compare_rows(batch, served, columns, checks)
    reports = []
    for col in columns:
        still = None
        if shrink_examples:

            def still(trials: list[dict[str, Any]], kind: str, sig: tuple, col: str = col) -> list[bool]:
                # valid-only runs shrink to rows the contract accepts: a reproducer the server never gets is no help
                allowed = [accepted is None or accepted(t) for t in trials]
                runnable = [t for t, ok in zip(trials, allowed, strict=True) if ok]
                pairs = zip(batch_runner(runnable), run_rows(row_fn, runnable), strict=True)
                judged = iter(
                    checks[col].mismatch(bv, sv) == kind and signature(bv, sv) == sig
                    for bv, sv in ((cell(b, col), cell(r, col)) for b, r in pairs)
                )
                return [ok and next(judged) for ok in allowed]

        reports.append(
            column_report(
                col,
                found.get(col, []),
                rows,
                checks[col],
                max_examples,
                n_given=n_given,
                still_fail=still,
                divergence=_at_column(divergence, col),
            )
        )
    return ParityReport(
        label=label,
        rows=len(rows),
        given_rows=n_given,
        generated_rows=len(rows) - n_given,
        boundary_rows=n_boundary,
        columns=reports,
        seconds=time.perf_counter() - started,
        equality=equality,
        batch_raised=sum(isinstance(b, Raised) for b in batch),
        row_raised=sum(isinstance(r, Raised) for r in served),
    )


def _refuse_vacuous(rows: Sequence[Any], batch: Sequence[Any], served: Sequence[Any], columns: Sequence[str]) -> None:
    """A run that compares nothing is an error, never a pass (docs/parity.md)."""
    if not rows:
        raise ParityError("parity: no rows to compare\n  Fix: pass data, or leave edge rows on (edges=True)")
    for side, results in (("batch", batch), ("row", served)):
        raised = [r for r in results if isinstance(r, Raised)]
        if len(raised) == len(results):
            raise ParityError(
                f"parity: the {side} side raised on every one of the {len(results):,} rows, so nothing was "
                f"compared; first: {raised[0].summary()}\n  Fix: run the {side} side on one of these rows "
                "by hand (a frame of the wrong dtypes, a missing import or column)"
            )
    if not columns:
        raise ParityError(
            "parity: no output column to compare (the batch side returned no columns)\n"
            "  Fix: pass columns=[...] or make the batch function return the feature columns"
        )


def check(
    fitted: FittedTransform,
    data: Any = None,
    *,
    fuzz: int = 2000,
    seed: int = 0,
    edges: bool = True,
    invalid: bool = True,
    rtol: float = 0.0,
    atol: float = 0.0,
    ulps: int | None = None,
    equality: Mode = "strict",
    max_examples: int = 20,
    shrink: bool = True,
    limit: int | None = None,
    boundaries: int = BUDGET,
) -> ParityReport:
    """Both compiled paths of ``fitted`` on ``data`` (DataFrame or row dicts) plus generated rows.

    ``edges=False, shrink=False`` compares exactly the given rows, cell by cell.
    ``boundaries``: at most this many boundaries of the batch path per numeric or time input
    are searched for and compared on (with ``edges``; 0 turns the search off).
    """
    given = _given_rows(data, limit)
    batch_runner = lambda rs: run_fitted_batch(fitted, rs)  # noqa: E731
    generated = edge_rows(fitted, given, fuzz=fuzz, seed=seed, invalid=invalid) if edges else []
    at_boundaries = []
    if edges and boundaries > 0:
        at_boundaries = _boundary_rows(batch_runner, fitted, given, boundaries, seed, equality, fitted.output_columns)
    return _run(
        batch_runner,
        fitted.transform_row,
        given + generated + at_boundaries,
        fitted.output_columns,
        lambda cols: column_policies(cols, column_tolerances(fitted), rtol=rtol, atol=atol, ulps=ulps, mode=equality),
        n_given=len(given),
        max_examples=max_examples,
        shrink_examples=shrink,
        divergence=lambda row, col: first_divergent_op(fitted, row, col),
        label=f"{fitted.spec.name}@{fitted.spec.version}: batch path vs row path",
        equality=equality,
        accepted=None if invalid else row_accepted(fitted.spec),
        n_boundary=len(at_boundaries),
    )


class _StatelessView:
    """What :func:`edge_rows` needs from a spec that has no fitted state."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.state_: dict[str, Any] = {}


def compare(
    batch_fn: BatchFn,
    row_fn: RowFn,
    data: Any = None,
    *,
    contract: Any,
    fitted: FittedTransform | None = None,
    columns: Sequence[str] | None = None,
    fuzz: int = 2000,
    seed: int = 0,
    edges: bool = True,
    invalid: bool = True,
    rtol: float = 0.0,
    atol: float = 0.0,
    ulps: int | None = None,
    equality: Mode = "value",
    max_examples: int = 20,
    shrink: bool = True,
    limit: int | None = None,
    label: str | None = None,
    boundaries: int = BUDGET,
) -> ParityReport:
    """Any batch callable against any row callable, on ``data`` plus edge rows from ``contract``.

    ``invalid=False`` generates only rows the input contract accepts: use it when the serving
    side does not validate input (the default also reports such validation gaps, as kind
    ``raises``). ``contract`` is a :class:`~featurekit.spec.model.Spec` (or a fitted transform)
    whose inputs describe the rows; a fitted transform (``fitted=`` or as ``contract``) also
    contributes its fitted values (bucket edges, vocabularies) to the generated edge rows.
    ``equality="value"`` (the default here) compares by value, ``"strict"`` also compares types,
    None vs NaN and signed zeros (see :class:`~featurekit.values.equality.Equality`).
    ``columns``: the output columns to compare (default: those the batch side returns).
    ``boundaries``: at most this many boundaries of ``batch_fn`` per numeric or time input are
    searched for (:mod:`featurekit.parity.boundaries`) and both sides compared on them: a
    threshold that lives only in code (``x > 1000`` vs ``x >= 1000``). With ``edges`` only; 0
    turns the search off. A row side with an ``as_sent(row)`` method (an
    :class:`~featurekit.parity.http.HttpServing`) is a transport: both sides get every row as
    it delivers it (bytes as base64 text, datetimes as ISO text).
    """
    if hasattr(contract, "spec") and hasattr(contract, "state_"):  # a fitted transform
        fitted = fitted or contract
        spec = contract.spec
    else:
        spec = contract
    given = _given_rows(data, limit)
    source = fitted if fitted is not None else _StatelessView(spec)
    batch_runner = lambda rs: run_batch(batch_fn, rs, spec)  # noqa: E731
    generated = edge_rows(source, given, fuzz=fuzz, seed=seed, invalid=invalid) if edges else []
    at_boundaries = []
    if edges and boundaries > 0:
        at_boundaries = _boundary_rows(batch_runner, source, given, boundaries, seed, equality, columns)
    rows = given + generated + at_boundaries
    sent = getattr(row_fn, "as_sent", None)  # a transport (HttpServing): both sides get what it delivers
    if sent is not None:
        rows = [sent(row) for row in rows]
    declared = column_tolerances(fitted) if fitted is not None else {}
    report = _run(
        batch_runner,
        row_fn,
        rows,
        list(columns) if columns is not None else None,
        lambda cols: column_policies(cols, declared, rtol=rtol, atol=atol, ulps=ulps, mode=equality),
        n_given=len(given),
        max_examples=max_examples,
        shrink_examples=shrink,
        divergence=None,
        label=label or "batch callable vs row callable",
        equality=equality,
        accepted=None if invalid else row_accepted(spec),
        n_boundary=len(at_boundaries),
    )
    return with_constant_hints(report, fitted, rows)  # the fitted constants behind value mismatches


def replay(
    fitted: FittedTransform,
    log: Any,
    *,
    rtol: float = 0.0,
    atol: float = 0.0,
    ulps: int | None = None,
    equality: Mode = "strict",
    max_examples: int = 20,
    limit: int | None = None,
) -> ParityReport:
    """Logged serving records (``{"input": ..., "output": ...}``) against the batch path.

    ``log``: a JSONL file, a directory of them, a glob, a list of those, or an iterable of
    record dicts. Values are decoded with :func:`featurekit.values.codec.decode_row` (the
    logger's tags, and those of logs written before them). Lines that are not valid records are
    skipped, counted and named (file and line) in the report's ``notes``; a log without a
    single valid record raises :class:`~featurekit.serving_log.SkewInputError`. Columns with
    value mismatches list their fitted constants, as :func:`compare` with ``fitted=`` does.
    """
    read = LogStats()
    records: list[dict[str, Any]] = []
    for chunk in iter_records(log, read):
        records += chunk
        if limit and len(records) >= limit:
            break
    records = records[:limit] if limit else records
    if not records:
        raise no_records(read)
    inputs = [decode_row(r["input"]) for r in records]
    served = [decode_row(r.get("output") or {}) for r in records]
    columns = fitted.output_columns
    policies = column_policies(columns, column_tolerances(fitted), rtol=rtol, atol=atol, ulps=ulps, mode=equality)
    started = time.perf_counter()
    # no vacuity check on the batch side here: logged outputs were served, so a batch path that
    # refuses every logged input is a finding (kind ``raises``), not a harness failure
    batch = run_fitted_batch(fitted, inputs)
    found = compare_rows(batch, served, columns, policies)
    reports = [column_report(col, found.get(col, []), inputs, policies[col], max_examples) for col in columns]
    report = ParityReport(
        label=f"{fitted.spec.name}@{fitted.spec.version}: batch path vs logged serving outputs",
        rows=len(inputs),
        given_rows=len(inputs),
        generated_rows=0,
        columns=reports,
        seconds=time.perf_counter() - started,
        notes=(read.summary(),) if read.unparseable else (),
        equality=equality,
        batch_raised=sum(isinstance(b, Raised) for b in batch),
    )
    return with_constant_hints(report, fitted, inputs)  # the fitted constants behind value mismatches


def assert_parity(fitted: FittedTransform, data: Any = None, **options: Any) -> ParityReport:
    """Raise ``AssertionError`` with the text report when the two paths disagree (for pytest)."""
    report = check(fitted, data, **options)
    if not report.ok:
        raise AssertionError(report.to_text(color=False))
    return report
