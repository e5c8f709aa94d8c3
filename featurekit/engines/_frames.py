"""Row dicts as a pandas frame, the form every engine's chunks take.

>>> frame = rows_to_frame([{"x": 1.5}, {"y": "a"}], ["x", "y"])
>>> frame.to_dict("records")
[{'x': 1.5, 'y': None}, {'x': None, 'y': 'a'}]
>>> [str(t) for t in frame.dtypes]
['object', 'object']
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd


def rows_to_frame(rows: Iterable[Mapping[str, Any]], columns: list[str]) -> pd.DataFrame:
    """Row dicts as an object-dtype frame of ``columns`` (a missing key is None): the values
    are then checked by the exact scalar coercer the row path uses."""
    rows = list(rows)
    index = pd.RangeIndex(len(rows))
    # explicit object Series: pandas 3 would otherwise infer str/datetime dtypes from object
    # arrays, and the values would skip the exact scalar coercion the row path uses
    data = {c: pd.Series([r.get(c) for r in rows], dtype=object, index=index) for c in columns}
    return pd.DataFrame(data, index=index)
