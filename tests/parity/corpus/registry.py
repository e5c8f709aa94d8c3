"""Every corpus pair, by category module (one ``pairs_<category>.py`` per category).

>>> len(PAIRS) >= 50 and len({p.name for p in PAIRS}) == len(PAIRS)
True
"""

from __future__ import annotations

from . import (
    pairs_buckets,
    pairs_categorical,
    pairs_coercion,
    pairs_division,
    pairs_floats,
    pairs_hashing,
    pairs_integers,
    pairs_nulls,
    pairs_ordering,
    pairs_rounding,
    pairs_strings,
    pairs_time,
)
from .pair import CATEGORIES, Pair

_MODULES = (
    pairs_nulls,
    pairs_strings,
    pairs_rounding,
    pairs_buckets,
    pairs_categorical,
    pairs_time,
    pairs_integers,
    pairs_floats,
    pairs_division,
    pairs_hashing,
    pairs_coercion,
    pairs_ordering,
)

PAIRS: list[Pair] = [pair for module in _MODULES for pair in module.PAIRS]

__all__ = ["CATEGORIES", "PAIRS", "Pair"]
