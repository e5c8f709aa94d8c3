"""Run two implementations of the same features on identical inputs and report every difference.

* :func:`check` — the two compiled paths of a fitted spec;
* :func:`compare` — any batch callable (DataFrame -> DataFrame) against any row callable
  (dict -> dict), e.g. featurekit's batch path against a team's hand-written serving code;
* :func:`replay` — logged serving records (JSONL of ``{"input": {...}, "output": {...}}``)
  against the batch path;
* :func:`assert_parity` — for pytest.

Inputs are the given rows plus generated edge rows (:mod:`featurekit.parity.edge_rows`).
A side that raises where the other returns is a mismatch of kind ``raises`` (both raising
featurekit input errors for the same row is agreement). Failing rows are shrunk to a minimal
reproducer; for spec-compiled paths the first op where the paths diverge is named.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from featurekit.errors import FeaturekitError
from featurekit.parity.compare import column_tolerances, ulp_distance
from featurekit.parity.edge_rows import edge_rows
from featurekit.parity.report import ColumnReport, Example, ParityReport

if TYPE_CHECKING:
    import pandas as pd

    from featurekit.transform import FittedTransform

BatchFn = Callable[["pd.DataFrame"], "pd.DataFrame"]
RowFn = Callable[[Mapping[str, Any]], Mapping[str, Any]]


@dataclasses.dataclass(frozen=True)
class Tolerance:
    """Float comparison: equal if within ``ulps`` ULPs, or ``|a-b| <= atol + rtol*|b|``."""

    ulps: int = 0
    rtol: float = 0.0
    atol: float = 0.0

    def floats_equal(self, a: float, b: float) -> bool:
        if a != a or b != b:
            return a != a and b != b
        if a == b and math.copysign(1, a) == math.copysign(1, b):
            return True
        if not (math.isfinite(a) and math.isfinite(b)):
            return False
        if self.ulps and ulp_distance(a, b) <= self.ulps:
            return True
        return (self.rtol or self.atol) > 0 and abs(a - b) <= self.atol + self.rtol * abs(b)


class _Raised:
    """A side raised for this row."""

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def summary(self) -> str:
        text = str(self.exc).splitlines()[0] if str(self.exc) else ""
        return f"{type(self.exc).__name__}: {text[:160]}"

    @property
    def is_input_error(self) -> bool:
        return isinstance(self.exc, FeaturekitError)


def classify(a: Any, b: Any, tol: Tolerance) -> str | None:
    """None if the two outputs agree, else the mismatch kind: raises, missing, null, type, value."""
    if isinstance(a, _Raised) or isinstance(b, _Raised):
        if isinstance(a, _Raised) and isinstance(b, _Raised) and a.is_input_error and b.is_input_error:
            return None
        return "raises"
    if a is _MISSING or b is _MISSING:
        return None if a is b else "missing"
    if a is None or b is None:
        if a is None and b is None:
            return None
        other = b if a is None else a
        return "null" if not (isinstance(other, float) and other != other) else "null_vs_nan"
    if type(a) is not type(b):
        return "type"
    if isinstance(a, float):
        return None if tol.floats_equal(a, b) else "value"
    return None if a == b else "value"


_MISSING = object()


def _difference(a: Any, b: Any) -> float:
    if isinstance(a, float) and isinstance(b, float) and math.isfinite(a) and math.isfinite(b):
        return abs(a - b)
    if isinstance(a, int) and isinstance(b, int) and not isinstance(a, bool):
        try:
            return float(abs(a - b))
        except OverflowError:  # ints beyond the float range (a logged served value)
            return math.inf
    return math.inf


# ------------------------------------------------------------------------------ running sides


def frame_for(rows: Sequence[Mapping[str, Any]], spec: Any) -> pd.DataFrame:
    """A DataFrame of ``rows`` with columns typed by the contract where the values allow it.

    A column whose values are all of the contract's type (or missing) gets the native dtype
    (float64, Int64, boolean, str, datetime64[us, UTC]); any other column stays object, so
    the batch path's exact per-value coercion runs, as it would on mixed real data.
    """
    import datetime as dt

    import numpy as np
    import pandas as pd

    columns = {}
    n = len(rows)
    for inp in spec.inputs:
        values = [r.get(inp.name) for r in rows]
        present = [v for v in values if v is not None]
        kind = inp.type
        col: Any = None
        try:
            if kind == "float" and all(type(v) is float for v in present):
                col = np.array([np.nan if v is None else v for v in values], dtype=np.float64)
            elif kind == "int" and all(type(v) is int and -(2**63) <= v < 2**63 for v in present):
                col = pd.array(values, dtype="Int64")
            elif kind == "bool" and all(type(v) is bool for v in present):
                col = pd.array(values, dtype="boolean")
            elif kind in ("str", "category") and all(type(v) is str and v.isascii() for v in present):
                col = pd.array(values, dtype="str")
            elif kind == "timestamp" and present and all(type(v) is dt.datetime and v.tzinfo is UTC_ for v in present):
                col = pd.to_datetime(values, utc=True).astype("datetime64[us, UTC]")
        except (TypeError, ValueError, OverflowError):
            col = None
        # object columns stay object (pandas 3 would infer str/datetime from an object array)
        columns[inp.name] = col if col is not None else pd.Series(values, dtype=object, index=pd.RangeIndex(n))
    return pd.DataFrame(columns, index=pd.RangeIndex(n))


UTC_ = __import__("datetime").timezone.utc


def _batch_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    from featurekit.parity.compare import batch_records

    return batch_records(frame)


def run_fitted_batch(fitted: FittedTransform, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
    """Per row: featurekit's batch output, or the input error it reports for that row.

    One call: contract violations are collected per row (:class:`Violations`) rather than
    raised for the whole frame.
    """
    from featurekit.compile.batch import Violations
    from featurekit.engines.pandas import transform_frame

    if not rows:
        return []
    collect = Violations(len(rows))
    try:
        records = _batch_records(transform_frame(fitted, frame_for(rows, fitted.spec), collect=collect))
    except Exception:  # noqa: BLE001 - not a contract violation: isolate the rows that raise
        return run_batch(fitted.transform, rows, fitted.spec)
    return [_Raised(collect.errors[i]) if collect.rows[i] else r for i, r in enumerate(records)]


def run_batch(batch_fn: BatchFn, rows: Sequence[Mapping[str, Any]], spec: Any) -> list[Any]:
    """Per row: the batch side's output dict, or :class:`_Raised`.

    Rows whose inputs break the contract (by the scalar rule) run one at a time, since a
    batch raises for all its rows at once; the rest run as one frame, bisected only if that
    frame raises anyway (which is itself a finding).
    """
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
    from featurekit.compile.contract import Coercer
    from featurekit.errors import ContractError

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
        out = batch_fn(frame_for(rows, spec))
        records = _batch_records(out)
        if len(records) != len(rows):
            raise ValueError(f"the batch side returned {len(records)} rows for {len(rows)} inputs")
        return records
    except Exception as exc:  # noqa: BLE001 - a side's own failure is a result, not a crash
        if len(rows) == 1:
            return [_Raised(exc)]
        mid = len(rows) // 2
        return _run_batch_bisect(batch_fn, rows[:mid], spec) + _run_batch_bisect(batch_fn, rows[mid:], spec)


def run_rows(row_fn: RowFn, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
    """Per row: the row side's output dict, or :class:`_Raised`."""
    out: list[Any] = []
    for row in rows:
        try:
            out.append(dict(row_fn(dict(row))))
        except Exception as exc:  # noqa: BLE001
            out.append(_Raised(exc))
    return out


