"""Values that used to give batch != row (issue 17 items 5, 13, 14).

* 5: instances of str/int/float subclasses (``class Plan(str, Enum)``, a ``__str__`` that
  returns a non-str, overridden ``__int__``/``__float__``/``__ne__``) count as their plain
  content on both paths.
* 13: every non-finite number a spec may hold reaches the generated row source as a safe
  name, for every registered op and parameter (or the spec is refused).
* 14: a timestamp output outside years 1-9999 UTC raises a ContractError naming the feature on
  both paths; calendar fields of the same instant keep working.
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
import math

import numpy as np
import pandas as pd
import pytest

import featurekit as fk
from featurekit import registry
from featurekit.parity.running import run_fitted_batch
from featurekit.testing import strategies as fks
from featurekit.testing.checks import _both_paths, build_spec, compare_outputs, describe_case, type_combos
from featurekit.values.equality import Raised

from ._common import same_output


class Plan(str, enum.Enum):
    FREE = "free"
    PRO = "pro"


class Level(enum.IntEnum):
    LOW = 2


class Shouty(str):
    def __str__(self):  # noqa: PLE0307 - the point: a __str__ that breaks str()
        return 5

    def isascii(self):
        return False

    def encode(self, *args, **kwargs):
        raise UnicodeEncodeError("utf-8", "", 0, 1, "overridden")


class Liar(int):
    def __int__(self):
        return 99

    def __index__(self):
        return 98

    def __eq__(self, other):
        return False

    __hash__ = int.__hash__

    def __lt__(self, other):
        return True

    def __float__(self):
        return 0.5


class Floaty(float):
    def __float__(self):
        return 9.0

    def __ne__(self, other):
        return True

    def __lt__(self, other):
        return True


SPEC = """
featurekit: 1
name: subclasses
version: 1.0.0
inputs:
  plan: {type: category}
  tier: {type: category, values: [free, pro], on_violation: 'null'}
  n: {type: int, min: 0, max: 10}
  x: {type: float, min: 0}
  nf: {type: float}
features:
  plan_idx: vocab(plan)
  plan_len: length(plan)
  plan_hash: hash_bucket(plan, 97)
  plan_is_free: plan == "free"
  tier_out: tier
  n_out: n
  n_text: hash_bucket(to_str(n), 1000)
  x_out: x
  nf_out: nf
