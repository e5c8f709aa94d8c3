"""Conformance checks that run over every registered op.

Each check is a plain function: the data checks take ``(op, params, types, rows, ...)``
with concrete rows and raise ``AssertionError`` with a message naming the op, params,
types, check, the first failing input row and both outputs. :func:`run_check` drives a data
check with Hypothesis; :func:`parametrize_with_op_checks` yields one ``pytest.param`` per
(op, test params, argument types, check), with ids like
``clip(lower=0.0)[float]:check_batch_row_parity``, marked ``xfail(strict=True)`` where the op
declares an expected failure.

For an op and one of its ``test_params``, the harness builds a tiny spec with one input per
argument (``a0``, ``a1``, ...) and one feature ``f`` whose expression is the op call (or its
operator form), fits it, and compares the batch path with the row path on the same rows.
"""

from __future__ import annotations

import copy
import functools
import itertools
import math
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import featurekit.ir.ops  # noqa: F401  (registers the built-in ops this module looks up)
from featurekit import registry
from featurekit.parity.tolerance import column_tolerances
from featurekit.registry import Op
from featurekit.testing import strategies as fks
from featurekit.types import DType
from featurekit.values.equality import STRICT, Equality
from featurekit.values.frames import frame_rows

_TYPE_NAMES = {
    DType.FLOAT: "float",
    DType.INT: "int",
    DType.STR: "str",
    DType.BOOL: "bool",
    DType.TIMESTAMP: "timestamp",
}

DATA_CHECKS = (
    "check_batch_row_parity",
    "check_row_order_invariance",
    "check_fit_idempotent",
    "check_chunked_fit_equals_whole",
    "check_row_input_not_mutated",
    "check_missing_keys",
    "check_empty_fit",
    "check_all_null_fit",
)
OP_CHECKS = ("check_bad_params_message", "check_has_docstring_with_null_rule")


# ------------------------------------------------------------------------------ spec building


def _render_value(v: Any) -> str:
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_render_value(x) for x in v) + "]"
    return repr(v)


def render_params(params: Mapping[str, Any]) -> str:
    return ", ".join(f"{k}={_render_value(v)}" for k, v in params.items())


def expression(op: Op, params: Mapping[str, Any], types: Sequence[DType]) -> str:
    """The feature expression calling ``op`` on inputs ``a0, a1, ...``: with its operator
    (``Op.symbol``) when it has one and no parameters, else as a call."""
    names = fks.input_names(types)
    if op.symbol is not None and not params and len(names) == len(op.args) == 1:
        return op.symbol + (" " if op.symbol[-1].isalpha() else "") + names[0]
    if op.symbol is not None and not params and len(names) == len(op.args) == 2:
        return f"{names[0]} {op.symbol} {names[1]}"
    args = ", ".join(names + ([render_params(params)] if params else []))
    return f"{op.name}({args})"


def spec_dict(
    op: Op, params: Mapping[str, Any], types: Sequence[DType], *, on_empty_fit: str = "fallback"
) -> dict[str, Any]:
    """The one-feature spec of a conformance case. Generated fit rows may hold no value for the
    op to learn from (all null), so the feature declares the documented empty-fit fallback;
    :func:`check_all_null_fit` checks the default (``raise``) separately."""
    return {
        "featurekit": 1,
        "name": f"conformance_{op.name}",
        "version": "0.0.1",
        "inputs": {n: {"type": _TYPE_NAMES[t], "nullable": True} for n, t in zip(fks.input_names(types), types)},
        "features": {"f": {"expr": expression(op, params, types), "on_empty_fit": on_empty_fit}},
    }


@functools.cache
def _build_cached(op_name: str, params_key: str, types: tuple[DType, ...]) -> Any:
    import featurekit

    op = registry.get(op_name)
    params = _PARAMS_BY_KEY[(op_name, params_key)]
    return featurekit.spec_from_dict(spec_dict(op, params, types))


_PARAMS_BY_KEY: dict[tuple[str, str], Mapping[str, Any]] = {}


def build_spec(op: Op, params: Mapping[str, Any], types: Sequence[DType]) -> Any:
    key = render_params(params)
    _PARAMS_BY_KEY[(op.name, key)] = params
    return _build_cached(op.name, key, tuple(types))


def is_analyzed(spec: Any) -> bool:
    from featurekit.fit import analyzed_nodes

    graph = spec.graph
    return bool(analyzed_nodes([graph.features[o] for o in graph.outputs]))


