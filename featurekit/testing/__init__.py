"""Conformance-testing helpers: Hypothesis strategies and batch/row parity checks.

``featurekit.testing.strategies`` needs ``hypothesis`` (the ``test`` extra);
``featurekit.testing.checks`` runs the per-op conformance checks used by
``tests/test_all_ops.py``.
"""
