"""The pandas engine: the batch path over one in-memory DataFrame.

Use it for training frames that fit in memory (the default). The Dask engine runs this same
function on each partition, so both give identical outputs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from featurekit.compile.batch import BLOCK_ROWS, check_timestamp_output, evaluate_blocks, output_series, read_inputs
from featurekit.compile.contract import Coercer
from featurekit.fit import rows_to_frame
from featurekit.ir.nodes import InputNode, walk
from featurekit.types import DType

if TYPE_CHECKING:
    from featurekit.transform import FittedTransform


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
        data = rows_to_frame(data, [i.name for i in spec.inputs])
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