# ------------------------------------------------------------------------------ core


def _compare_rows(
    rows: Sequence[Mapping[str, Any]],
    batch: list[Any],
    served: list[Any],
    columns: Sequence[str],
    tolerances: Mapping[str, Tolerance],
) -> dict[str, list[tuple[int, str, Any, Any]]]:
    found: dict[str, list[tuple[int, str, Any, Any]]] = {}
    for i, (b, s) in enumerate(zip(batch, served)):
        b_raised, s_raised = isinstance(b, _Raised), isinstance(s, _Raised)
        for col in columns:
            bv = b if b_raised else b.get(col, _MISSING)
            sv = s if s_raised else s.get(col, _MISSING)
            if type(bv) is type(sv) and bv == sv and (type(bv) is not float or bv != 0.0):
                continue  # identical (zeros go the long way: -0.0 == 0.0)
            kind = classify(bv, sv, tolerances[col])
            if kind is not None:
                found.setdefault(col, []).append((i, kind, bv, sv))
    return found


def _show(v: Any) -> Any:
    if isinstance(v, _Raised):
        return {"raised": v.summary()}
    if v is _MISSING:
        return {"missing": True}
    return v


def _simplify_candidates(value: Any) -> list[Any]:
    simple: list[Any] = [_MISSING, None]
    if isinstance(value, bool):
        simple.append(False)
    elif isinstance(value, int):
        simple += [0, 1]
    elif isinstance(value, float):
        simple += [0.0, 1.0]
    elif isinstance(value, str):
        simple += ["", "a"]
    return simple