def type_combos(op: Op, params: Mapping[str, Any]) -> list[tuple[DType, ...]]:
    """Every argument-type combination the op accepts with these params (spec builds)."""
    import featurekit

    arities = [len(op.args)] + ([len(op.args) + 1] if op.variadic else [])
    order = [DType.FLOAT, DType.INT, DType.BOOL, DType.STR, DType.TIMESTAMP]
    out = []
    for n in arities:
        allowed = [sorted(op.args[min(i, len(op.args) - 1)], key=order.index) for i in range(n)]
        for combo in itertools.product(*allowed):
            try:
                build_spec(op, params, combo)
            except featurekit.SpecError:
                continue
            out.append(tuple(combo))
    return out


def describe_case(op: Op, params: Mapping[str, Any], types: Sequence[DType]) -> str:
    return f"{op.name}({render_params(params)})[{','.join(_TYPE_NAMES[t] for t in types)}]"


# ------------------------------------------------------------------------------ comparison


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 300 else text[:300] + "...'"


def compare_outputs(
    case: str,
    check: str,
    rows: Sequence[Mapping[str, Any]],
    batch: list[dict[str, Any]],
    row_out: list[dict[str, Any]],
    ulps: int,
    *,
    extra: str = "",
) -> None:
    """Raise AssertionError at the first row whose outputs differ."""
    if len(batch) != len(row_out):
        raise AssertionError(f"{case} {check}: batch gave {len(batch)} rows, row path {len(row_out)}")
    policy = Equality(ulps=ulps)
    for i, (b, r) in enumerate(zip(batch, row_out)):
        if list(b) != list(r):
            raise AssertionError(
                f"{case} {check}: row {i} columns differ: batch {list(b)} vs row {list(r)}\n"
                f"  input: {_short(rows[i] if i < len(rows) else None)}{extra}"
            )
        for col in b:
            if not policy.same(b[col], r[col]):
                raise AssertionError(
                    f"{case} {check}: row {i} column {col!r} differs (tolerance {ulps} ULP)\n"
                    f"  input: {_short(rows[i] if i < len(rows) else None)}\n"
                    f"  batch: {_short(b[col])} ({type(b[col]).__name__})\n"
                    f"  row:   {_short(r[col])} ({type(r[col]).__name__}){extra}"
                )


def states_equal(a: Any, b: Any) -> bool:
    """Deep equality of fitted state with typed, bit-exact floats (NaN == NaN)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(states_equal(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(states_equal(x, y) for x, y in zip(a, b))
    return STRICT.same(a, b)


# ------------------------------------------------------------------------------ helpers


def _fit(op: Op, params: Mapping[str, Any], types: Sequence[DType], fit_data: Any) -> Any:
    spec = build_spec(op, params, types)
    if isinstance(fit_data, list) and (not fit_data or isinstance(fit_data[0], Mapping)):
        fit_data = fks.frame_from_rows(fit_data, types)
    return spec.fit(fit_data)


_UNFITTED: dict[tuple, Any] = {}


def fitted_for(op: Op, params: Mapping[str, Any], types: Sequence[DType], fit_rows: Sequence[Mapping] | None) -> Any:
    """Fit on ``fit_rows``; elementwise specs are fitted once and reused."""
    spec = build_spec(op, params, types)
    if not is_analyzed(spec):
        key = (op.name, render_params(params), tuple(types))
        if key not in _UNFITTED:
            _UNFITTED[key] = _fit(op, params, types, [])
        return _UNFITTED[key]
    return _fit(op, params, types, list(fit_rows or []))


def _both_paths(fitted: Any, rows: Sequence[Mapping[str, Any]], types: Sequence[DType]):
    frame = fks.frame_from_rows(rows, types)
    batch = frame_rows(fitted.transform(frame))
    return batch, fitted.transform_rows(rows)


def _ulps(fitted: Any) -> int:
    """The case's float tolerance: 0 (bit-exact) unless a custom function declares ``ulps``."""
    return max(column_tolerances(fitted).values(), default=0)


def _fit_note(fit_rows: Any) -> str:
    return "" if fit_rows is None else f"\n  fit rows: {_short(list(fit_rows))}"


