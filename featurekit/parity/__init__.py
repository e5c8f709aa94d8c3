"""Parity: prove that two implementations of the same features give the same values.

Every entry point returns a :class:`ParityReport`: :func:`check` (the two compiled paths of a
fitted spec), :func:`compare` (any batch callable against any row callable), :func:`replay`
(logged serving records against the batch path) and :func:`assert_parity` (for pytest). Cells
are compared with :class:`~featurekit.values.equality.Equality`: by default strictly (floats
bit for bit, except a declared ULP tolerance; NaN equals NaN; None vs NaN, and a type
difference such as int 1 vs float 1.0, are mismatches), or by value (``equality="value"``, the default of ``compare``).

The submodules, one idea each: :mod:`~featurekit.parity.generation` (edge rows),
:mod:`~featurekit.parity.running` (running each side), :mod:`~featurekit.parity.tolerance`
(the policy per column), :mod:`~featurekit.parity.shrinking` (minimal reproducers),
:mod:`~featurekit.parity.divergence` (the first divergent op), :mod:`~featurekit.parity.report`
(the report) and :mod:`~featurekit.parity.api` (the entry points).
"""

from __future__ import annotations

from featurekit.parity.api import assert_parity, check, compare, replay
from featurekit.parity.report import ParityReport
from featurekit.parity.tolerance import column_tolerances
from featurekit.values.equality import Equality

__all__ = ["Equality", "ParityReport", "assert_parity", "check", "column_tolerances", "compare", "replay"]
