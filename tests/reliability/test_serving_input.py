"""Malformed serving rows against the churn spec: typed outputs or a ContractError, both paths agreeing.

Every generated row ends in exactly one of: outputs of the declared types
(``fitted.output_types``), or a :class:`featurekit.ContractError` naming the input, the rule,
the value and a fix. Any other exception fails. The batch path (``run_fitted_batch``: one
call, violations collected per row) and the row path (``transform_row``) must refuse the
same rows and, where both return, give the same values. Cases tried per category are
counted and printed at the end (``pytest -s``).
"""

from __future__ import annotations

import datetime as dt
import decimal
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import featurekit as fk
from featurekit.values.equality import Raised

from ._common import (
    COUNTS,
    assert_contract_error,
    assert_typed,
    batch_side,
    churn_fitted,
    churn_rows,
    row_side,
    same_output,
)

INPUTS = {
    "customer_id": "str",
    "signup_ts": "timestamp",
    "last_login_ts": "timestamp",
    "plan": "category",
    "country": "category",
    "device": "category",
    "monthly_spend": "float",
    "tenure_days": "int",
    "num_support_tickets": "int",
    "avg_session_minutes": "float",
    "referral_code": "str",
    "is_promo": "bool",
    "description": "str",
}
NUMERIC = [n for n, t in INPUTS.items() if t in ("int", "float")]
INTS = [n for n, t in INPUTS.items() if t == "int"]
TIMES = [n for n, t in INPUTS.items() if t == "timestamp"]
TEXT = [n for n, t in INPUTS.items() if t in ("str", "category")]

finite = st.floats(allow_nan=False, allow_infinity=False)
tzs = st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: dt.timezone(dt.timedelta(minutes=m)))
naive = st.datetimes(min_value=dt.datetime(1, 1, 2), max_value=dt.datetime(9999, 12, 30))

# category -> (which inputs it targets, value strategy)
CATEGORIES = {
    "none": (list(INPUTS), st.none()),
    "nan": (list(INPUTS), st.sampled_from([math.nan, np.float64("nan"), np.float32("nan"), pd.NA, pd.NaT])),
    "str_for_number": (NUMERIC, finite.map(repr) | st.integers().map(str)),
    "numeric_string": (
        list(INPUTS),
        st.sampled_from(["1", "1.5", "-0", "1e3", " 2 ", "0x10", "nan", "inf", "1_000", "١٢"]),
    ),
    "float_for_int": (INTS, finite | st.integers(-(10**6), 10**6).map(float)),
    "bool_for_number": (NUMERIC, st.booleans()),
    "int_for_bool_or_text": (["is_promo"] + TEXT, st.integers(-2, 2)),
    "bytes": (list(INPUTS), st.binary(max_size=8)),
    "list": (list(INPUTS), st.lists(st.integers(), max_size=3)),
    "dict": (list(INPUTS), st.dictionaries(st.text(max_size=2), st.integers(), max_size=2)),
    "set": (list(INPUTS), st.sets(st.integers(), max_size=2) | st.frozensets(st.integers(), max_size=2)),
    "decimal": (
        list(INPUTS),
        st.decimals(allow_nan=True, allow_infinity=True, places=3) | st.just(decimal.Decimal("1")),
    ),
    "numpy_scalar": (
        list(INPUTS),
        st.one_of(
            st.integers(-(2**63), 2**63 - 1).map(np.int64),
            st.integers(0, 2**64 - 1).map(np.uint64),
            st.integers(-128, 127).map(np.int8),
            st.floats(width=32).map(np.float32),
            st.floats().map(np.float64),
            st.booleans().map(np.bool_),
            st.text(max_size=3).map(np.str_),
            st.just(np.datetime64("2020-01-01T00:00:00")),
        ),
    ),
    "huge_int": (
        list(INPUTS),
        st.sampled_from([2**53, 2**53 + 1, -(2**53) - 1, 2**63 - 1, 2**63, -(2**63), -(2**63) - 1, 10**30, -(10**400)])
        | st.integers(),
    ),
    "inf": (list(INPUTS), st.sampled_from([math.inf, -math.inf, np.float64("inf")])),
    "extreme_float": (
        list(INPUTS),
        st.sampled_from([1e308, -1e308, 5e-324, -0.0, 1.7976931348623157e308, 2.0**53, 2.0**63, -(2.0**63)]),
    ),
    "long_string": (
        list(INPUTS),
        st.sampled_from(["x" * 100_000, "é" * 100_000, " a" * 50_000, "2026-01-01" + "0" * 100_000]),
    ),
    "lone_surrogate": (
        list(INPUTS),
        st.sampled_from(["\ud800", "ab\udfff", "SE\ud83d", "\udc80" * 3])
        | st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=4),
    ),
    "unicode_text": (TEXT, st.text(max_size=20)),
    "ts_naive": (TIMES, naive),
    "ts_aware": (TIMES, st.builds(lambda d, z: d.replace(tzinfo=z), naive, tzs)),
    "ts_text": (
        TIMES,
        st.builds(lambda d, z: d.replace(tzinfo=z).isoformat(), naive, tzs | st.none().map(lambda _: None))
        | st.sampled_from(
            [
                "2026-01-01",
                "2026-01-01T00:00:00Z",
                "2026-02-30T00:00:00",
                "2026-01-01 25:00",
                "yesterday",
                "",
                "0000-00-00",
                "9999-12-31T23:59:59-23:59",
                "0001-01-01T00:00:00+23:59",
                "2026-W01",
            ]
        ),
    ),
    "ts_garbled": (TIMES, st.text(max_size=25)),
    "pd_timestamp": (
        TIMES,
        st.one_of(
            st.integers(-(2**62), 2**62).map(lambda ns: pd.Timestamp(ns, unit="ns")),
            st.integers(-(2**62), 2**62).map(lambda ns: pd.Timestamp(ns, unit="ns", tz="US/Eastern")),
            st.integers(-(2**40), 2**40).map(lambda us: pd.Timestamp(us * 1000, unit="ns", tz="UTC")),
        ),
    ),
    "date_not_datetime": (TIMES, st.dates()),
    "ts_for_other": ([n for n in INPUTS if n not in TIMES], naive),
}
STRUCTURAL = ("missing_key", "extra_key")