def state_values(fitted: Any) -> list[Any]:
    """Scalars found in the fitted state (bucket edges, vocab members, means...)."""
    out: list[Any] = []

    def walk(v: Any) -> None:
        if isinstance(v, dict):
            for x in v.values():
                walk(x)
        elif isinstance(v, (list, tuple)):
            for x in v:
                walk(x)
        elif isinstance(v, (bool, int, float, str)):
            out.append(v)

    walk(fitted.state_)
    return out


def param_values(params: Mapping[str, Any]) -> list[Any]:
    out: list[Any] = []
    for v in params.values():
        out += list(v) if isinstance(v, (list, tuple)) else [v]
    return [v for v in out if isinstance(v, (int, float, str)) and not isinstance(v, bool)]


# ------------------------------------------------------------------------------ the checks


def check_batch_row_parity(
    op: Op,
    params: Mapping[str, Any],
    types: Sequence[DType],
    rows: Sequence[Mapping[str, Any]],
    fit_rows: Sequence[Mapping] | None = None,
    fitted: Any = None,
) -> None:
    """``transform(frame)`` equals ``transform_rows(rows)`` value by value.

    ``fitted`` (optional) must be the transform fitted on ``fit_rows`` (saves a refit).
    """
    if fitted is None:
        fitted = fitted_for(op, params, types, rows if fit_rows is None else fit_rows)
    batch, row_out = _both_paths(fitted, rows, types)
    compare_outputs(
        describe_case(op, params, types),
        "check_batch_row_parity",
        rows,
        batch,
        row_out,
        _ulps(fitted),
        extra=_fit_note(fit_rows),
    )


def check_bulk_exactness(op: Op, params: Mapping[str, Any], types: Sequence[DType], n: int, seed: int = 0) -> None:
    """Batch equals row bit for bit on ``n`` seeded bulk rows (:mod:`featurekit.testing.bulk`).

    Analyzed ops are fitted on 2,000 bulk rows of another seed; the transform rows also hit
    the fitted state's values and their neighbours.
    """
    from featurekit.testing.bulk import bulk_rows

    pvals = param_values(params)
    fit_rows = bulk_rows(types, 2000, seed=seed + 1, extra={i: pvals for i in range(len(types))})
    fitted = fitted_for(op, params, types, fit_rows)
    svals = state_values(fitted)
    rows = bulk_rows(types, n, seed=seed, extra={i: pvals + svals for i in range(len(types))})
    batch, row_out = _both_paths(fitted, rows, types)
    compare_outputs(
        describe_case(op, params, types),
        "check_bulk_exactness",
        rows,
        batch,
        row_out,
        _ulps(fitted),
        extra=f"\n  bulk seed {seed}, {n} rows; fit on bulk seed {seed + 1}",
    )


def check_row_order_invariance(
    op: Op,
    params: Mapping[str, Any],
    types: Sequence[DType],
    rows: Sequence[Mapping[str, Any]],
    fit_rows: Sequence[Mapping] | None = None,
    seed: int = 0,
) -> None:
    """Batch output on shuffled rows equals the shuffled batch output (bit-exact)."""
    fitted = fitted_for(op, params, types, rows if fit_rows is None else fit_rows)
    perm = list(range(len(rows)))
    random.Random(seed).shuffle(perm)
    whole = frame_rows(fitted.transform(fks.frame_from_rows(rows, types)))
    shuffled_rows = [rows[i] for i in perm]
    shuffled = frame_rows(fitted.transform(fks.frame_from_rows(shuffled_rows, types)))
    compare_outputs(
        describe_case(op, params, types),
        "check_row_order_invariance",
        shuffled_rows,
        shuffled,
        [whole[i] for i in perm],
        0,
        extra=f"\n  permutation: {perm}",
    )


