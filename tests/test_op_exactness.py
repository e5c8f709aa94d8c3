"""Every built-in op: batch equals row bit for bit on at least 100,000 generated inputs.

The Hypothesis conformance suite (``test_all_ops.py``) explores small shrinkable cases; this
one replays volume: seeded bulk rows (:mod:`featurekit.testing.bulk`) mixing the edge
catalogues with random float64 bit patterns (subnormal to huge, NaN), values one ULP around
integers and halves, log-normal magnitudes of both signs, ints of every magnitude, tricky text
and instants in many time zones. An op's 100,000 rows are split over its (params, types)
cases. Nothing here compares numpy's SIMD math with ``math``: both paths of every op must
produce the same bits whatever the CPU, because both call the same scalar function.
"""

from __future__ import annotations

import zlib

import pytest

from featurekit import registry
from featurekit.testing.checks import _case_count, check_bulk_exactness, describe_case, type_combos

ROWS_PER_OP = 100_000


def _cases():
    for op in registry.all_ops():
        n = -(-ROWS_PER_OP // _case_count(op))
        for params in op.test_params:
            for types in type_combos(op, dict(params)):
                yield pytest.param(op, dict(params), types, n, id=describe_case(op, dict(params), types))


@pytest.mark.parametrize("op, params, types, n", list(_cases()))
def test_batch_equals_row_bit_for_bit_on_bulk_inputs(op, params, types, n):
    check_bulk_exactness(op, params, types, n, seed=zlib.crc32(describe_case(op, params, types).encode()))
