"""The conformance suite: every registered op, every test configuration, every check.

For each op in ``featurekit.registry.all_ops()``, each of its ``test_params`` and each
argument-type combination it accepts, the checks in ``featurekit.testing.checks`` compare
the batch path with the row path on Hypothesis-generated rows (edge cases included) and
check fitting properties; op-level checks cover parameter errors and documentation.
"""

from __future__ import annotations

import pytest

from featurekit.testing.checks import parametrize_with_op_checks, run_check


@pytest.mark.parametrize("check, op, params, types", list(parametrize_with_op_checks()))
def test_op_conformance(check, op, params, types):
    run_check(check, op, params, types)
