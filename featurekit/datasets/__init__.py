"""Synthetic datasets for featurekit's examples, tests and benchmarks.

Examples
--------
>>> from featurekit.datasets import make_churn, to_rows
>>> rows = to_rows(make_churn(10, seed=0))
>>> len(rows)
10
"""

from featurekit.datasets.churn import make_churn, to_rows

__all__ = ["make_churn", "to_rows"]
