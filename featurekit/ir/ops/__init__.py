"""Built-in ops, grouped by domain. Importing this package registers them all.

To add an op: pick the domain module, write one ``register(Op(...))`` entry with its doc
(null rule, dtype rule, formula, empty-fit behaviour, tolerance), its batch and row
implementations and ``test_params``. Tolerance is always exact: library math in the batch
path calls the row path's scalar helper through ``_util.map_floats``, never a numpy ufunc
whose SIMD kernel may differ from the C library by 1 ULP; add ``tests/ops/<name>_test.py`` for hand-picked cases.
The conformance suite (``featurekit.testing.checks``) covers it automatically.
"""

from featurekit.ir.ops import categorical, custom, logic, numeric, strings, temporal  # noqa: F401