def check_fit_idempotent(
    op: Op, params: Mapping[str, Any], types: Sequence[DType], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Fitting twice on the same data gives identical ``state_``."""
    a = _fit(op, params, types, list(rows))
    b = _fit(op, params, types, list(rows))
    if not states_equal(a.state_, b.state_):
        raise AssertionError(
            f"{describe_case(op, params, types)} check_fit_idempotent: states differ\n"
            f"  first:  {_short(a.state_)}\n  second: {_short(b.state_)}\n"
            f"  fit rows: {_short(list(rows))}"
        )


def check_chunked_fit_equals_whole(
    op: Op,
    params: Mapping[str, Any],
    types: Sequence[DType],
    rows: Sequence[Mapping[str, Any]],
    cuts: Sequence[int] = (),
) -> None:
    """Fitting on DataFrame chunks (split at ``cuts``) gives the state of the whole fit."""
    bounds = [0] + sorted(min(max(c, 0), len(rows)) for c in cuts) + [len(rows)]
    chunks = [fks.frame_from_rows(list(rows[lo:hi]), types) for lo, hi in zip(bounds, bounds[1:])]
    whole = _fit(op, params, types, list(rows))
    parts = _fit(op, params, types, chunks)
    if not states_equal(whole.state_, parts.state_):
        raise AssertionError(
            f"{describe_case(op, params, types)} check_chunked_fit_equals_whole: states "
            f"differ\n  whole:   {_short(whole.state_)}\n  chunked: {_short(parts.state_)}\n"
            f"  chunk sizes: {[hi - lo for lo, hi in zip(bounds, bounds[1:])]}\n"
            f"  fit rows: {_short(list(rows))}"
        )


def check_row_input_not_mutated(
    op: Op,
    params: Mapping[str, Any],
    types: Sequence[DType],
    rows: Sequence[Mapping[str, Any]],
    fit_rows: Sequence[Mapping] | None = None,
) -> None:
    """``transform_row`` leaves its input dict (and its values) unchanged."""
    fitted = fitted_for(op, params, types, rows if fit_rows is None else fit_rows)
    for row in rows:
        before = copy.deepcopy(row)
        fitted.transform_row(row)
        if list(before) != list(row) or not all(
            STRICT.same(before[k], row[k]) or (before[k] == row[k] and type(before[k]) is type(row[k])) for k in before
        ):
            raise AssertionError(
                f"{describe_case(op, params, types)} check_row_input_not_mutated: "
                f"input {_short(before)} became {_short(row)}"
            )


def check_missing_keys(
    op: Op, params: Mapping[str, Any], types: Sequence[DType], rows: Sequence[Mapping[str, Any]]
) -> None:
    """``transform_row({})`` works and equals the batch output for an all-null row."""
    fitted = fitted_for(op, params, types, rows)
    null_row = {n: None for n in fks.input_names(types)}
    batch, row_out = _both_paths(fitted, [null_row], types)
    case = describe_case(op, params, types)
    compare_outputs(
        case, "check_missing_keys", [{}], batch, [fitted.transform_row({})], _ulps(fitted), extra=_fit_note(rows)
    )
    compare_outputs(case, "check_missing_keys", [null_row], batch, row_out, _ulps(fitted), extra=_fit_note(rows))


def check_empty_fit(
    op: Op, params: Mapping[str, Any], types: Sequence[DType], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Fitting on zero rows works, and both paths agree afterwards."""
    fitted = _fit(op, params, types, [])
    batch, row_out = _both_paths(fitted, rows, types)
    compare_outputs(
        describe_case(op, params, types),
        "check_empty_fit",
        rows,
        batch,
        row_out,
        _ulps(fitted),
        extra="\n  fitted on zero rows",
    )


def check_all_null_fit(
    op: Op, params: Mapping[str, Any], types: Sequence[DType], rows: Sequence[Mapping[str, Any]]
) -> None:
    """Fitting on rows whose inputs are all null: an analyzer that saw no value is refused
    (FitError naming the feature and the op) unless the feature declares ``on_empty_fit:
    fallback``; with it, the state is the zero-row fit's state and both paths agree."""
    import featurekit
    from featurekit.errors import FitError

    case = describe_case(op, params, types)
    null_rows = [{n: None for n in fks.input_names(types)} for _ in range(max(1, len(rows)))]
    frame = fks.frame_from_rows(null_rows, types)
    strict = featurekit.spec_from_dict(spec_dict(op, params, types, on_empty_fit="raise"))
    if not is_analyzed(strict):
        strict.fit(frame)  # nothing to learn: fitting on nulls is fine
        return
    try:
        strict.fit(frame)
    except FitError as exc:
        if "feature 'f'" not in str(exc) or repr(op.name) not in str(exc):
            raise AssertionError(
                f"{case} check_all_null_fit: the FitError does not name the feature and the op:\n  {exc}"
            ) from None
    else:
        raise AssertionError(
            f"{case} check_all_null_fit: fitting on {len(null_rows)} all-null row(s) was accepted "
            "without on_empty_fit: fallback"
        )
    fallback = _fit(op, params, types, null_rows)
    empty = _fit(op, params, types, [])
    if not states_equal(fallback.state_, empty.state_):
        raise AssertionError(
            f"{case} check_all_null_fit: an all-null fit's state differs from the empty fit's\n"
            f"  all null: {_short(fallback.state_)}\n  empty:    {_short(empty.state_)}"
        )
    batch, row_out = _both_paths(fallback, rows, types)
    compare_outputs(
        case, "check_all_null_fit", rows, batch, row_out, _ulps(fallback), extra="\n  fitted on all-null rows"
    )


def _bad_values(param: registry.Param) -> list[Any]:
    bad: list[Any] = []
    if param.choices is not None:
        bad.append("not-a-choice")
    if param.min is not None:
        m = param.min
        bad.append(
            int(math.floor(m)) - 1
            if param.kind in ("int",)
            else ([m - 1.0] if param.kind == "numbers" else m - 1.0 if m > -1e300 else -math.inf)
        )
        if param.kind == "number" and m > 0:
            bad.append(0.0)
    if param.max is not None:
        bad.append(
            int(param.max) + 1
            if param.kind == "int"
            else [param.max + 1.0]
            if param.kind == "numbers"
            else param.max + 1.0
        )
    wrong_kind = {
        "number": "x",
        "int": 1.5,
        "str": 1,
        "bool": "yes",
        "numbers": "x",
        "strs": [1],
        "scalar": [1],
        "scalars": 5,
    }
    bad.append(wrong_kind[param.kind])
    return bad


def check_bad_params_message(op: Op) -> None:
    """Each constrained param given a bad value raises SpecError naming the op and the param."""
    import featurekit

    if not op.test_params:
        import pytest

        pytest.skip(f"{op.name} declares no test_params (it cannot be built without outside setup)")
    base = dict(op.test_params[0])
    combos = type_combos(op, base)
    if not combos:
        raise AssertionError(f"{op.name}: no argument types build with params {base}")
    types = combos[0]
    for name, param in op.params.items():
        for bad in _bad_values(param):
            params = {**base, name: bad}
            try:
                featurekit.spec_from_dict(spec_dict(op, params, types))
            except featurekit.SpecError as exc:
                msg = str(exc)
                if op.name not in msg or name not in msg:
                    raise AssertionError(
                        f"{op.name} check_bad_params_message: {name}={bad!r} raised a "
                        f"message that does not name the op and the parameter:\n  {msg}"
                    ) from exc
            else:
                raise AssertionError(
                    f"{op.name} check_bad_params_message: {name}={bad!r} was accepted (constraint: {param.describe()})"
                )


def check_has_docstring_with_null_rule(op: Op) -> None:
    """The op's doc states its null rule and its tolerance."""
    doc = op.doc or ""
    missing = [w for w in ("Null", "Tolerance") if w not in doc]
    if missing:
        raise AssertionError(f"{op.name} check_has_docstring_with_null_rule: doc does not mention {missing}:\n{doc}")


CHECKS: dict[str, Callable[..., None]] = {
    f.__name__: f
    for f in (
        check_batch_row_parity,
        check_row_order_invariance,
        check_fit_idempotent,
        check_chunked_fit_equals_whole,
        check_row_input_not_mutated,
        check_missing_keys,
        check_empty_fit,
        check_all_null_fit,
        check_bad_params_message,
        check_has_docstring_with_null_rule,
    )
}


# ------------------------------------------------------------------------------ hypothesis driver


def examples_for(check: str, op: Op, max_examples: int) -> int:
    """Hypothesis examples for one (op, params, types) case of ``check``.

    Parity: the profile's ``max_examples`` per op, split over the op's cases (each case at
    least ``max_examples // 8``), so every op gets at least ``max_examples`` parity examples.
    The other data checks test properties that need far fewer examples.
    """
    if check == "check_batch_row_parity":
        n_cases = max(1, _case_count(op))
        return max(-(-max_examples // n_cases), max_examples // 8, 1)
    return max(3, max_examples // 60)


@functools.cache
def _case_count_by_name(name: str) -> int:
    op = registry.get(name)
    return sum(len(type_combos(op, dict(p))) for p in op.test_params)


def _case_count(op: Op) -> int:
    return _case_count_by_name(op.name)


def _settings(check: str, op: Op) -> Any:
    from hypothesis import HealthCheck, settings

    current = settings()
    n = examples_for(check, op, current.max_examples)
    return settings(
        current,
        max_examples=n,
        suppress_health_check=list(current.suppress_health_check)
        + [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
    )


def run_check(
    check: str, op: Op, params: Mapping[str, Any] | None = None, types: Sequence[DType] | None = None
) -> None:
    """Run one check; data checks are driven by Hypothesis over :mod:`strategies`."""
    from hypothesis import given
    from hypothesis import strategies as st

    fn = CHECKS[check]
    if check in OP_CHECKS:
        fn(op)
        return
    assert params is not None and types is not None
    types = tuple(types)
    spec = build_spec(op, params, types)
    analyzed = is_analyzed(spec)
    pvals = param_values(params)
    base_extra = {i: pvals for i in range(len(types))}
    rows_st = fks.rows(types, extra=base_extra)

    if check in ("check_batch_row_parity", "check_row_order_invariance", "check_row_input_not_mutated"):

        def call(fit_rows: list | None, rows: list, data: Any, fitted: Any) -> None:
            if check == "check_row_order_invariance":
                seed = data.draw(st.integers(0, 2**32 - 1), label="seed")
                fn(op, params, types, rows, fit_rows=fit_rows, seed=seed)
            elif check == "check_batch_row_parity":
                fn(op, params, types, rows, fit_rows=fit_rows, fitted=fitted)
            else:
                fn(op, params, types, rows, fit_rows=fit_rows)

        if analyzed:
            # fit data and transform data come from the same strategies; the transform rows
            # also hit values exactly equal to the fitted state (edges, vocab members, and
            # their case variants / float neighbours) and to the training values.
            @_settings(check, op)
            @given(fit_rows=rows_st, data=st.data())
            def run(fit_rows: list, data: Any) -> None:
                fitted = fitted_for(op, params, types, fit_rows)
                svals = state_values(fitted) + [v for r in fit_rows for v in r.values() if v is not None]
                extra = {i: pvals + svals for i in range(len(types))}
                rows = data.draw(fks.rows(types, min_size=1, extra=extra), label="rows")
                call(fit_rows, rows, data, fitted)
        else:

            @_settings(check, op)
            @given(rows=fks.rows(types, min_size=1, extra=base_extra), data=st.data())
            def run(rows: list, data: Any) -> None:
                call(None, rows, data, None)

        run()
    elif check == "check_chunked_fit_equals_whole":

        @_settings(check, op)
        @given(rows=rows_st, cuts=st.lists(st.integers(0, 30), max_size=4))
        def run(rows: list, cuts: list) -> None:
            fn(op, params, types, rows, cuts=cuts)

        run()
    elif check in ("check_empty_fit", "check_all_null_fit"):

        @_settings(check, op)
        @given(rows=fks.rows(types, min_size=1, extra=base_extra))
        def run(rows: list) -> None:
            fn(op, params, types, rows)

        run()
    else:  # check_fit_idempotent, check_missing_keys

        @_settings(check, op)
        @given(rows=rows_st)
        def run(rows: list) -> None:
            fn(op, params, types, rows)

        run()


# ------------------------------------------------------------------------------ pytest glue


def op_cases(ops: Sequence[Op] | None = None) -> Iterator[tuple[Op, Mapping[str, Any], tuple[DType, ...]]]:
    """(op, test params, argument types) for every op, test configuration and type combination."""
    for op in ops if ops is not None else registry.all_ops():
        for params in op.test_params:
            for types in type_combos(op, params):
                yield op, dict(params), types


def parametrize_with_op_checks(ops: Sequence[Op] | None = None) -> Iterator[Any]:
    """pytest params ``(check, op, params, types)`` with readable ids; expected failures xfail.

    Use as ``@pytest.mark.parametrize("check, op, params, types", list(parametrize_with_op_checks()))``.
    """
    import pytest

    ops = list(ops if ops is not None else registry.all_ops())

    def marks(op: Op, check: str) -> list:
        reason = op.expected_failures.get(check)
        return [pytest.mark.xfail(strict=True, reason=reason)] if reason else []

    for op in ops:
        for check in OP_CHECKS:
            yield pytest.param(check, op, None, None, id=f"{op.name}:{check}", marks=marks(op, check))
    for op, params, types in op_cases(ops):
        for check in DATA_CHECKS:
            yield pytest.param(
                check, op, params, types, id=f"{describe_case(op, params, types)}:{check}", marks=marks(op, check)
            )