def shrink(
    row: Mapping[str, Any], still_fails: Callable[[dict[str, Any]], bool], *, budget: int = 200
) -> dict[str, Any]:
    """Greedily simplify ``row`` (drop keys, then simpler values) while the mismatch persists."""
    current = dict(row)
    tries = 0
    changed = True
    while changed and tries < budget:
        changed = False
        for key in list(current):
            for candidate in _simplify_candidates(current[key]):
                if key not in current or (
                    candidate is not _MISSING and current[key] == candidate and type(current[key]) is type(candidate)
                ):
                    continue
                trial = dict(current)
                if candidate is _MISSING:
                    del trial[key]
                else:
                    trial[key] = candidate
                tries += 1
                if still_fails(trial):
                    current = trial
                    changed = True
                    break
                if tries >= budget:
                    break
    return current


def _run(
    batch_fn: BatchFn,
    row_fn: RowFn,
    spec: Any,
    rows: list[dict[str, Any]],
    columns: Sequence[str],
    tolerances: Mapping[str, Tolerance],
    *,
    n_given: int,
    max_examples: int,
    shrink_examples: bool,
    divergence: Callable[[Mapping[str, Any], str], str | None] | None,
    label: str,
    batch_runner: Callable[[Sequence[Mapping[str, Any]]], list[Any]] | None = None,
) -> ParityReport:
    started = time.perf_counter()
    runner = batch_runner or (lambda rs: run_batch(batch_fn, rs, spec))
    batch = runner(rows)
    served = run_rows(row_fn, rows)
    found = _compare_rows(rows, batch, served, columns, tolerances)
    reports = []
    for col in columns:
        still = None
        if shrink_examples:

            def still(trial: dict[str, Any], kind: str, signature: tuple, col: str = col) -> bool:
                tb = runner([trial])[0]
                ts = run_rows(row_fn, [trial])[0]
                bv = tb if isinstance(tb, _Raised) else tb.get(col, _MISSING)
                sv = ts if isinstance(ts, _Raised) else ts.get(col, _MISSING)
                return classify(bv, sv, tolerances[col]) == kind and _signature(bv, sv) == signature

        reports.append(
            _column_report(
                col,
                found.get(col, []),
                rows,
                tolerances[col],
                max_examples,
                n_given=n_given,
                still_fails=still,
                divergence=(lambda r, c=col: divergence(r, c)) if divergence else None,
            )
        )
    return ParityReport(
        label=label,
        rows=len(rows),
        given_rows=n_given,
        generated_rows=len(rows) - n_given,
        columns=reports,
        seconds=time.perf_counter() - started,
    )


