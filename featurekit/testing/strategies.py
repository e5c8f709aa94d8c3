"""Hypothesis strategies for conformance testing: input values per DType, rows and frames.

Every strategy mixes ordinary values with the edge cases that break parity between a
vectorized (numpy/pyarrow) implementation and a scalar Python one: signed zeros, NaN and
infinities, subnormals, the int64 and 2**53 boundaries, Unicode case mappings that change
length, every kind of whitespace, DST transitions and leap days.

Rows are lists of plain dicts (what ``transform_row`` sees); :func:`frame_from_rows` builds
the equivalent DataFrame for the batch path with proper dtypes.
"""

from __future__ import annotations

import datetime as _dt
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from hypothesis import strategies as st

from featurekit.types import DType
from featurekit.values import edges

UTC = _dt.UTC

FLOAT_EDGES = edges.FLOATS
INT_EDGES = edges.INTS
WHITESPACE = edges.WHITESPACE
STR_EDGES = edges.STRINGS
TIMEZONES = edges.TIMEZONES
TS_EDGES = edges.INSTANTS
VOCAB = ("a", "b", "c", "ab", "abc", "pro", "free")


def _case_variants(s: str) -> list[str]:
    return list(dict.fromkeys([s, s.lower(), s.upper(), s.casefold(), s.title(), s.swapcase()]))


def floats(extra: Iterable[float] = ()) -> st.SearchStrategy:
    """float values (None = null) with IEEE edge cases and the given extra values."""
    edges = list(FLOAT_EDGES) + [float(x) for x in extra]
    return st.one_of(
        st.none(),
        st.sampled_from(edges),
        st.floats(allow_nan=True, allow_infinity=True),
        st.floats(min_value=-10.0, max_value=10.0),
        st.integers(-20, 20).map(lambda i: i / 4.0),
    )


def ints(extra: Iterable[int] = ()) -> st.SearchStrategy:
    """int values (None = null) including the int64 and 2**53 boundaries."""
    edges = list(INT_EDGES) + [int(x) for x in extra]
    return st.one_of(
        st.none(),
        st.sampled_from(edges),
        st.integers(-5, 5),
        st.integers(-(2**63), 2**63 - 1),
    )


def strs(extra: Iterable[str] = ()) -> st.SearchStrategy:
    """str values (None = null): Unicode case/whitespace edge cases, emoji, long text."""
    vocab = [v for s in VOCAB for v in _case_variants(s)]
    edges = list(STR_EDGES) + [v for s in extra for v in _case_variants(s)]
    ws = st.sampled_from(WHITESPACE)
    word = st.sampled_from(vocab + ["ß", "İ", "ﬃ", "e\u0301", "👍🏽", "x"])
    return st.one_of(
        st.none(),
        st.sampled_from(edges),
        st.sampled_from(vocab),
        st.lists(st.one_of(word, ws), max_size=6).map("".join),
        st.text(max_size=12),
        st.text(alphabet=st.characters(codec="utf-8"), min_size=40, max_size=120),
    )


def bools(extra: Iterable[bool] = ()) -> st.SearchStrategy:
    return st.sampled_from([None, True, False])


def timestamps(extra: Iterable[_dt.datetime] = ()) -> st.SearchStrategy:
    """Aware datetimes across 1900-2200 (DST instants, midnights, leap days) and None."""
    edges = list(TS_EDGES) + list(extra)
    midnights = st.dates(min_value=_dt.date(1900, 1, 1), max_value=_dt.date(2200, 12, 31)).map(
        lambda d: _dt.datetime(d.year, d.month, d.day, tzinfo=UTC)
    )
    return st.one_of(
        st.none(),
        st.sampled_from(edges),
        midnights,
        st.datetimes(
            min_value=_dt.datetime(1900, 1, 2),
            max_value=_dt.datetime(2200, 12, 30),
            timezones=st.sampled_from(TIMEZONES),
        ),
    )


_BY_TYPE: dict[DType, Callable[[Any], st.SearchStrategy]] = {
    DType.FLOAT: floats,
    DType.INT: ints,
    DType.STR: strs,
    DType.BOOL: bools,
    DType.TIMESTAMP: timestamps,
}


