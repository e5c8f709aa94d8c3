"""Rows and frames: the one place row dicts become a DataFrame and a DataFrame becomes rows.

* :func:`typed_frame` — rows as the batch path would see them from real typed data: a column
  whose values are all of its declared type (or missing) gets the native dtype (float64,
  Int64, boolean, str, datetime64[us, UTC]); any other column stays object, so the batch
  path's exact per-value coercion runs, as it would on mixed real data.
* :func:`canonical_column` — values already coerced by an input contract as the column training
  data of that type has (float64, Int64/int64, boolean, str, datetime64[us, UTC]).
* :func:`object_frame` — every column object dtype: every value goes through that coercion.
* :func:`frame_rows` — a batch output as row dicts of plain Python values (NA -> None, NaN
  stays NaN: an output NaN is a value).
* :func:`input_rows` — a frame of inputs as the row dicts the row path takes (every missing
  value None).

A missing key is a null. Types are the input type names of a spec (``"float"``, ``"int"``,
``"bool"``, ``"str"``, ``"category"``, ``"timestamp"``) or :class:`~featurekit.types.DType`.

>>> frame = typed_frame([{"x": 1.5}, {"x": None}, {}], {"x": "float", "n": "int"})
>>> [str(t) for t in frame.dtypes]
['float64', 'Int64']
>>> frame_rows(frame)[0]
{'x': 1.5, 'n': None}
>>> str(typed_frame([{"x": 1}, {"x": "2"}], {"x": "int"})["x"].dtype)
'object'
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from featurekit.types import DType

if TYPE_CHECKING:
    import pandas as pd


def _native(values: list[Any], kind: str) -> Any:
    """``values`` as a native array of ``kind``, or None when some value is not of that type."""
    import numpy as np
    import pandas as pd

    present = [v for v in values if v is not None]
    try:
        if kind == "float" and all(type(v) is float for v in present):
            return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
        if kind == "int" and all(type(v) is int and -(2**63) <= v < 2**63 for v in present):
            return pd.array(values, dtype="Int64")
        if kind == "bool" and all(type(v) is bool for v in present):
            return pd.array(values, dtype="boolean")
        if kind in ("str", "category") and all(type(v) is str and v.isascii() for v in present):
            return pd.array(values, dtype="str")
        if kind == "timestamp" and present and all(type(v) is _dt.datetime and v.tzinfo is _dt.UTC for v in present):
            return pd.to_datetime(values, utc=True).astype("datetime64[us, UTC]")
    except (TypeError, ValueError, OverflowError):
        return None
    return None


def typed_frame(rows: Sequence[Mapping[str, Any]], types: Mapping[str, str | DType]) -> pd.DataFrame:
    """A DataFrame of ``rows`` with the columns of ``types``, native dtypes where the values allow."""
    import pandas as pd

    index = pd.RangeIndex(len(rows))
    columns = {}
    for name, kind in types.items():
        values = [r.get(name) for r in rows]
        col = _native(values, kind.value if isinstance(kind, DType) else kind)
        # object columns stay object (pandas 3 would infer str/datetime from an object array)
        columns[name] = col if col is not None else pd.Series(values, dtype=object, index=index)
    return pd.DataFrame(columns, index=index)


def canonical_column(values: Sequence[Any], kind: str | DType, nullable: bool = True) -> Any:
    """Contract-coerced ``values`` (float or None, int or None, bool, str, timestamps as int
    microseconds since the epoch in UTC) as the array training data of ``kind`` holds: float64
    (null is NaN), int64 (Int64 when the input is nullable or a null is present), boolean, str,
    datetime64[us, UTC].

    >>> str(canonical_column([1, None], "int").dtype), str(canonical_column([1, 2], "int", nullable=False).dtype)
    ('Int64', 'int64')
    >>> canonical_column([0, None], "timestamp")[0]
    Timestamp('1970-01-01 00:00:00+0000', tz='UTC')
    """
    import numpy as np
    import pandas as pd

    kind = kind.value if isinstance(kind, DType) else kind
    if kind == "float":
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    if kind == "int":
        if nullable or any(v is None for v in values):
            return pd.array(list(values), dtype="Int64")
        return np.array(values, dtype=np.int64)
    if kind == "bool":
        return pd.array(list(values), dtype="boolean")
    if kind in ("str", "category"):
        return pd.array(list(values), dtype="str")
    if kind == "timestamp":
        nat = np.iinfo(np.int64).min  # NaT's int64 representation
        us = np.array([nat if v is None else v for v in values], dtype=np.int64)
        return pd.DatetimeIndex(us.view("datetime64[us]")).tz_localize("UTC").array
    raise ValueError(f"no canonical dtype for input type {kind!r}")


def object_frame(rows: Iterable[Mapping[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    """``rows`` as a frame of object columns ``columns``: every value is coerced one by one."""
    import pandas as pd

    rows = list(rows)
    index = pd.RangeIndex(len(rows))
    # explicit object Series: pandas 3 would otherwise infer str/datetime dtypes from object arrays
    data = {c: pd.Series([r.get(c) for r in rows], dtype=object, index=index) for c in columns}
    return pd.DataFrame(data, index=index)


def frame_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """``frame`` as row dicts of plain Python values (NA -> None; NaN stays NaN)."""
    import numpy as np
    import pandas as pd

    columns = []
    for name in frame.columns:
        series = frame[name]
        dtype = series.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "fiub":
            columns.append(series.to_numpy().tolist())
            continue
        if isinstance(dtype, pd.DatetimeTZDtype):
            columns.append([None if v is pd.NaT else v.to_pydatetime() for v in series])
            continue
        # pandas-stubs do not list None as an na_value; pandas accepts it (NA -> None)
        values = series.to_numpy(dtype=object, na_value=None)  # type: ignore[call-overload]
        columns.append([v.item() if hasattr(v, "item") else v for v in values])
    names = list(frame.columns)
    return [dict(zip(names, values)) for values in zip(*columns)] if names else [{} for _ in range(len(frame))]


def _input_values(s: pd.Series, keep_nan: bool = False) -> list[Any]:
    """One column as plain Python values, missing -> None (float64 NaN stays NaN with ``keep_nan``)."""
    import numpy as np
    import pandas as pd

    dtype = s.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) or (isinstance(dtype, np.dtype) and dtype.kind == "M"):
        mask = s.isna().to_numpy()
        if isinstance(dtype, pd.DatetimeTZDtype):
            s = s.dt.tz_convert("UTC")
        vals = s.dt.to_pydatetime() if len(s) else np.empty(0, dtype=object)
        vals = np.array(vals, dtype=object)
        if isinstance(dtype, pd.DatetimeTZDtype):
            # A single, plain tzinfo object (datetime.timezone.utc) for every value.
            utc = _dt.UTC
            if len(vals) and not mask.all():
                first = vals[~mask][0]
                if first.tzinfo is not utc:
                    vals = np.array(
                        [None if m else v.replace(tzinfo=utc) for v, m in zip(vals, mask)],
                        dtype=object,
                    )
        vals[mask] = None
        return vals.tolist()
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return s.to_numpy().tolist()
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        arr = s.to_numpy()
        mask = np.isnan(arr)
        if keep_nan or not mask.any():
            return arr.tolist()
        obj = arr.astype(object)
        obj[mask] = None
        return obj.tolist()
    # str / object / extension dtypes.
    mask = s.isna().to_numpy()
    obj = s.to_numpy(dtype=object)
    if mask.any():
        obj = obj.copy()
        obj[mask] = None
    out = obj.tolist()
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and not isinstance(dtype, pd.StringDtype):
        # Nullable ints/floats/bools give numpy scalars via to_numpy(object); unwrap.
        out = [v.item() if isinstance(v, np.generic) else v for v in out]
    return out


def input_rows(frame: pd.DataFrame, *, keep_nan: bool = False) -> list[dict[str, Any]]:
    """``frame`` as the row dicts the row path takes: plain Python values, every missing value
    (NaN, NaT, NA) None, tz-aware datetimes in ``datetime.timezone.utc``, naive ones naive.
    ``keep_nan=True`` keeps a float64 column's NaN as NaN (what a caller holding that frame
    would pass on), other missing values still None.

    >>> import pandas as pd
    >>> input_rows(pd.DataFrame({"x": [1.5, float("nan")], "n": pd.array([1, None], dtype="Int64")}))
    [{'x': 1.5, 'n': 1}, {'x': None, 'n': None}]
    >>> input_rows(pd.DataFrame({"x": [float("nan")]}), keep_nan=True)
    [{'x': nan}]
    """
    cols = [str(c) for c in frame.columns]
    values = [_input_values(frame.iloc[:, i], keep_nan) for i in range(frame.shape[1])]
    return [dict(zip(cols, vals)) for vals in zip(*values)]