def _signature(batch: Any, served: Any) -> tuple:
    """Which side raised what: a shrunk reproducer must fail the same way, not just fail."""
    return tuple(type(v.exc).__name__ if isinstance(v, _Raised) else None for v in (batch, served))


def _column_report(
    col: str,
    items: list[tuple[int, str, Any, Any]],
    rows: Sequence[Mapping[str, Any]],
    tol: Tolerance,
    max_examples: int,
    *,
    n_given: int | None = None,
    still_fails: Callable[[dict[str, Any], str, tuple], bool] | None = None,
    divergence: Callable[[Mapping[str, Any]], str | None] | None = None,
) -> ColumnReport:
    """Summarize one column's mismatches; shrink the first few to minimal reproducers."""
    kinds: dict[str, int] = {}
    for _, kind, _, _ in items:
        kinds[kind] = kinds.get(kind, 0) + 1
    worst = max((_difference(b, s) for _, k, b, s in items if k == "value"), default=0.0)
    examples = []
    for i, kind, b, s in items[:max_examples]:
        reproducer = first_op = None
        if still_fails is not None and len(examples) < 3:
            sig = _signature(b, s)
            reproducer = shrink(rows[i], lambda trial, kind=kind, sig=sig: still_fails(trial, kind, sig))
            first_op = divergence(reproducer) if divergence is not None else None
        examples.append(
            Example(
                row=i,
                given=n_given is None or i < n_given,
                input=_jsonable_row(rows[i]),
                kind=kind,
                batch=_show(b),
                served=_show(s),
                reproducer=_jsonable_row(reproducer) if reproducer is not None else None,
                first_divergent_op=first_op,
            )
        )
    return ColumnReport(
        column=col,
        mismatches=len(items),
        kinds=kinds,
        worst_difference=worst,
        examples=examples,
        tolerance=dataclasses.asdict(tol),
    )


def _jsonable_row(row: Mapping[str, Any]) -> dict[str, Any]:
    import datetime as dt

    out = {}
    for k, v in row.items():
        if isinstance(v, dt.datetime):
            out[k] = {"datetime": v.isoformat()}
        elif isinstance(v, bytes):
            out[k] = {"bytes": v.decode("latin-1")}
        elif isinstance(v, float) and not math.isfinite(v):
            out[k] = {"float": repr(v)}
        elif isinstance(v, str) and len(v) > 200:
            out[k] = v[:200] + f"... ({len(v)} chars)"
        else:
            out[k] = v
    return out


def _given_rows(data: Any, spec: Any, limit: int | None) -> list[dict[str, Any]]:
    if data is None:
        return []
    if isinstance(data, list):
        rows = [dict(r) for r in data]
    else:
        from featurekit.datasets import to_rows

        rows = to_rows(data)
    return rows[:limit] if limit else rows


