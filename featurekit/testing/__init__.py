"""Conformance-testing helpers: Hypothesis strategies and batch/row parity checks.

``featurekit.testing.strategies`` needs ``hypothesis`` (the ``test`` extra);
``featurekit.testing.checks`` runs the per-op conformance checks used by
``tests/test_all_ops.py``. The udf op's conformance cases call ``featurekit_test_scale``:
register it first with :func:`register_test_udf` (the test suite's ``conftest.py`` does).
Importing this package registers nothing.
"""

from __future__ import annotations

from typing import Any

from featurekit.udf import register_udf


def featurekit_test_scale(x: float) -> float:
    return x * 2.0 - 1.0


def featurekit_test_scale_vectorized(x: Any) -> Any:  # a float column (numpy or pyarrow)
    return x * 2.0 - 1.0


def register_test_udf() -> None:
    """Register ``featurekit_test_scale`` (``2x - 1``, scalar and vectorized), for the udf op's cases.

    Idempotent: registering the same function again is allowed.
    """
    register_udf(featurekit_test_scale, dtype="float", args=["float"], vectorized=featurekit_test_scale_vectorized)
