"""Skew reports: compare logged serving traffic with the training baseline and the batch path.

>>> report = skew_report(fitted, "logs/*.jsonl")        # doctest: +SKIP
>>> print(report.to_text())                              # doctest: +SKIP

The pieces, in the order a report uses them: :mod:`~featurekit.skew.reading` (logs -> blocks of
records), :mod:`~featurekit.skew.serving` (blocks -> column statistics, the same analyzer as the
training baseline), :mod:`~featurekit.skew.metrics` (the metrics table -> findings),
:mod:`~featurekit.skew.remedies` (what to do), :mod:`~featurekit.skew.recheck` (the batch path on
sampled records), :mod:`~featurekit.skew.api` (the driver) and :mod:`~featurekit.skew.report`
(the report and its formats). See docs/skew.md for the checks, the sample-size rule of the
thresholds and the remedies.
"""

from __future__ import annotations

from featurekit.serving_log import SkewInputError
from featurekit.skew.api import read_log, skew_report
from featurekit.skew.metrics import DEFAULT_THRESHOLDS, load_thresholds
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
