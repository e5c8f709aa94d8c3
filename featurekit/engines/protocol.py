"""The engine protocol: what a data frame library must provide to run featurekit.

An engine knows how to run two kinds of work over its frames, both expressed with pandas
chunks so that every engine runs the same code on each piece of data:

* :class:`Aggregation` -- one pass of a fit (analyzers) or of the training statistics
  (baseline): ``accumulate`` one pandas chunk into a small state, ``merge`` states in any tree
  shape, ``empty`` when there is no chunk. Every built-in accumulation merges exactly, so any
  partitioning gives the identical result. A :class:`PositionalAggregation` (the first fit
  pass, which takes the training sample, and the baseline pass, which samples outputs by row
  position) also has ``accumulate_at(chunk, start)``; an engine **must** call it instead of
  ``accumulate`` when a job has it, with ``start`` the global position of the chunk's first
  row in the data's row order (the pandas engine counts rows as the chunks stream by; the Dask
  engine computes its partitions' lengths once per frame, see :mod:`featurekit.engines.dask`).
  ``accumulate(chunk)`` of such a job means "the data is this one chunk".
* a frame transform -- a picklable ``Callable[[pd.DataFrame], pd.DataFrame]`` (the pandas
  batch path bound to fitted state) applied to every chunk, plus an empty frame with the
  output columns and dtypes (``meta``) for engines that need the schema before running.

Engines are registered by name in :mod:`featurekit.engines` and chosen by
:meth:`Engine.accepts`, which must not import the engine's library (check ``sys.modules``
first), so importing featurekit never imports Dask or PySpark. An engine's module imports its
library only inside the methods that run work: the registry imports every registered engine
module to ask ``accepts``.

Optional engine members the fit driver uses when present: ``kinds`` (a phrase naming the data
the engine accepts, for the error listing the engines) and ``fit_info(data) -> dict``
(entries added to ``fit_info_``, e.g. ``{"partitions": 7}``).

>>> class Counting:
...     def empty(self): return 0
...     def accumulate(self, chunk): return len(chunk)
...     def merge(self, parts): return sum(parts)
>>> isinstance(Counting(), Aggregation)
True
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import pandas as pd


@runtime_checkable
class Aggregation(Protocol):
    """One pass over the data as accumulate / merge (picklable: engines ship it to workers)."""

    def empty(self) -> Any:
        """The result of a pass over no chunk."""

    def accumulate(self, chunk: pd.DataFrame) -> Any:
        """The state of one pandas chunk (small: it travels to the driver)."""

    def merge(self, parts: Sequence[Any]) -> Any:
        """One state from several, associative and exact (any tree shape, same result)."""


@runtime_checkable
class PositionalAggregation(Aggregation, Protocol):
    """An aggregation whose chunk state depends on where the chunk starts in the data."""

    def accumulate_at(self, chunk: pd.DataFrame, start: int) -> Any:
        """The state of the chunk whose first row is row ``start`` of the data (0-based)."""


@runtime_checkable
class Engine(Protocol):
    """A registered engine (see :mod:`featurekit.engines`)."""

    name: str

    def accepts(self, data: Any) -> bool:
        """Whether ``data`` is this engine's frame type (without importing its library)."""

    def aggregate(self, data: Any, job: Aggregation, *, progress: Callable[[str], None] | None = None) -> Any:
        """Run ``job`` over every chunk of ``data`` and return the merged state (``job.empty()``
        when ``data`` has no rows)."""

    def map_frames(self, data: Any, fn: Callable[[pd.DataFrame], pd.DataFrame], meta: pd.DataFrame) -> Any:
        """``fn`` applied to every chunk of ``data``, as this engine's frame type (lazy where the
        engine is lazy); ``meta`` is ``fn``'s output on zero rows (columns and dtypes)."""
