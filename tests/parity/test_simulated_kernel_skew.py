"""A library-math kernel that is 1 ULP off on a few inputs is caught and attributed to its op.

That is what numpy's SIMD ``log1p`` does against the C library on AVX-512 CPUs. The batch path
no longer uses it, so nothing here depends on the machine: the test *simulates* such a kernel
by patching the registered ``log1p`` batch implementation, on every CPU alike, and checks that
the parity tester reports it with zero tolerance and names ``log1p`` — not the ``zscore`` or
``bucketize`` downstream that amplifies or rounds the difference — as where it starts.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pytest

import featurekit as fk
from featurekit import parity, registry
from featurekit.datasets import to_rows
from featurekit.parity.divergence import first_divergent_op
from featurekit.testing.checks import check_bulk_exactness
from featurekit.types import DType

SPEC = {
    "featurekit": 1,
    "name": "lognormal",
    "version": "1.0.0",
    "inputs": {"x": {"type": "float", "nullable": True}},
    "features": {
        "lx": "log1p(x)",
        "b": "bucketize(log1p(x), quantiles=[10, 20, 30, 40, 50, 60, 70, 80, 90])",
        "z": "zscore(log1p(x))",
    },
}


def _data(n: int, seed: int) -> pd.DataFrame:
    return pd.DataFrame({"x": np.random.default_rng(seed).lognormal(3.0, 1.0, n)})


@pytest.fixture
def one_ulp_off_log1p(monkeypatch):
    """Patch the registered log1p batch kernel: 1 ULP up wherever the exact result's bits are a
    multiple of 5 (about a fifth of the inputs, like a SIMD kernel's scattered misses)."""
    exact_op = registry.get("log1p")

    def skewed(args, p, s):
        exact = exact_op.batch(args, p, s)
        hit = (exact.view(np.int64) % 5 == 0) & np.isfinite(exact) & (exact != 0.0)
        return np.where(hit, np.nextafter(exact, np.inf), exact)

    monkeypatch.setitem(registry._REGISTRY, "log1p", dataclasses.replace(exact_op, batch=skewed))


def test_the_exact_paths_agree_on_the_amplifying_spec():
    fitted = fk.spec_from_dict(SPEC).fit(_data(5_000, seed=1))
    report = parity.check(fitted, _data(20_000, seed=2), fuzz=2_000)
    assert report.ok, report.to_text(color=False)
    assert report.rows >= 22_000 and len(report.columns) == 3


def test_parity_check_catches_a_one_ulp_kernel_and_names_log1p(one_ulp_off_log1p):
    fitted = fk.spec_from_dict(SPEC).fit(_data(5_000, seed=1))
    report = parity.check(fitted, _data(2_000, seed=2), fuzz=200)
    failing = {c.column: c for c in report.failing}
    assert {"lx", "z"} <= set(failing), report.to_text(color=False)
    assert failing["lx"].worst_difference > 0 and failing["lx"].tolerance["ulps"] == 0
    divergent = [e.first_divergent_op for c in failing.values() for e in c.examples if e.first_divergent_op]
    assert divergent and all(d.startswith("log1p()") for d in divergent), divergent


def test_first_divergent_op_is_the_origin_not_the_amplifier(one_ulp_off_log1p):
    fitted = fk.spec_from_dict(SPEC).fit(_data(5_000, seed=1))
    rows = to_rows(_data(300, seed=3))
    differing = [r for r in rows if fitted.transform_row(r)["z"] != fitted.transform(pd.DataFrame([r]))["z"][0]]
    assert differing, "the simulated kernel changed no z value"
    for row in differing[:5]:
        assert first_divergent_op(fitted, row, "z").startswith("log1p() in feature 'z'")


def test_first_divergent_op_is_none_when_the_paths_agree():
    fitted = fk.spec_from_dict(SPEC).fit(_data(5_000, seed=1))
    for row in to_rows(_data(50, seed=3)):
        assert first_divergent_op(fitted, row, "z") is None


def test_bulk_exactness_check_catches_the_kernel(one_ulp_off_log1p):
    with pytest.raises(AssertionError, match=r"log1p\(\)\[float\] check_bulk_exactness: .*tolerance 0 ULP"):
        check_bulk_exactness(registry.get("log1p"), {}, (DType.FLOAT,), 5_000)