def _tolerances(
    columns: Sequence[str], base: Mapping[str, int], rtol: float, atol: float, ulps: int | None
) -> dict[str, Tolerance]:
    return {c: Tolerance(ulps=ulps if ulps is not None else base.get(c, 0), rtol=rtol, atol=atol) for c in columns}


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
    max_examples: int = 20,
    shrink: bool = True,
    limit: int | None = None,
) -> ParityReport:
    """Both compiled paths of ``fitted`` on ``data`` (DataFrame or row dicts) plus generated rows."""
    given = _given_rows(data, fitted.spec, limit)
    generated = edge_rows(fitted, given, fuzz=fuzz, seed=seed, invalid=invalid) if edges else []
    columns = fitted.output_columns
    tol = _tolerances(columns, column_tolerances(fitted), rtol, atol, ulps)
    from featurekit.parity.divergence import first_divergent_op

    return _run(
        fitted.transform,
        fitted.transform_row,
        fitted.spec,
        given + generated,
        columns,
        tol,
        n_given=len(given),
        max_examples=max_examples,
        shrink_examples=shrink,
        divergence=lambda row, col: first_divergent_op(fitted, row, col),
        batch_runner=lambda rs: run_fitted_batch(fitted, rs),
        label=f"{fitted.spec.name}@{fitted.spec.version}: batch path vs row path",
    )


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
    max_examples: int = 20,
    shrink: bool = True,
    limit: int | None = None,
    label: str | None = None,
) -> ParityReport:
    """Any batch callable against any row callable, on ``data`` plus edge rows from ``contract``.

    ``invalid=False`` generates only rows the input contract accepts: use it when the serving
    side does not validate input (the default also reports such validation gaps, as kind
    ``raises``). ``contract`` is a :class:`~featurekit.spec.model.Spec` (or a fitted transform)
    whose inputs describe the rows; a fitted transform (``fitted=`` or as ``contract``) also contributes its
    fitted values (bucket edges, vocabularies) to the generated edge rows.
    """
    from featurekit.transform import FittedTransform

    if isinstance(contract, FittedTransform):
        fitted = fitted or contract
        spec = contract.spec
    else:
        spec = contract
    given = _given_rows(data, spec, limit)
    source = fitted if fitted is not None else _StatelessView(spec)
    generated = edge_rows(source, given, fuzz=fuzz, seed=seed, invalid=invalid) if edges else []
    rows = given + generated
    if columns is None:
        probe = run_batch(batch_fn, rows[:1] or [{}], spec)[0]
        columns = list(probe) if not isinstance(probe, _Raised) else (fitted.output_columns if fitted else [])
    base = column_tolerances(fitted) if fitted is not None else {}
    return _run(
        batch_fn,
        row_fn,
        spec,
        rows,
        list(columns),
        _tolerances(columns, base, rtol, atol, ulps),
        n_given=len(given),
        max_examples=max_examples,
        shrink_examples=shrink,
        divergence=None,
        label=label or "batch callable vs row callable",
    )


class _StatelessView:
    """What :func:`edge_rows` needs from a spec that has no fitted state."""

    def __init__(self, spec: Any) -> None:
        self.spec = spec
        self.state_: dict = {}


def replay(
    fitted: FittedTransform,
    log: Any,
    *,
    rtol: float = 0.0,
    atol: float = 0.0,
    ulps: int | None = None,
    max_examples: int = 20,
    limit: int | None = None,
) -> ParityReport:
    """Logged serving records (``{"input": ..., "output": ...}``) against the batch path.

    ``log``: a JSONL file, a directory of them, a glob, a list of those, or an iterable of
    record dicts. Lines that are not valid records are skipped, counted and named (file and
    line) in the report's ``notes``; a log without a single valid record raises
    :class:`~featurekit.skew.SkewInputError`.
    """
    from featurekit.skew.records import LogStats, decode_row, iter_records, no_records

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
    tol = _tolerances(columns, column_tolerances(fitted), rtol, atol, ulps)
    started = time.perf_counter()
    batch = run_fitted_batch(fitted, inputs)
    found = _compare_rows(inputs, batch, served, columns, tol)
    reports = [_column_report(col, found.get(col, []), inputs, tol[col], max_examples) for col in columns]
    return ParityReport(
        label=f"{fitted.spec.name}@{fitted.spec.version}: batch path vs logged serving outputs",
        rows=len(inputs),
        given_rows=len(inputs),
        generated_rows=0,
        columns=reports,
        seconds=time.perf_counter() - started,
        notes=(read.summary(),) if read.unparseable else (),
    )


def assert_parity(fitted: FittedTransform, data: Any = None, **options: Any) -> ParityReport:
    """Raise ``AssertionError`` with the text report when the two paths disagree (for pytest)."""
    report = check(fitted, data, **options)
    if not report.ok:
        raise AssertionError(report.to_text(color=False))
    return report
