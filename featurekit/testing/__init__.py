"""Conformance-testing helpers: Hypothesis strategies and batch/row parity checks.

``featurekit.testing.strategies`` needs ``hypothesis`` (the ``test`` extra);
``featurekit.testing.checks`` runs the per-op conformance checks used by
``tests/test_all_ops.py``.
"""


def _register_test_udf() -> None:
    """A UDF with a scalar and a vectorized implementation, for the udf op's conformance cases."""
    from featurekit.udf import register_udf

    def featurekit_test_scale(x: float) -> float:
        return x * 2.0 - 1.0

    def featurekit_test_scale_vectorized(x):  # type: ignore[no-untyped-def]
        return x * 2.0 - 1.0

    register_udf(featurekit_test_scale, dtype="float", args=["float"], vectorized=featurekit_test_scale_vectorized)


_register_test_udf()
