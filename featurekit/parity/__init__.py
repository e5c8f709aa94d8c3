"""Parity: prove that the batch path and the row path give the same features.

This module holds the comparison both the conformance suite and ``make demo`` use:
:func:`check_paths` runs the same rows through ``transform`` and ``transform_row`` and
reports every cell that differs. Floats are compared bit for bit, except that a column whose
feature uses library math with a declared ULP tolerance may differ by that many ULPs. NaN
equals NaN; None vs NaN, and a type difference (int 1 vs float 1.0), are mismatches.
"""

from __future__ import annotations

from featurekit.parity.compare import Mismatch, ParityResult, check_paths, column_tolerances, same_value
from featurekit.parity.report import ParityReport
from featurekit.parity.runner import Tolerance, assert_parity, check, compare, replay

__all__ = [
    "Mismatch",
    "ParityReport",
    "ParityResult",
    "Tolerance",
    "assert_parity",
    "check",
    "check_paths",
    "column_tolerances",
    "compare",
    "replay",
    "same_value",
]
