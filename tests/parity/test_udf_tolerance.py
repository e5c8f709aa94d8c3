"""Built-in ops have no tolerance; a custom function may declare one, and only it."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import featurekit as fk
from featurekit import parity, registry
from featurekit.parity.tolerance import column_tolerances


def test_no_registered_op_declares_a_tolerance():
    assert all(not hasattr(op, "tolerance") for op in registry.all_ops())


def _log(x: float) -> float:
    return math.log(x)


def _log_vectorized(x: np.ndarray) -> np.ndarray:
    return np.log(x)  # numpy's kernel: may differ from math.log by 1 ULP on some CPUs


def test_a_udf_declares_its_own_ulps_and_only_its_feature_gets_them():
    fk.register_udf(_log, dtype="float", args=["float"], name="tol_test_log", vectorized=_log_vectorized, ulps=2)
    spec = fk.spec_from_dict(
        {
            "featurekit": 1,
            "name": "udf_tol",
            "version": "1.0.0",
            "inputs": {"x": {"type": "float"}},
            "features": {"custom": 'udf(x, fn="tol_test_log")', "builtin": "log(x)"},
        }
    )
    fitted = spec.fit(pd.DataFrame({"x": [1.5, 2.5, 3.5]}))
    assert column_tolerances(fitted) == {"custom": 2, "builtin": 0}
    report = parity.check(fitted, pd.DataFrame({"x": np.linspace(0.1, 100.0, 5_000)}), edges=False)
    assert {c.column: c.tolerance["ulps"] for c in report.columns} == {"custom": 2, "builtin": 0}
    assert report.ok, report.to_text(color=False)


@pytest.mark.parametrize("bad", [-1, 1.5, True, "2"])
def test_udf_ulps_must_be_a_non_negative_int(bad):
    with pytest.raises(ValueError, match="ulps must be an int >= 0"):
        fk.register_udf(_log, dtype="float", args=["float"], name="tol_test_bad", ulps=bad)