@st.composite
def mutated_row(draw):
    base = dict(draw(st.sampled_from(churn_rows())))
    cats = draw(st.lists(st.sampled_from(sorted(CATEGORIES) + list(STRUCTURAL)), min_size=1, max_size=3))
    for cat in cats:
        if cat == "missing_key":
            base.pop(draw(st.sampled_from(sorted(INPUTS))), None)
        elif cat == "extra_key":
            key = draw(st.text(max_size=12).filter(lambda k: k not in INPUTS))
            base[key] = draw(st.none() | st.integers() | st.text(max_size=5) | st.floats())
        else:
            targets, values = CATEGORIES[cat]
            base[draw(st.sampled_from(targets))] = draw(values)
    return cats, base


def _check(fitted, rows, cats_per_row):
    served = []
    for row in rows:
        try:
            served.append(row_side(fitted, row))
        except Exception as exc:  # noqa: BLE001 - any other exception type is the failure we hunt
            pytest.fail(f"row path raised {type(exc).__name__}: {exc!r} for {row!r:.400}")
    batch = batch_side(fitted, rows)
    for row, cats, s, b in zip(rows, cats_per_row, served, batch):
        if isinstance(b, Raised) and not isinstance(b.exc, fk.ContractError):
            pytest.fail(f"batch path raised {b.summary()} for {cats}: {row!r:.400}")
        assert isinstance(s, Raised) == isinstance(b, Raised), (
            cats,
            "row" if isinstance(s, Raised) else "batch",
            (s.exc if isinstance(s, Raised) else b.exc),
            repr(row)[:400],
        )
        if isinstance(s, Raised):
            assert_contract_error(s.exc)
            assert_contract_error(b.exc)
            COUNTS["outcome: ContractError"] += 1
            continue
        assert_typed(fitted, s)
        assert_typed(
            fitted,
            {
                c: (
                    None
                    if isinstance(v, float) and math.isnan(v) and not fitted.output_types[c].startswith("float")
                    else v
                )
                for c, v in b.items()
            },
        )
        assert same_output(s, b) == [], (cats, same_output(s, b), repr(row)[:400])
        COUNTS["outcome: typed outputs"] += 1


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(st.lists(mutated_row(), min_size=1, max_size=4))
def test_malformed_rows_give_typed_outputs_or_a_contract_error_on_both_paths(examples):
    fitted = churn_fitted()
    for cats, _ in examples:
        for c in cats:
            COUNTS[c] += 1
    COUNTS["rows"] += len(examples)
    _check(fitted, [r for _, r in examples], [c for c, _ in examples])


@pytest.mark.parametrize("name", sorted(INPUTS))
@pytest.mark.parametrize(
    "value",
    [
        None,
        math.nan,
        "1",
        b"1",
        [1],
        {"a": 1},
        {1},
        decimal.Decimal("1.5"),
        True,
        2**64,
        math.inf,
        -math.inf,
        1e308,
        "x" * 100_000,
        "\ud800",
        dt.date(2026, 1, 1),
        dt.datetime(2026, 1, 1),
        dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=5))),
        "not a time",
        pd.Timestamp("2026-01-01T00:00:00.000000001Z"),
        np.int64(3),
        np.float32(1.5),
        np.bool_(True),
        object(),
    ],
    ids=lambda v: "object()" if type(v) is object else repr(v)[:60],
)  # stable ids across xdist workers
def test_every_input_times_every_hostile_value(name, value):
    """A deterministic grid on top of the fuzzing: 13 inputs x 24 hostile values."""
    row = dict(churn_rows()[0])
    row[name] = value
    COUNTS["grid"] += 1
    _check(churn_fitted(), [row], [["grid"]])


def test_an_absent_required_key_names_the_input():
    row = dict(churn_rows()[0])
    del row["tenure_days"]
    with pytest.raises(fk.ContractError) as info:
        churn_fitted().transform_row(row)
    assert_contract_error(info.value)
    assert "tenure_days" in str(info.value) and "nullable: false" in str(info.value)


