"""The batch path's column: values plus an explicit null mask.

``values`` is a numpy array (int64, float64, bool; timestamps as int64 microseconds) or a
pyarrow ``large_string`` array for text. ``null`` is a boolean numpy array (True = null) or
None when nothing is null. Values at null positions are unspecified: every batch kernel must
accept whatever is there without raising, and the mask decides.

>>> import numpy as np
>>> col = Column(np.array([1.0, 2.0]), np.array([False, True]))
>>> len(col), any_null(col), union_null(None, col.null, np.array([True, False])).tolist()
(2, True, [True, True])
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np


@dataclasses.dataclass(frozen=True, slots=True)
class Column:
    """One column of the batch path (see the module docstring)."""

    values: Any
    null: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.values)


def union_null(*masks: np.ndarray | None) -> np.ndarray | None:
    """OR of the masks that exist; None when none does."""
    present = [m for m in masks if m is not None]
    if not present:
        return None
    out = present[0]
    for m in present[1:]:
        out = out | m
    return out


def any_null(col: Column) -> bool:
    """Whether any position of ``col`` is null."""
    return col.null is not None and bool(col.null.any())