"""


@pytest.fixture(scope="module")
def fitted():
    return fk.spec_from_yaml(SPEC).fit(
        pd.DataFrame(
            {
                "plan": ["free", "pro", "free"],
                "tier": ["free", "pro", None],
                "n": [1, 2, 3],
                "x": [0.5, 1.5, 2.5],
                "nf": [1.0, 2.0, 3.0],
            }
        )
    )


def both_paths(fitted, rows):
    batch = run_fitted_batch(fitted, rows)
    for row, b in zip(rows, batch):
        r = fitted.transform_row(row)
        assert not isinstance(b, Raised), (row, b.summary())
        assert not same_output(r, b), (row, r, b)
    return batch


def test_str_enum_members_count_as_their_value_on_both_paths(fitted):
    rows = [
        {"plan": Plan.FREE, "tier": Plan.PRO, "n": 1, "x": 1.0, "nf": 1.0},
        {"plan": np.str_("pro"), "tier": Plan.FREE, "n": 2, "x": 2.0, "nf": 2.0},
    ]
    out = both_paths(fitted, rows)
    assert out[0]["plan_idx"] == fitted.transform_row({"plan": "free"})["plan_idx"]
    assert out[0]["plan_len"] == 4 and out[0]["plan_is_free"] is True and out[0]["tier_out"] == "pro"
    assert type(fitted.transform_row(rows[0])["tier_out"]) is str


def test_a_str_subclass_whose_methods_lie_is_read_by_its_content(fitted):
    row = {"plan": Shouty("free"), "tier": Shouty("pro"), "n": 1, "x": 1.0, "nf": 1.0}
    out = both_paths(fitted, [row])
    assert out[0]["plan_len"] == 4 and out[0]["tier_out"] == "pro"


def test_int_and_float_subclasses_count_as_their_value_on_both_paths(fitted):
    rows = [
        {"plan": "free", "tier": "free", "n": Liar(3), "x": Floaty(1.5), "nf": Floaty(float("nan"))},
        {"plan": "free", "tier": "free", "n": Level.LOW, "x": Level.LOW, "nf": np.float64(2.5)},
        {"plan": "free", "tier": "free", "n": Liar(11), "x": Floaty(-1.0), "nf": Floaty(1.0)},
    ]
    out = both_paths(fitted, rows[:2])
    assert out[0]["n_out"] == 3 and type(out[0]["n_out"]) is int and out[0]["x_out"] == 1.5
    assert math.isnan(fitted.transform_row(rows[0])["nf_out"])  # a NaN float subclass is missing
    assert out[1]["n_out"] == 2 and out[1]["x_out"] == 2.0
    with pytest.raises(fk.ContractError, match="input 'n' = 11"):  # its own __lt__ claims it is in range
        fitted.transform_row(rows[2])
    with pytest.raises(fk.ContractError, match="input 'n' violates range"):
        fitted.transform(pd.DataFrame({k: pd.Series([v], dtype=object) for k, v in rows[2].items()}))


def test_subclass_values_in_a_dsl_spec_become_plain_values():
    from featurekit import dsl

    spec = dsl.spec(
        "t",
        "1.0.0",
        inputs={"p": dsl.input("category", values=[Plan.FREE, Plan.PRO], on_violation="default", default=Plan.PRO)},
        features={"is_free": dsl.col("p") == Plan.FREE, "big": dsl.to_int(dsl.col("p") == "pro") + Level.LOW},
        constants={"K": np.float64(2.5)},
    )
    assert spec.inputs[0].values == ("free", "pro") and type(spec.inputs[0].default) is str
    assert type(spec.constants[0].value) is float
    fitted = spec.fit([{"p": "free"}])
    assert fitted.transform_row({"p": "x"}) == {"is_free": False, "big": 3}
    assert fk.spec_from_yaml(spec.to_yaml()).fingerprint == spec.fingerprint


# ------------------------------------------------------------------ 13: every op, non-finite params

_NON_FINITE = (math.inf, -math.inf)
_ROW_VALUES = {
    "float": [1.0, -2.5, 0.0, -0.0, math.inf, -math.inf, math.nan, None, 1e308, 3.0],
    "int": [0, 1, -7, 2**53 + 1, None, 10, 3, -(2**63), 2**63 - 1, 5],
    "bool": [True, False, None, True, False, True, None, False, True, True],
    "str": ["a", "free", "", "ß", None, "pro", "2026-01-01", "1.5", "b", "x"],
    "timestamp": [fks.TS_EDGES[i] for i in range(9)] + [None],
}


def _non_finite_cases():
    for op in registry.all_ops():
        for params in op.test_params:
            for name, param in op.params.items():
                if param.kind not in ("number", "numbers", "scalar", "scalars"):
                    continue
                for value in _NON_FINITE:
                    bad = dict(params)
                    bad[name] = [value] if param.kind in ("numbers", "scalars") else value
                    yield pytest.param(op.name, bad, id=f"{op.name}({name}={bad[name]!r})")


@pytest.mark.parametrize("op_name, params", list(_non_finite_cases()))
def test_a_non_finite_parameter_is_refused_or_gives_working_row_code(op_name, params):
    op = registry.get(op_name)
    try:
        combos = type_combos(op, params)
    except fk.SpecError:
        return  # refused at validation for every argument type: fine
    for types in combos:
        spec = build_spec(op, params, types)
        names = fks.input_names(types)
        rows = [dict(zip(names, vals)) for vals in zip(*(_ROW_VALUES[t.value] for t in types))]
        fitted = spec.fit(fks.frame_from_rows(rows, types))
        batch, row_out = _both_paths(fitted, rows, types)
        compare_outputs(
            describe_case(op, params, types), "non_finite_params", rows, batch, row_out, 0
        )  # every built-in op is bit-exact


def test_a_generated_source_that_reads_an_undefined_name_is_refused_at_compile_time():
    from featurekit.compile.row import _check_defined

    _check_defined("def transform_row(row, /, log=None):\n    return _NAN + len(row)\n", "<t>", {"_NAN": 0.0})
    with pytest.raises(RuntimeError, match=r"reads undefined name\(s\) \['nan'\]"):
        _check_defined("def transform_row(row, /, log=None):\n    return nan\n", "<t>", {"_NAN": 0.0})


# ------------------------------------------------------------------ 14: timestamp outputs beyond year 9999

TS_SPEC = """
featurekit: 1
name: far
version: 1.0.0
inputs: {t: {type: timestamp}, s: {type: str}}
features:
  out: t
  parsed: parse_timestamp(s)
  y: year(t)
