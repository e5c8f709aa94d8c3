"""The pandas engine: in-memory frames and streams of chunks, in this process.

It accepts one DataFrame (the default, for training frames that fit in memory), a list or
tuple of DataFrame chunks, or a function returning an iterator of chunks (called once per
pass, so chunks can be read from disk each time). :func:`transform_frame` is the batch path
every engine runs on its pandas chunks, so all engines give identical outputs.

>>> import pandas as pd
>>> class Rows:
...     def empty(self): return 0
...     def accumulate(self, chunk): return len(chunk)
...     def merge(self, parts): return sum(parts)
>>> chunks = [pd.DataFrame({"x": [1.0, 2.0]}), pd.DataFrame({"x": [3.0]})]
>>> PandasEngine().aggregate(chunks, Rows()), PandasEngine().aggregate([], Rows())
(3, 0)
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from featurekit.compile.batch import BLOCK_ROWS, check_timestamp_output, evaluate_blocks, output_series, read_inputs
from featurekit.compile.contract import Coercer
from featurekit.ir.nodes import InputNode, walk
from featurekit.types import DType
from featurekit.values.frames import object_frame

if TYPE_CHECKING:
    from featurekit.engines.protocol import Aggregation
    from featurekit.transform import FittedTransform


class PandasEngine:
    """The pandas engine (:class:`featurekit.engines.protocol.Engine`)."""

    name = "pandas"
    kinds = "a pandas DataFrame, a list or tuple of DataFrame chunks, or a function returning an iterator of chunks"

    @staticmethod
    def accepts(data: Any) -> bool:
        if isinstance(data, pd.DataFrame) or callable(data):
            return True
        return isinstance(data, (list, tuple)) and all(isinstance(d, pd.DataFrame) for d in data)

    @staticmethod
    def chunks(data: Any) -> Iterator[pd.DataFrame]:
        """The chunks of ``data``, in order (one pass)."""
        if isinstance(data, pd.DataFrame):
            return iter([data])
        return iter(data() if callable(data) else data)

    def aggregate(self, data: Any, job: Aggregation, *, progress: Callable[[str], None] | None = None) -> Any:
        """Accumulate the chunks in order, merging each into the running state; a
        positional job gets each chunk's first row position (rows counted so far)."""
        at = getattr(job, "accumulate_at", None)
        state, start = None, 0
        for chunk in self.chunks(data):
            part = job.accumulate(chunk) if at is None else at(chunk, start)
            start += len(chunk)
            state = part if state is None else job.merge([state, part])
        return job.empty() if state is None else state

    def map_frames(self, data: Any, fn: Callable[[pd.DataFrame], pd.DataFrame], meta: pd.DataFrame) -> Any:
        """``fn`` of one frame, or the list of ``fn`` of each chunk (``meta`` is not needed)."""
        if isinstance(data, pd.DataFrame):
            return fn(data)
        return [fn(chunk) for chunk in self.chunks(data)]


def transform_frame(
    fitted: FittedTransform, data: Any, collect: Any = None, block_rows: int = BLOCK_ROWS
) -> pd.DataFrame:
    """Batch-transform a DataFrame (or a list of row dicts) with ``fitted``.

    The inputs are read and checked against the contract for the whole frame first (so an
    error reports every violating row), then the graph runs in blocks of ``block_rows`` rows
    (:func:`featurekit.compile.batch.evaluate_blocks`). ``collect`` (a
    :class:`featurekit.compile.batch.Violations`) records contract violations per row instead
    of raising; the parity tester uses it to learn which rows the batch path refuses in one call.
    """
    spec = fitted.spec
    if isinstance(data, list):
        data = object_frame(data, [i.name for i in spec.inputs])
    if not isinstance(data, pd.DataFrame):
        from featurekit.errors import ContractError

        raise ContractError(
            f"transform: expected a pandas DataFrame; got {type(data).__name__}\n"
            "  Fix: pass a DataFrame, a list of row dicts, or use transform_row for one dict"
        )
    graph = spec.graph
    roots = [graph.features[o] for o in graph.outputs]
    coercers = {i.name: Coercer(i, where="transform") for i in spec.inputs}
    needed = [n.name for n in walk(roots) if isinstance(n, InputNode)]
    inputs = read_inputs(data, coercers, needed, where="transform", collect=collect)
    cols = evaluate_blocks(roots, inputs, len(data), fitted.state_, block_rows)
    out: dict[str, pd.Series] = {}
    taken = [c.values for c in inputs.values() if isinstance(c.values, np.ndarray)]
    for feature in graph.outputs:
        node = graph.features[feature]
        result = cols[node.key]
        names = fitted.output_names[feature]
        if isinstance(result, list):
            for name, col in zip(names, result):
                out[name] = output_series(col, node.dtype, False, data.index, taken)
        else:
            if node.dtype is DType.TIMESTAMP:
                result = check_timestamp_output(result, names[0], collect=collect)
            out[names[0]] = output_series(result, node.dtype, node.nullable, data.index, taken)
    # copy=False: keep the computed arrays as they are instead of consolidating them into new blocks
    return pd.DataFrame(out, index=data.index, copy=False)
