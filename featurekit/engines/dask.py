"""The Dask engine: aggregations and frame transforms over a Dask DataFrame's partitions.

Partitions are pandas frames, so the pandas code runs on them unchanged.

* **aggregate** runs one delayed ``job.accumulate`` per partition, merged in a tree of fan-in
  ``split_every`` with ``job.merge``, and computes it on the active scheduler (a
  ``distributed`` client when one is active). Jobs travel to the workers pickled (the fit's
  jobs carry their spec as a :class:`featurekit.spec.ref.SpecRef`). Every built-in job merges
  exactly, so the fitted state (and the fingerprint) is identical to a pandas fit for any
  partitioning; ``dask.dataframe.quantile`` is never used.
* **Row positions.** A positional job (the fit's first pass, which takes the training sample,
  and the baseline pass) needs each partition's global start row. The engine computes the
  partition lengths once per frame, before the first positional job, as one small Dask
  computation over a single column (:meth:`DaskEngine.offsets`), and keeps them for the
  frame's later passes. So a Dask fit reads the data once more than it has passes, and its
  sample and baseline equal those of a pandas fit of the same rows in the same order.
* **map_frames** is lazy: ``ddf.map_partitions(fn, meta=meta)``.

Dask is imported inside the methods that run work: importing this module does not import it.

>>> DaskEngine.accepts([1, 2])
False
"""

from __future__ import annotations

import contextlib
import sys
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from featurekit.engines.protocol import Aggregation

SPLIT_EVERY = 8


def is_dask_dataframe(data: Any) -> bool:
    """True for a Dask DataFrame, without importing Dask (narwhals ``dependencies.py`` style)."""
    if "dask" not in sys.modules:
        return False
    module = type(data).__module__ or ""
    return (
        (module == "dask" or module.startswith("dask."))
        and hasattr(data, "to_delayed")
        and hasattr(data, "map_partitions")
    )


class DaskEngine:
    """The Dask engine (:class:`featurekit.engines.protocol.Engine`).

    ``split_every``: fan-in of the merge tree; ``progress_bar``: show Dask's progress bar on
    stderr while computing.
    """

    name = "dask"
    kinds = "a Dask DataFrame"

    def __init__(self, split_every: int = SPLIT_EVERY, progress_bar: bool = False) -> None:
        if split_every < 2:
            raise ValueError("split_every must be >= 2")
        self.split_every = split_every
        self.progress_bar = progress_bar
        self._offsets: dict[str, list[int]] = {}  # frame name -> start row of each partition

    @staticmethod
    def accepts(data: Any) -> bool:
        return is_dask_dataframe(data)

    def fit_info(self, data: Any) -> dict[str, Any]:
        return {"partitions": int(data.npartitions)}

    def aggregate(self, data: Any, job: Aggregation, *, progress: Callable[[str], None] | None = None) -> Any:
        import dask

        partitions = data.to_delayed()
        if not partitions:
            return job.empty()
        if progress:
            progress(f"over {len(partitions)} partition(s) ...")
        job_d = _named(job, "job")
        if hasattr(job, "accumulate_at"):
            starts = self.offsets(data)
            leaves = [
                dask.delayed(_accumulate_at, pure=True)(job_d, part, start, dask_key_name=_key("accumulate", i))
                for i, (part, start) in enumerate(zip(partitions, starts))
            ]
        else:
            leaves = [
                dask.delayed(_accumulate, pure=True)(job_d, part, dask_key_name=_key("accumulate", i))
                for i, part in enumerate(partitions)
            ]
        level = 0
        while len(leaves) > 1:
            level += 1
            leaves = [
                dask.delayed(_merge, pure=True)(
                    job_d, leaves[i : i + self.split_every], dask_key_name=_key(f"merge-{level}", i)
                )
                for i in range(0, len(leaves), self.split_every)
            ]
        return self.compute(leaves[0])

    def offsets(self, data: Any) -> list[int]:
        """The global row position of each partition's first row (computed once per frame:
        the lengths of the partitions of one column)."""
        import dask

        name = data._name
        if name not in self._offsets:
            column = data[list(data.columns[:1])] if len(data.columns) else data
            lengths = self.compute(
                dask.delayed(list, pure=True)([dask.delayed(len, pure=True)(p) for p in column.to_delayed()])
            )
            starts, total = [], 0
            for n in lengths:
                starts.append(total)
                total += int(n)
            self._offsets[name] = starts
        return self._offsets[name]

    def map_frames(self, data: Any, fn: Callable[[pd.DataFrame], pd.DataFrame], meta: pd.DataFrame) -> Any:
        """Lazy ``data.map_partitions(fn, meta=meta)``."""
        return data.map_partitions(fn, meta=meta, token="featurekit-transform")

    def compute(self, obj: Any) -> Any:
        """Compute one Dask object on the active scheduler (with the optional progress bar)."""
        import dask

        client = _default_client()
        if client is None:
            if self.progress_bar:
                from dask.diagnostics import ProgressBar

                with ProgressBar(out=sys.stderr):
                    return dask.compute(obj)[0]
            return dask.compute(obj)[0]
        future = client.compute(obj)
        if self.progress_bar:
            from distributed import progress as _progress

            with contextlib.redirect_stdout(sys.stderr):
                _progress(future)
            print(file=sys.stderr)
        return future.result()


def _accumulate(job: Aggregation, pdf: pd.DataFrame) -> Any:
    return job.accumulate(pdf)


def _accumulate_at(job: Any, pdf: pd.DataFrame, start: int) -> Any:
    return job.accumulate_at(pdf, start)


def _merge(job: Aggregation, parts: Sequence[Any]) -> Any:
    return parts[0] if len(parts) == 1 else job.merge(parts)


def _key(kind: str, i: int) -> str:
    return f"featurekit-{kind}-{i}-{uuid.uuid4().hex}"


def _named(obj: Any, kind: str) -> Any:
    """``obj`` as one graph node, so it is shipped once instead of embedded in every task."""
    import dask

    return dask.delayed(obj, name=f"featurekit-{kind}-{uuid.uuid4().hex}")


def _default_client() -> Any:
    if "distributed" not in sys.modules:
        return None
    from distributed import default_client

    try:
        return default_client()
    except ValueError:
        return None