def values(dtype: DType, extra: Iterable[Any] = ()) -> st.SearchStrategy:
    """Values of one DType (None included), plus ``extra`` values of that type."""
    return _BY_TYPE[dtype](_typed_extra(dtype, extra))


def _typed_extra(dtype: DType, extra: Iterable[Any]) -> list[Any]:
    out: list[Any] = []
    for v in extra:
        if dtype is DType.FLOAT and isinstance(v, (int, float)) and not isinstance(v, bool):
            if isinstance(v, int) and abs(v) > 2**53:
                continue
            f = float(v)
            out += [f, math.nextafter(f, math.inf), math.nextafter(f, -math.inf)]
        elif dtype is DType.INT and isinstance(v, (int, float)) and not isinstance(v, bool):
            if isinstance(v, float) and (not math.isfinite(v) or v != int(v)):
                if math.isfinite(v) and abs(v) < 2**62:
                    out += [math.floor(v), math.ceil(v)]
                continue
            if -(2**63) <= int(v) < 2**63:
                out += [i for i in (int(v) - 1, int(v), int(v) + 1) if -(2**63) <= i < 2**63]
        elif dtype is DType.STR and isinstance(v, str):
            out.append(v)
        elif dtype is DType.BOOL and isinstance(v, bool):
            out.append(v)
        elif dtype is DType.TIMESTAMP and isinstance(v, _dt.datetime):
            out.append(v)
    return out


def input_names(types: Sequence[DType]) -> list[str]:
    return [f"a{i}" for i in range(len(types))]


def rows(
    types: Sequence[DType], *, min_size: int = 0, max_size: int = 30, extra: Mapping[int, Iterable[Any]] | None = None
) -> st.SearchStrategy:
    """Lists of row dicts ``{"a0": ..., "a1": ...}``, one key per argument type."""
    extra = extra or {}
    per_col = [values(t, extra.get(i, ())) for i, t in enumerate(types)]
    names = input_names(types)
    row = st.tuples(*per_col).map(lambda vs: dict(zip(names, vs)))
    return st.lists(row, min_size=min_size, max_size=max_size)


def _us(value: _dt.datetime) -> int:
    """Microseconds since the epoch, computed independently of featurekit."""
    utc = value.astimezone(UTC).replace(tzinfo=None)
    delta = utc - _dt.datetime(1970, 1, 1)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def series_from_values(vals: Sequence[Any], dtype: DType) -> Any:
    """One pandas Series in the batch path's natural dtype for ``dtype``."""
    import numpy as np
    import pandas as pd

    vals = list(vals)
    if dtype is DType.FLOAT:
        return pd.Series(np.array([math.nan if v is None else v for v in vals], dtype=np.float64))
    if dtype is DType.INT:
        return pd.Series(pd.array(vals, dtype="Int64"))
    if dtype is DType.BOOL:
        return pd.Series(pd.array(vals, dtype="boolean"))
    if dtype is DType.STR:
        return pd.Series(np.array(vals, dtype=object), dtype=object)
    if dtype is DType.TIMESTAMP:
        raw = np.array([np.iinfo(np.int64).min if v is None else _us(v) for v in vals], dtype=np.int64)
        return pd.Series(raw.view("datetime64[us]")).dt.tz_localize("UTC")
    raise AssertionError(dtype)


def frame_from_rows(rows: Sequence[Mapping[str, Any]], types: Sequence[DType] | Mapping[str, DType]) -> Any:
    """The DataFrame equivalent of ``rows`` (a missing key is null), typed per column.

    ``types``: a sequence (columns ``a0, a1, ...``) or a mapping column -> DType. Floats are
    float64 with NaN, ints ``Int64``, bools ``boolean``, strings object, timestamps
    ``datetime64[us, UTC]`` with NaT.
    """
    import pandas as pd

    if not isinstance(types, Mapping):
        types = dict(zip(input_names(types), types))
    data = {name: series_from_values([r.get(name) for r in rows], t) for name, t in types.items()}
    return pd.DataFrame(data, index=pd.RangeIndex(len(rows)))
