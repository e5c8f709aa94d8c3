"""The one equality policy: strict (featurekit's own paths) and value (foreign code)."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest

from featurekit.errors import ContractError
from featurekit.values.equality import KINDS, MISSING, STRICT, Equality, Raised, ulp_distance

VALUE = Equality(mode="value")
T = dt.datetime(2026, 1, 5, 10, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("a", "b", "strict", "value"),
    [
        (1, 1, None, None),
        (1, 1.0, "type", None),
        (2**60 + 1, float(2**60), "type", "value"),
        (True, 1, "type", "type"),
        (True, 1.0, "type", "type"),
        (0.0, -0.0, "value", None),
        (math.nan, math.nan, None, None),
        (None, math.nan, "null_vs_nan", None),
        (math.nan, None, "null_vs_nan", None),
        (None, 1.0, "null", "null"),
        (None, None, None, None),
        (None, pd.NaT, "null", None),
        (pd.NA, None, "null", None),
        (np.float64(math.nan), None, "null_vs_nan", None),
        (1.0, 1.0 + 2**-52, "value", "value"),
        (math.inf, math.inf, None, None),
        (math.inf, -math.inf, "value", "value"),
        ("a", "a", None, None),
        ("a", "A", "value", "value"),
        ("1", 1, "type", "type"),
        (np.int64(3), 3, "type", None),
        (np.float64(2.5), 2.5, "type", None),  # strict: a numpy scalar is not a Python float
        (T, pd.Timestamp(T), "type", None),
        (T, T.replace(hour=11), "value", "value"),
        (b"x", b"x", None, None),
        (MISSING, MISSING, None, None),
        (MISSING, 1, "missing", "missing"),
        (1, MISSING, "missing", "missing"),
    ],
)
def test_kinds(a, b, strict, value):
    assert STRICT.mismatch(a, b) == strict
    assert VALUE.mismatch(a, b) == value
    assert {STRICT.mismatch(a, b), VALUE.mismatch(a, b)} <= {None, *KINDS}


def test_raised_sides():
    refused, refused2, crashed = Raised(ContractError("no")), Raised(ContractError("no")), Raised(KeyError("k"))
    for policy in (STRICT, VALUE):
        assert policy.mismatch(refused, refused2) is None
        assert policy.mismatch(refused, crashed) == "raises"
        assert policy.mismatch(crashed, crashed) == "raises"
        assert policy.mismatch(1.0, refused) == "raises"
        assert policy.mismatch(refused, MISSING) == "raises"


def test_tolerances():
    nxt = math.nextafter(1.0, 2.0)
    assert Equality(ulps=1).same(1.0, nxt) and not Equality(ulps=1).same(1.0, math.nextafter(nxt, 2.0))
    assert Equality(ulps=4).mismatch(-0.0, 0.0) is None  # 0 ULPs apart, but not bit-identical
    assert Equality(rtol=1e-9).same(1e6, 1e6 + 1e-4) and not Equality(rtol=1e-12).same(1e6, 1e6 + 1e-4)
    assert Equality(atol=0.5).same(1.0, 1.4) and not Equality(atol=0.5).same(1.0, 1.6)
    assert not Equality(atol=1e300).same(math.inf, 1.0)
    assert Equality(mode="value", atol=0.5).same(1, 1.4)
    assert Equality(mode="value", ulps=1).mismatch(2**1100, 1.0) == "value"
    assert ulp_distance(-5e-324, 5e-324) == 2


def test_bad_policies_are_refused():
    with pytest.raises(ValueError, match="mode"):
        Equality(mode="loose")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="negative"):
        Equality(ulps=-1)