"""


@pytest.mark.parametrize(
    "column, row",
    [
        ("out", {"t": "9999-12-31T23:59:59-23:59", "s": "2020-01-01"}),
        ("out", {"t": dt.datetime(1, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=1))), "s": "2020-01-01"}),
        ("parsed", {"t": "2020-01-01T00:00:00Z", "s": "9999-12-31T23:00:00-05:00"}),
    ],
)
def test_a_timestamp_output_beyond_datetime_raises_naming_the_feature_on_both_paths(column, row):
    fitted = fk.spec_from_yaml(TS_SPEC).fit([{"t": "2020-01-01T00:00:00Z", "s": "2020-01-01"}])
    with pytest.raises(
        fk.ContractError,
        match=rf"transform_row: feature '{column}' is a timestamp outside years "
        r"1-9999 UTC",
    ) as row_error:
        fitted.transform_row(row)
    frame = pd.DataFrame({k: pd.Series([v], dtype=object) for k, v in row.items()})
    with pytest.raises(
        fk.ContractError,
        match=rf"transform: feature '{column}' is a timestamp outside years 1-9999 "
        r"UTC in 1 row\(s\) \(positions 0\)",
    ) as batch_error:
        fitted.transform(frame)
    assert row_error.value.feature == batch_error.value.feature == column
    assert "Fix:" in str(row_error.value)


def test_the_parity_runner_sees_both_paths_refuse_only_the_far_row():
    fitted = fk.spec_from_yaml(TS_SPEC).fit([{"t": "2020-01-01T00:00:00Z", "s": "2020-01-01"}])
    rows = [{"t": "2020-06-01T00:00:00Z", "s": "x"}, {"t": "9999-12-31T23:59:59-23:59", "s": "x"}]
    batch = run_fitted_batch(fitted, rows)
    assert not isinstance(batch[0], Raised) and isinstance(batch[1], Raised)
    assert batch[1].exc.feature == "out"
    assert fitted.transform_row({**rows[1]} | {"t": None})["y"] is None
    only_year = fk.spec_from_yaml(TS_SPEC.replace("  out: t\n  parsed: parse_timestamp(s)\n", "")).fit(rows[:1])
    assert only_year.transform_row(rows[1]) == {"y": 10000}  # calendar fields of the instant still work


def test_rows_and_frames_of_timestamps_in_range_are_unchanged():
    fitted = fk.spec_from_yaml(TS_SPEC).fit([{"t": "2020-01-01T00:00:00Z", "s": "2020-01-01"}])
    rows = [
        {"t": t, "s": s}
        for t, s in itertools.product(
            ["9999-12-31T23:59:59.999999Z", "0001-01-01T00:00:00Z", None], ["0001-01-01", "9999-12-31T23:59:59", "x"]
        )
    ]
    both_paths(fitted, rows)


def test_constant_arguments_compile_without_warnings_even_when_warnings_are_errors():
    """Found by the fuzz run: ``is_null(5)`` generated ``(5 is None)``, a SyntaxWarning that
    ``-W error`` turns into a SyntaxError at compile time."""
    import warnings

    spec = fk.spec_from_yaml(
        "featurekit: 1\nname: t\nversion: 1.0.0\ninputs: {x: float}\nfeatures:\n"
        "  a: is_null(5)\n  b: vocab('a', num_oov_buckets=2)\n  c: coalesce(x, 1.0)\n"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fitted = spec.fit([{"x": 1.0}], baseline=False)
    assert fitted.transform_row({}) == {"a": False, "b": 0, "c": 1.0}