@pytest.mark.parametrize("row", [None, [], "row", 3, [("tenure_days", 1)]], ids=repr)
def test_a_non_mapping_row_is_a_contract_error(row):
    with pytest.raises(fk.ContractError, match="Fix:"):
        churn_fitted().transform_row(row)


# ------------------------------------------------------------------ declared policies

POLICY_SPEC = """
featurekit: 1
name: policies
version: 1.0.0
inputs:
  clip_f: {type: float, min: 0, max: 100, on_violation: clip}
  clip_i: {type: int, min: -5, max: 5, on_violation: clip}
  null_f: {type: float, min: 0, on_violation: null}
  null_i: {type: int, max: 10, on_violation: null}
  def_i: {type: int, min: 0, max: 10, on_violation: default, default: 7}
  def_f: {type: float, nullable: false, on_violation: default, default: 2.5}
  def_c: {type: category, values: [a, b], on_violation: default, default: a}
  null_c: {type: category, values: [a, b], on_violation: null}
features:
  o_clip_f: clip_f
  o_clip_i: clip_i
  o_null_f: null_f
  o_null_i: null_i
  o_def_i: def_i
  o_def_f: def_f
  o_def_c: def_c
  o_null_c: null_c
"""
BOUNDS = {"clip_f": (0.0, 100.0), "clip_i": (-5, 5), "null_f": (0.0, None), "null_i": (None, 10), "def_i": (0, 10)}
DEFAULTS = {"def_i": 7, "def_f": 2.5, "def_c": "a"}
KIND = {
    "clip_f": "float",
    "clip_i": "int",
    "null_f": "float",
    "null_i": "int",
    "def_i": "int",
    "def_f": "float",
    "def_c": "category",
    "null_c": "category",
}
RAISE = object()


def expected(name: str, value):
    """The oracle: what the declared policy makes of ``value`` (RAISE when it must raise)."""
    kind = KIND[name]
    policy = name.split("_")[0]
    missing = value is None or (isinstance(value, float) and math.isnan(value))
    if missing:
        return DEFAULTS[name] if name == "def_f" else None
    if kind == "float":
        ok = type(value) is float or (type(value) is int and abs(value) <= 2**53)
        typed = float(value) if ok else None
    elif kind == "int":
        ok = (type(value) is int and -(2**63) <= value < 2**63) or (
            type(value) is float and math.isfinite(value) and value == int(value) and abs(value) <= 2**53
        )
        typed = int(value) if ok else None
    else:
        ok = type(value) is str and value in ("a", "b")
        typed = value if ok else None
        if type(value) is str:
            return value if ok else (DEFAULTS[name] if policy == "def" else None)
    if not ok:  # a type violation
        return {"clip": RAISE, "null": None, "def": DEFAULTS.get(name)}[policy]
    lo, hi = BOUNDS.get(name, (None, None))
    if lo is not None and typed < lo or hi is not None and typed > hi:
        return {"clip": lo if lo is not None and typed < lo else hi, "null": None, "def": DEFAULTS.get(name)}[policy]
    return typed


def _policy_value(name):
    kind = KIND[name]
    if kind == "category":
        return st.sampled_from(["a", "b", "c", "", "A", None]) | st.integers(0, 2) | st.binary(max_size=2)
    nums = st.floats() | st.integers(-20, 20) | st.integers() | st.none()
    return nums | st.booleans() | st.text(max_size=3) | st.sampled_from([math.inf, -math.inf, 2**63, 1e308, 0.5])


@pytest.fixture(scope="module")
def policies():
    return fk.spec_from_yaml(POLICY_SPEC).fit([{"clip_f": 1.0, "clip_i": 1, "def_f": 1.0}])


@settings(max_examples=250, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(st.lists(st.fixed_dictionaries({n: _policy_value(n) for n in KIND}), min_size=1, max_size=5))
def test_each_violation_gets_exactly_the_policy_replacement_on_both_paths(policies, rows):
    batch = batch_side(policies, rows)
    for row, b in zip(rows, batch):
        want = {f"o_{n}": expected(n, v) for n, v in row.items()}
        COUNTS["policy rows"] += 1
        COUNTS["policy values"] += len(row)
        if any(w is RAISE for w in want.values()):
            with pytest.raises(fk.ContractError) as info:
                policies.transform_row(row)
            assert_contract_error(info.value)
            assert isinstance(b, Raised) and isinstance(b.exc, fk.ContractError), (row, b)
            continue
        got = policies.transform_row(row)
        assert not isinstance(b, Raised), (row, b.exc)
        for col, w in want.items():
            for side, out in (("row", got), ("batch", b)):
                v = out[col]
                if isinstance(v, float) and math.isnan(v):
                    v = None
                assert type(v) is type(w) and v == w, (side, col, row[col[2:]], w, v)


@pytest.fixture(scope="session", autouse=True)
def _print_counts():
    yield
    if COUNTS:
        print("\n\nreliability: cases tried per category")
        for cat, n in sorted(COUNTS.items()):
            print(f"  {cat:28s} {n:7d}")
