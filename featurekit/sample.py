"""The training sample a fit keeps: a small systematic sample of the input rows it saw.

``save`` records these rows, with the row path's outputs, as the artifact's golden vectors
(:mod:`featurekit.artifact.golden`). The sample is the rows at positions ``0, s, 2s, ...`` of
the training data, where the step ``s`` is the smallest power of two that keeps at most
``limit`` rows (between ``limit/2`` and ``limit`` of them once there are more than ``limit``).
It depends only on the rows and their order: one DataFrame and the same rows in chunks of any
size give the same sample, taken as the chunks stream by (positions are known, nothing is
re-read) in bounded memory.

The sample is also a mergeable accumulation for engines that run chunks in parallel: each
chunk keeps its rows on the positions of the step for the rows up to its end (:func:`take`, with
the chunk's global start position), and :func:`thin` merges kept rows of any chunks, so every
engine and partitioning gives the same sample as one frame.

>>> import pandas as pd
>>> first, second = pd.DataFrame({"x": [0.0, 1.0, 2.0]}), pd.DataFrame({"x": [3.0, 4.0, 5.0, None]})
>>> kept = thin([take(first, ["x"], 0, limit=4), take(second, ["x"], 3, limit=4)], end=7, limit=4)
>>> [row["x"] for _, row in kept]
[0.0, 2.0, 4.0, None]
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

SAMPLE_ROWS = 256
"""How many training rows a fit keeps at most (the golden vectors' default size)."""


class Unencodable(ValueError):
    """A value the golden vectors cannot store exactly (the row is left out of the sample)."""


def python_value(value: Any) -> Any:
    """A frame value as the plain Python value a serving request would carry.

    Every missing marker (NaN, pandas NA, NaT) becomes None, so the sample does not depend on
    how a frame spells missing (pandas' ``str`` dtype uses NaN, Dask's NA); the golden vectors
    try NaN and the other null forms separately. Numpy scalars become Python scalars, pandas
    Timestamps ``datetime``.

    >>> import numpy as np
    >>> python_value(np.int64(3)), python_value(np.float64(0.5)), python_value(np.bool_(True))
    (3, 0.5, True)
    """
    if value is None or type(value) in (str, int, bool, bytes):
        return value
    if isinstance(value, float) and value != value:
        return None
    kind = type(value).__name__
    if kind in ("NAType", "NaTType"):
        return None
    if isinstance(value, _dt.datetime):
        if getattr(value, "nanosecond", 0):
            raise Unencodable(f"timestamp {value!r} has nanoseconds")
        to_py = getattr(value, "to_pydatetime", None)
        return to_py() if callable(to_py) else value
    if isinstance(value, bool):
        return bool(value)
    # subclasses (np.float64 is a float): the plain value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bytes):
        return bytes(value)
    if kind in ("bool_", "bool") or kind.startswith(("int", "uint", "float")):  # numpy scalars
        return python_value(value.item())
    raise Unencodable(f"{kind} value {value!r:.80}")


def step_for(n: int, limit: int) -> int:
    """The smallest power of two ``s`` with ``ceil(n / s) <= limit``.

    >>> step_for(256, 256), step_for(257, 256), step_for(1_000_000, 256)
    (1, 2, 4096)
    """
    step = 1
    while -(-n // step) > limit:
        step *= 2
    return step


def frame_rows(frame: pd.DataFrame, positions: Sequence[int], names: Sequence[str]) -> list[dict[str, Any] | None]:
    """The rows at ``positions`` as dicts of the named columns (absent columns left out) with
    plain Python values; None for a row holding a value that cannot be stored exactly."""
    present = [n for n in names if n in frame.columns]
    columns = {n: frame[n].iloc[list(positions)].tolist() for n in present}
    rows: list[dict[str, Any] | None] = []
    for i in range(len(positions)):
        try:
            rows.append({n: python_value(columns[n][i]) for n in present})
        except Unencodable:
            rows.append(None)
    return rows


Kept = list[tuple[int, dict[str, Any]]]
"""Sampled rows with their global row positions, in position order."""


def take(frame: pd.DataFrame, names: Sequence[str], start: int, limit: int = SAMPLE_ROWS) -> Kept:
    """The sampled rows of a chunk whose first row is at global position ``start``: the rows on
    the multiples of ``step_for(start + len(frame), limit)`` (a superset of the final sample's
    rows in the chunk: steps only grow, and are powers of two)."""
    end = start + len(frame)
    step = step_for(end, limit)
    positions = range(-(-start // step) * step, end, step)
    rows = frame_rows(frame, [p - start for p in positions], names)
    return [(p, row) for p, row in zip(positions, rows) if row is not None]


def thin(kept: Sequence[Kept], end: int, limit: int = SAMPLE_ROWS) -> Kept:
    """Merge kept rows of disjoint chunks covering rows up to ``end`` (any order): the rows on
    the multiples of ``step_for(end, limit)``, in position order.

    >>> thin([[(2, {"x": 2})], [(0, {"x": 0}), (1, {"x": 1})]], end=3, limit=2)
    [(0, {'x': 0}), (2, {'x': 2})]
    """
    step = step_for(end, limit)
    return sorted(((p, row) for part in kept for p, row in part if p % step == 0), key=lambda pr: pr[0])
