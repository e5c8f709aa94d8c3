"""Skew reports: compare logged serving traffic with the training baseline and the batch path.

>>> report = skew_report(fitted, "logs/*.jsonl")        # doctest: +SKIP
>>> print(report.to_text())                              # doctest: +SKIP

See docs/skew.md for the checks, the sample-size rule of the thresholds and the remedies.
"""

from __future__ import annotations

from featurekit.skew.checks import DEFAULT_THRESHOLDS, SkewInputError, load_thresholds, read_log, skew_report
from featurekit.skew.report import SCHEMA_VERSION, Finding, SkewReport

__all__ = [
    "DEFAULT_THRESHOLDS",
    "SCHEMA_VERSION",
    "Finding",
    "SkewInputError",
    "SkewReport",
    "load_thresholds",
    "read_log",
    "skew_report",
]
