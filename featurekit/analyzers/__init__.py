"""Analyzers: statistics as exact, mergeable combiners (create / update / merge / finalize).

Every analyzer here has ``exact_merge = True``: fitting on one frame, on chunks in sequence,
or on partitions merged in any tree shape gives bit-identical finalized state.
See :mod:`featurekit.analyzers.base` for the protocol.
"""

from featurekit.analyzers.base import Analyzer
from featurekit.analyzers.counts import ValueCounts, ValueCountsAcc, mode, vocabulary
from featurekit.analyzers.extrema import MinMax, MinMaxAcc
from featurekit.analyzers.moments import MeanVar, MomentsAcc
from featurekit.analyzers.quantiles import Median, Quantiles, SortedCountsAcc

__all__ = [
    "Analyzer",
    "MeanVar",
    "MomentsAcc",
    "Quantiles",
    "Median",
    "SortedCountsAcc",
    "MinMax",
    "MinMaxAcc",
    "ValueCounts",
    "ValueCountsAcc",
    "vocabulary",
    "mode",
]
