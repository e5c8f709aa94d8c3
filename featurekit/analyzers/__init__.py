"""Analyzers: statistics as exact, mergeable combiners (create / update / merge / finalize).

Every analyzer here has ``exact_merge = True``: fitting on one frame, on chunks in sequence,
or on partitions merged in any tree shape gives bit-identical finalized state.  The bounded
ones (:mod:`~featurekit.analyzers.sketch` quantiles within a declared relative error,
:mod:`~featurekit.analyzers.topk` counts of the heaviest values) approximate the statistic,
not the merge: their state is as partition-invariant as the exact ones'.
See :mod:`featurekit.analyzers.base` for the protocol.
"""

from featurekit.analyzers.base import Analyzer
from featurekit.analyzers.columns import ColumnStats
from featurekit.analyzers.counts import ValueCounts, ValueCountsAcc, mode, vocabulary
from featurekit.analyzers.extrema import MinMax, MinMaxAcc
from featurekit.analyzers.moments import MeanVar, MomentsAcc
from featurekit.analyzers.quantiles import Median, Quantiles, SortedCountsAcc
from featurekit.analyzers.sketch import ApproxMedian, ApproxQuantiles, SketchAcc
from featurekit.analyzers.topk import BoundedValueCounts, TopCounts

__all__ = [
    "Analyzer",
    "ColumnStats",
    "MeanVar",
    "MomentsAcc",
    "Quantiles",
    "Median",
    "SortedCountsAcc",
    "ApproxQuantiles",
    "ApproxMedian",
    "SketchAcc",
    "BoundedValueCounts",
    "TopCounts",
    "MinMax",
    "MinMaxAcc",
    "ValueCounts",
    "ValueCountsAcc",
    "vocabulary",
    "mode",
]
