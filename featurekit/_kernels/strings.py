"""Vectorized string kernels for the batch path.

Each kernel takes a pyarrow array of type ``pa.string()`` or ``pa.large_string()``
(a ``pa.ChunkedArray`` or ``pa.string_view()`` array is accepted too) and returns,
element for element, exactly what the pure-Python expression stated in its
docstring returns on the row path.  Results at null slots are unspecified (they
are 0 / ``False`` in numeric results, and null in string results) but never raise.

How exactness is obtained, never by looping in Python over all rows:

* byte-level numpy over the UTF-8 data buffer and the offsets (``crc32``,
  ``token_count``);
* Arrow kernels where Arrow's definition is the same as CPython's: byte-wise
  comparisons are code-point comparisons for valid UTF-8 (``contains``,
  ``equals``, ...), ``utf8_length`` counts code points, and Arrow's Unicode
  whitespace (bidi class WS/B/S or category Zs) is CPython's ``str.isspace``;
* Arrow's case mapping for every row whose non-ASCII code points are *verified*
  to map identically one code point at a time (a per-process cache keyed by code
  point); the remaining rows, and rows with context-dependent code points (the
  final-sigma rule of ``str.lower``), are recomputed with Python over their
  DISTINCT values only;
* Python over the distinct values for regular expressions (Python's ``re`` is
  the row path's engine, so this is the only way to be exact).

Offsets of the input are honoured, so sliced arrays work.
"""

from __future__ import annotations

import re
import sys
import threading
import unicodedata
import zlib
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = [
    "NonStringValueError",
    "PY_WHITESPACE",
    "casefold",
    "char_length",
    "concat",
    "contains",
    "crc32",
    "endswith",
    "equals",
    "index_in",
    "is_in",
    "lower",
    "lstrip",
    "normalize",
    "regex_fullmatch",
    "regex_search",
    "rstrip",
    "startswith",
    "strip",
    "to_string_array",
    "token_count",
    "upper",
]

_LARGE = pa.large_string()

#: The 29 code points for which CPython's ``str.isspace()`` is true (Unicode 14:
#: bidi class WS, B or S, or general category Zs).  ``str.split()`` and
#: ``str.strip()`` without arguments use exactly this set.  U+200B is NOT in it.
PY_WHITESPACE = (
    "\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680"
    "\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)

# UTF-8 encodings of the multi-byte whitespace characters, as big-endian ints.
_WS_MB = [c.encode("utf-8") for c in PY_WHITESPACE if ord(c) >= 0x80]
_WS2_KEYS = np.array(sorted(int.from_bytes(b, "big") for b in _WS_MB if len(b) == 2), np.uint32)
_WS3_KEYS = np.array(sorted(int.from_bytes(b, "big") for b in _WS_MB if len(b) == 3), np.uint32)
# _ws_bytes() relies on these lead bytes and on the absence of 4-byte whitespace.
assert sorted({b[0] for b in _WS_MB}) == [0xC2, 0xE1, 0xE2, 0xE3]
assert {len(b) for b in _WS_MB} == {2, 3}


# --------------------------------------------------------------------------- errors


class NonStringValueError(TypeError):
    """An element that is neither a ``str`` nor a missing value.

    ``position`` is the 0-based position of the first offending element and
    ``value`` the element itself.
    """

    def __init__(self, position: int, value: Any):
        self.position = position
        self.value = value
        super().__init__(
            f"expected str or a missing value (None/NaN/pd.NA) at position {position}, "
            f"got {type(value).__name__}: {value!r}"
        )


# --------------------------------------------------------------------------- input helpers


def _check(arr: Any, what: str = "arr") -> pa.Array:
    """Return ``arr`` as a ``pa.Array`` of type string or large_string."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.chunk(0) if arr.num_chunks == 1 else arr.combine_chunks()
    if not isinstance(arr, pa.Array):
        raise TypeError(
            f"{what} must be a pyarrow string array, got {type(arr).__name__}; "
            "use to_string_array() to convert pandas/numpy data"
        )
    t = arr.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return arr
    if pa.types.is_string_view(t):
        return arr.cast(_LARGE)
    raise TypeError(f"{what} must be a pyarrow string array, got type {t}")


def _large(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.chunk(0) if arr.num_chunks == 1 else arr.combine_chunks()
    return arr if arr.type == _LARGE else arr.cast(_LARGE)


def _layout(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """``(offsets, data)``: int64 offsets (length ``len(arr) + 1``, absolute
    positions into ``data``) and the uint8 view of the whole data buffer."""
    n = len(arr)
    bufs = arr.buffers()
    odt = np.int32 if pa.types.is_string(arr.type) else np.int64
    need = arr.offset + n + 1
    obuf = bufs[1]
    if obuf is None or obuf.size < need * np.dtype(odt).itemsize:
        # Only possible for empty arrays.
        offsets = np.zeros(n + 1, np.int64)
    else:
        offsets = np.frombuffer(obuf, dtype=odt, count=need)[arr.offset :].astype(np.int64)
    dbuf = bufs[2]
    data = np.frombuffer(dbuf, dtype=np.uint8) if dbuf is not None and dbuf.size else np.zeros(0, np.uint8)
    return offsets, data


def _np_filled(res: pa.Array | pa.ChunkedArray, fill: Any, dtype: Any) -> np.ndarray:
    if res.null_count:
        res = pc.fill_null(res, fill)
    return np.asarray(res.to_numpy(zero_copy_only=False), dtype=dtype)


def _check_str(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, got {type(value).__name__}: {value!r}")
    return value


def _utf8_ok(s: str) -> bool:
    """False for strings with lone surrogates: they cannot occur in Arrow data."""
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# --------------------------------------------------------------------------- conversion


def _is_missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, (float, np.floating)):
        return bool(v != v)
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover - pandas is a dependency
        return False
    return v is pd.NA


def _raise_first_non_str(values: np.ndarray) -> None:
    # Error path only: a Python scan is fine here.
    for i, v in enumerate(values):
        if isinstance(v, str):
            if not _utf8_ok(v):
                raise ValueError(f"string at position {i} cannot be encoded as UTF-8 (lone surrogate): {v!r}")
            continue
        if not _is_missing(v):
            raise NonStringValueError(i, v)


def _from_object(values: np.ndarray) -> pa.Array:
    import pandas as pd

    kind = pd.api.types.infer_dtype(values, skipna=True)  # C loop
    if kind not in ("string", "empty"):
        _raise_first_non_str(values)
    try:
        return pa.array(values, type=_LARGE, from_pandas=True)
    except (pa.ArrowException, UnicodeError, TypeError, ValueError):
        _raise_first_non_str(values)
        raise


def to_string_array(x: Any) -> pa.Array:
    """Convert pandas / numpy / pyarrow string data to a ``pa.large_string()`` array.

    Parameters
    ----------
    x : pandas.Series, pandas.Index, numpy.ndarray, pyarrow array, list or tuple
        pandas 3 ``str`` dtype, ``string`` dtype, ``ArrowDtype`` string types,
        object dtype holding ``str`` / ``None`` / ``NaN`` / ``pd.NA``, numpy
        ``<U`` / ``StringDType`` / object arrays.

    Returns
    -------
    pa.Array
        ``pa.large_string()`` array with nulls for ``None`` / ``NaN`` / ``pd.NA``.
        Zero-copy when pandas already holds ``large_string`` Arrow data (the
        pandas 3 default); ``pa.string()`` data only has its offsets widened.

    Raises
    ------
    NonStringValueError
        (a ``TypeError``) for the first element that is neither a ``str`` nor a
        missing value; ``position`` and ``value`` are attributes of the error.
    ValueError
        For a ``str`` that cannot be encoded as UTF-8 (lone surrogates).

    Examples
    --------
    >>> import pandas as pd
    >>> to_string_array(pd.Series(["a", None, "b"])).to_pylist()
    ['a', None, 'b']
    >>> to_string_array(pd.Series(["a", float("nan"), pd.NA], dtype=object)).to_pylist()
    ['a', None, None]
    >>> try:
    ...     to_string_array(pd.Series(["a", 1], dtype=object))
    ... except TypeError as e:
    ...     print(e.position, e.value)
    1 1
    """
    if isinstance(x, (pa.Array, pa.ChunkedArray)):
        t = x.type
        if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
            return _large(_check(x))
        if pa.types.is_null(t):
            return pa.nulls(len(x), _LARGE)
        if pa.types.is_dictionary(t) and (pa.types.is_string(t.value_type) or pa.types.is_large_string(t.value_type)):
            return _large(x.cast(t.value_type))
        x = np.asarray(x.to_pylist(), dtype=object) if len(x) else np.zeros(0, object)
        return _from_object(x)

    import pandas as pd

    if isinstance(x, (pd.Series, pd.Index)):
        dtype = x.dtype
        arrow_backed = isinstance(dtype, pd.StringDtype) or (
            isinstance(dtype, pd.ArrowDtype)
            and (
                pa.types.is_string(dtype.pyarrow_dtype)
                or pa.types.is_large_string(dtype.pyarrow_dtype)
                or pa.types.is_string_view(dtype.pyarrow_dtype)
            )
        )
        if arrow_backed:
            return _large(_check(pa.array(x.array)))
        x = np.asarray(x, dtype=object)

    if isinstance(x, (list, tuple)):
        values = np.empty(len(x), dtype=object)
        values[:] = list(x)
        x = values

    if isinstance(x, np.ndarray):
        if x.ndim != 1:
            raise ValueError(f"expected a 1-D array, got shape {x.shape}")
        if x.dtype.kind == "U":
            return pa.array(x, type=_LARGE)
        if x.dtype.kind == "T":  # numpy.dtypes.StringDType
            x = x.astype(object)
        if x.dtype != object:
            if len(x):
                raise NonStringValueError(0, x[0])
            return pa.array([], type=_LARGE)
        return _from_object(x)

    raise TypeError(f"cannot convert {type(x).__name__} to a string array")


# --------------------------------------------------------------------------- crc32


def _make_crc_tables() -> tuple[np.ndarray, np.ndarray]:
    """The byte-wise CRC-32 table (reflected polynomial 0xEDB88320, as zlib) and
    the 16-bit table that advances the register by two bytes at once:
    ``T16[x] == T8[y & 0xFF] ^ (y >> 8)`` with ``y = T8[x & 0xFF] ^ (x >> 8)``."""
    t8 = np.arange(256, dtype=np.uint32)
    for _ in range(8):
        t8 = np.where(t8 & 1, (t8 >> 1) ^ np.uint32(0xEDB88320), t8 >> 1).astype(np.uint32)
    x = np.arange(65536, dtype=np.uint32)
    y = t8[x & 0xFF] ^ (x >> 8)
    t16 = (t8[y & 0xFF] ^ (y >> 8)).astype(np.uint32)
    return t8, t16


_CRC_T8, _CRC_T16 = _make_crc_tables()
# Rows of at least this many bytes are hashed by zlib one by one: the Python
# overhead is then at most one call per 4 KiB of data.
_CRC_LONG_ROW = 4096
# When at most this many rows are still longer than the current position, the
# vectorized loop stops and those rows are finished by zlib (continuing the
# running value), so a few longer rows never cost one numpy round per byte.
_CRC_TAIL_ROWS = 16
# Rows are processed in contiguous chunks spanning at most this many bytes
# (bounds the temporary 2-byte table of the chunk to twice that).
_CRC_CHUNK_BYTES = 1 << 24
_LITTLE = sys.byteorder == "little"


def _crc32_chunk(data: np.ndarray, off: np.ndarray, r0: int, r1: int, out: np.ndarray) -> None:
    """CRC-32 of rows ``r0:r1`` shorter than ``_CRC_LONG_ROW`` into ``out[r0:r1]``."""
    lo, hi = int(off[r0]), int(off[r1])
    lens = off[r0 + 1 : r1 + 1] - off[r0:r1]
    long_mask = lens >= _CRC_LONG_ROW  # already done by the caller
    if long_mask.any():
        lens = np.where(long_mask, 0, lens)
    if hi == lo or int(lens.max()) == 0:
        return
    m = r1 - r0
    d = data[lo:hi]
    pos = off[r0:r1] - lo  # new array, advanced in place below
    crc = np.full(m, 0xFFFFFFFF, np.uint32)

    # Odd lengths: one byte-wise step first, then every row has an even length.
    odd = np.flatnonzero(lens & 1)
    if len(odd):
        po = pos[odd]
        co = crc[odd]
        crc[odd] = _CRC_T8[(co ^ d[po]) & 0xFF] ^ (co >> 8)
        pos[odd] = po + 1
    steps = lens >> 1
    max_steps = int(steps.max())
    if max_steps:
        # pairs[i] = d[i] | d[i + 1] << 8: the next two bytes as one table index.
        pairs = np.empty(len(d), np.uint16)
        pairs[:-1] = d[1:]
        pairs[-1] = 0
        pairs <<= 8
        pairs |= d
        # Sort by decreasing number of steps: the rows still active at step j
        # are then a prefix, and the work is proportional to the bytes.
        if int(steps.min()) == max_steps:
            order = None
        else:
            order = np.argsort((max_steps - steps).astype(np.uint16), kind="stable")
            pos, steps, crc = pos[order], steps[order], crc[order]
        neg_steps = -steps  # ascending
        stop = int(steps[_CRC_TAIL_ROWS]) if m > _CRC_TAIL_ROWS else 0
        if stop:
            active = np.searchsorted(neg_steps, -np.arange(stop, dtype=np.int64), side="left")
            low = crc.view(np.uint16)[0::2] if _LITTLE else crc.view(np.uint16)[1::2]
            word = np.empty(m, np.uint16)
            index = np.empty(m, np.intp)
            tab = np.empty(m, np.uint32)
            table = _CRC_T16
            for j in range(stop):
                k = int(active[j])
                w = word[:k]
                c = crc[:k]
                p = pos[:k]
                # Indices are in range by construction: mode="clip" skips the checks.
                np.take(pairs, p, out=w, mode="clip")
                np.bitwise_xor(w, low[:k], out=index[:k])
                np.take(table, index[:k], out=tab[:k], mode="clip")
                np.right_shift(c, 16, out=c)
                np.bitwise_xor(c, tab[:k], out=c)
                p += 2
        crc ^= np.uint32(0xFFFFFFFF)
        # The (at most _CRC_TAIL_ROWS) rows longer than ``stop`` steps: finish in C.
        for i in range(int(np.searchsorted(neg_steps, -stop, side="left"))):
            a = lo + int(pos[i])
            crc[i] = zlib.crc32(data[a : a + 2 * (int(steps[i]) - stop)], int(crc[i]))  # type: ignore[arg-type]  # a buffer
        if order is not None:
            unsorted = np.empty_like(crc)
            unsorted[order] = crc
            crc = unsorted
    else:
        crc ^= np.uint32(0xFFFFFFFF)
    if long_mask.any():
        out[r0:r1] = np.where(long_mask, out[r0:r1], crc)
    else:
        out[r0:r1] = crc


def crc32(arr: pa.Array) -> np.ndarray:
    """CRC-32 of the UTF-8 bytes of each string.

    Exact Python equivalent per element ``s``: ``zlib.crc32(s.encode("utf-8"))``.

    Table-driven CRC-32 (zlib's polynomial) iterating over byte *position*,
    vectorized over rows, two bytes per step through a 65536-entry table.  Rows
    are sorted by decreasing length so the rows still active at a position are
    a prefix: the work is proportional to the total number of bytes.  Rows of
    4 KiB or more, and the last handful of rows longer than all others, are
    finished with ``zlib.crc32`` (at most one Python call per 4 KiB or 16 calls
    per chunk), so one huge string among short ones costs its length, not one
    numpy round per byte.

    Parameters
    ----------
    arr : pa.Array
        ``string`` or ``large_string`` array.

    Returns
    -------
    np.ndarray
        ``uint32``; unspecified (no error) at null slots.

    Examples
    --------
    >>> import zlib
    >>> crc32(pa.array(["", "abc", "café"])).tolist() == [
    ...     zlib.crc32(s.encode("utf-8")) for s in ["", "abc", "café"]]
    True
    """
    arr = _check(arr)
    n = len(arr)
    out = np.zeros(n, np.uint32)
    if n == 0:
        return out
    off, data = _layout(arr)
    lens = np.diff(off)
    for r in np.flatnonzero(lens >= _CRC_LONG_ROW).tolist():
        out[r] = zlib.crc32(data[int(off[r]) : int(off[r + 1])])  # type: ignore[arg-type]  # a buffer
    r0 = 0
    while r0 < n:
        r1 = int(np.searchsorted(off, off[r0] + _CRC_CHUNK_BYTES, side="right")) - 1
        r1 = min(max(r1, r0 + 1), n)
        _crc32_chunk(data, off, r0, r1, out)
        r0 = r1
    return out


# --------------------------------------------------------------------------- lengths & tokens


def char_length(arr: pa.Array) -> np.ndarray:
    """Number of code points of each string.

    Exact Python equivalent per element ``s``: ``len(s)``.  (Arrow's
    ``utf8_length`` counts code points of valid UTF-8, which is what ``len``
    counts.)

    Returns
    -------
    np.ndarray
        ``int64``; 0 at null slots.

    Examples
    --------
    >>> char_length(pa.array(["", "abc", "e\\u0301", "ﬃ", "😀"])).tolist()
    [0, 3, 2, 1, 1]
    """
    arr = _check(arr)
    return _np_filled(pc.utf8_length(arr), 0, np.int64)


def _ws_bytes(d: np.ndarray) -> np.ndarray:
    """Bool mask over UTF-8 bytes ``d``: True for every byte of a character in
    :data:`PY_WHITESPACE` (``str.isspace``)."""
    # ASCII: 9..13 and 28..32, with uint8 wrap-around: t = d - 9 in 0..4 or 19..23.
    t = d - np.uint8(9)
    ws = t <= 4
    t -= np.uint8(19)
    ws |= t <= 4
    # Multi-byte whitespace starts with 0xC2, 0xE1, 0xE2 or 0xE3 (never continuation bytes).
    pos = np.flatnonzero(d >= 0xC2)
    if len(pos):
        b0 = d[pos]
        pos = pos[(b0 == 0xC2) | ((b0 - np.uint8(0xE1)) <= 2)]
    if len(pos):
        last = len(d) - 1
        b0 = d[pos].astype(np.uint32)
        b1 = d[np.minimum(pos + 1, last)].astype(np.uint32)
        b2 = d[np.minimum(pos + 2, last)].astype(np.uint32)
        key2 = (b0 << 8) | b1
        key3 = (key2 << 8) | b2
        is2 = np.isin(key2, _WS2_KEYS)
        is3 = np.isin(key3, _WS3_KEYS)
        p2 = pos[is2]
        p3 = pos[is3]
        for k in range(2):
            ws[np.minimum(p2 + k, last)] = True
        for k in range(3):
            ws[np.minimum(p3 + k, last)] = True
    return ws


def token_count(arr: pa.Array) -> np.ndarray:
    """Number of whitespace-separated tokens of each string.

    Exact Python equivalent per element ``s``: ``len(s.split())``, i.e. runs of
    characters for which ``str.isspace()`` is true separate tokens (the 29 code
    points of :data:`PY_WHITESPACE`, including U+001C..U+001F, U+0085, U+00A0,
    U+3000; *not* U+200B).

    Computed on the UTF-8 bytes: every byte of a whitespace character is
    marked, and a token starts at each non-whitespace byte preceded by a
    whitespace byte or by the start of its row (continuation bytes are never
    preceded by whitespace, so each character is counted once).

    Returns
    -------
    np.ndarray
        ``int64``; unspecified (but no error) at null slots.

    Examples
    --------
    >>> token_count(pa.array(["", "  a b  ", "word\\u00a0café\\tword", "a\\u200bb", "x\\x1cy"])).tolist()
    [0, 2, 3, 1, 2]
    """
    arr = _check(arr)
    n = len(arr)
    off, data = _layout(arr)
    lo, hi = int(off[0]), int(off[-1])
    if n == 0 or hi == lo:
        return np.zeros(n, np.int64)
    d = data[lo:hi]
    nbytes = hi - lo
    ws = _ws_bytes(d)
    prev = np.empty(nbytes, bool)
    prev[0] = True
    prev[1:] = ws[:-1]
    rel = off - lo
    starts = rel[:-1][np.diff(rel) > 0]
    prev[starts] = True
    start = prev > ws  # preceded by whitespace/row start, and not whitespace itself
    cs = np.empty(nbytes + 1, np.int32 if nbytes < 2**31 - 1 else np.int64)
    cs[0] = 0
    np.cumsum(start, out=cs[1:])
    return (cs[rel[1:]] - cs[rel[:-1]]).astype(np.int64)


# --------------------------------------------------------------------------- code points


def _nonascii_codepoints(d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Positions (into ``d``) of the lead bytes of non-ASCII characters and the
    code points they start (``d`` is valid UTF-8)."""
    pos = np.flatnonzero(d >= 0xC0)
    if not len(pos):
        return pos, np.zeros(0, np.int32)
    b0 = d[pos]
    c1 = np.take(d, pos + 1, mode="clip").astype(np.int32) & 0x3F
    cp = ((b0 & 0x1F).astype(np.int32) << 6) | c1  # 2-byte sequences
    i3 = np.flatnonzero(b0 >= 0xE0)
    if len(i3):
        p3 = pos[i3]
        b3 = b0[i3]
        c13 = c1[i3]
        c2 = np.take(d, p3 + 2, mode="clip").astype(np.int32) & 0x3F
        cp[i3] = ((b3 & 0x0F).astype(np.int32) << 12) | (c13 << 6) | c2
        j4 = np.flatnonzero(b3 >= 0xF0)
        if len(j4):
            c3 = np.take(d, p3[j4] + 3, mode="clip").astype(np.int32) & 0x3F
            cp[i3[j4]] = ((b3[j4] & 0x07).astype(np.int32) << 18) | (c13[j4] << 12) | (c2[j4] << 6) | c3
    return pos, cp


_VERDICTS: dict[str, dict[int, bool]] = {}
_VERDICT_LOCK = threading.Lock()


def _bad_positions(op: str, cps: np.ndarray, check: Callable[[list[int]], list[bool]]) -> np.ndarray:
    """Bool mask over ``cps``: True where the fast path is not verified to be exact
    for that code point.  ``check(cps)`` returns, per code point, whether the fast
    path is exact for it in every context; verdicts are cached per ``op``."""
    present = np.flatnonzero(np.bincount(np.minimum(cps, 0x110000)))
    with _VERDICT_LOCK:
        cache = _VERDICTS.setdefault(op, {})
        unknown = [int(c) for c in present if int(c) not in cache and c < 0x110000 and not 0xD800 <= c <= 0xDFFF]
        if unknown:
            cache.update(zip(unknown, check(unknown)))
        bad = [int(c) for c in present if not cache.get(int(c), False)]
    if not bad:
        return np.zeros(len(cps), bool)
    lut = np.zeros(0x110001, bool)
    lut[bad] = True
    return lut[np.minimum(cps, 0x110000)]


def _rows_mask(off: np.ndarray, abs_pos: np.ndarray) -> np.ndarray:
    """Bool mask of the rows containing the given absolute byte positions."""
    mask = np.zeros(len(off) - 1, bool)
    mask[np.searchsorted(off, abs_pos, side="right") - 1] = True
    return mask


def _patch_rows(result: pa.Array, arr: pa.Array, mask: np.ndarray, func: Callable[[str], str]) -> pa.Array:
    """Replace ``result[mask]`` by ``func(arr[mask])``, calling ``func`` once per
    distinct value."""
    if arr.null_count:
        mask &= np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), bool)
    n_rows = int(np.count_nonzero(mask))
    if n_rows == 0:
        return result
    whole = n_rows == len(arr) - arr.null_count
    sub = (arr if whole else arr.filter(pa.array(mask))).dictionary_encode()
    mapped = pa.array([func(v) for v in sub.dictionary.to_pylist()], type=_LARGE)
    repl = mapped.take(sub.indices)
    if whole:
        return repl
    return pc.replace_with_mask(result, pa.array(mask), repl)


def _per_codepoint_map(
    arr: pa.Array,
    op: str,
    fast: Callable[[pa.Array], pa.Array],
    ascii_fast: Callable[[pa.Array], pa.Array],
    check: Callable[[list[int]], list[bool]],
    py: Callable[[str], str],
) -> pa.Array:
    arr = _check(arr)
    off, data = _layout(arr)
    lo = int(off[0])
    pos, cps = _nonascii_codepoints(data[lo : int(off[-1])])
    if not len(pos):
        return _large(ascii_fast(arr))
    result = _large(fast(arr))
    bad = _bad_positions(op, cps, check)
    if not bad.any():
        return result
    return _patch_rows(result, arr, _rows_mask(off, pos[bad] + lo), py)


# --------------------------------------------------------------------------- case mapping

_SIGMA = 0x3A3  # str.lower() maps it by context (final sigma)


def _case_check(kernel: Callable[[pa.Array], pa.Array], py: Callable[[str], str], context: frozenset[int]):
    def check(cps: list[int]) -> list[bool]:
        chars = [chr(c) for c in cps]
        got = kernel(pa.array(chars, type=_LARGE)).to_pylist()
        return [c not in context and g == py(ch) for c, ch, g in zip(cps, chars, got)]

    return check


_LOWER_CHECK = _case_check(pc.utf8_lower, str.lower, frozenset({_SIGMA}))
_UPPER_CHECK = _case_check(pc.utf8_upper, str.upper, frozenset())
_CASEFOLD_CHECK = _case_check(pc.utf8_lower, str.casefold, frozenset())


def lower(arr: pa.Array) -> pa.Array:
    """Lower-case each string with Python's full Unicode rules.

    Exact Python equivalent per element ``s``: ``s.lower()`` (``"İ".lower()`` is
    two code points, a final ``"Σ"`` becomes ``"ς"``).

    Arrow's ``utf8_lower`` (simple case mapping, possibly another Unicode
    version) is used for rows whose code points are all verified to map like
    Python; other rows (and rows containing ``"Σ"``) are recomputed with
    ``str.lower`` over their distinct values.

    Returns
    -------
    pa.Array
        ``large_string``; null at null slots.

    Examples
    --------
    >>> lower(pa.array(["ABC", "ÀÉ", "İ", "ΟΔΟΣ"])).to_pylist()
    ['abc', 'àé', 'i̇', 'οδος']
    """
    return _per_codepoint_map(arr, "lower", pc.utf8_lower, pc.ascii_lower, _LOWER_CHECK, str.lower)


def upper(arr: pa.Array) -> pa.Array:
    """Upper-case each string with Python's full Unicode rules.

    Exact Python equivalent per element ``s``: ``s.upper()`` (``"ß".upper()`` is
    ``"SS"``, ``"ﬃ".upper()`` is ``"FFI"``).  Same strategy as :func:`lower`.

    Returns
    -------
    pa.Array
        ``large_string``; null at null slots.

    Examples
    --------
    >>> upper(pa.array(["abc", "straße", "ﬃ"])).to_pylist()
    ['ABC', 'STRASSE', 'FFI']
    """
    return _per_codepoint_map(arr, "upper", pc.utf8_upper, pc.ascii_upper, _UPPER_CHECK, str.upper)


def casefold(arr: pa.Array) -> pa.Array:
    """Case-fold each string.

    Exact Python equivalent per element ``s``: ``s.casefold()`` (``"ß"`` becomes
    ``"ss"``, ``"ς"`` becomes ``"σ"``).  Arrow has no case folding: rows whose
    code points all case-fold like Arrow's ``utf8_lower`` use it, the others are
    recomputed with ``str.casefold`` over their distinct values.

    Returns
    -------
    pa.Array
        ``large_string``; null at null slots.

    Examples
    --------
    >>> casefold(pa.array(["ABC", "Straße", "ΣΊΣΥΦΟΣ"])).to_pylist()
    ['abc', 'strasse', 'σίσυφοσ']
    """
    return _per_codepoint_map(arr, "casefold", pc.utf8_lower, pc.ascii_lower, _CASEFOLD_CHECK, str.casefold)


# --------------------------------------------------------------------------- strip


def strip(arr: pa.Array) -> pa.Array:
    """Remove leading and trailing whitespace.

    Exact Python equivalent per element ``s``: ``s.strip()``.  Arrow's
    ``utf8_trim_whitespace`` defines Unicode whitespace exactly like CPython's
    ``str.isspace`` (bidi class WS, B or S, or category Zs), so it is used as is
    (``ascii_trim_whitespace`` would NOT be: it ignores U+001C..U+001F).

    Returns
    -------
    pa.Array
        ``large_string``; null at null slots.

    Examples
    --------
    >>> strip(pa.array([" a b\\t", "\\u3000x\\x1c", "\\u200bx\\u200b"])).to_pylist()
    ['a b', 'x', '\\u200bx\\u200b']
    """
    return _large(pc.utf8_trim_whitespace(_check(arr)))


def lstrip(arr: pa.Array) -> pa.Array:
    """Remove leading whitespace.

    Exact Python equivalent per element ``s``: ``s.lstrip()`` (see :func:`strip`).

    Returns
    -------
    pa.Array
        ``large_string``; null at null slots.

    Examples
    --------
    >>> lstrip(pa.array([" a ", "\\xa0b"])).to_pylist()
    ['a ', 'b']
    """
    return _large(pc.utf8_ltrim_whitespace(_check(arr)))


def rstrip(arr: pa.Array) -> pa.Array:
    """Remove trailing whitespace.

    Exact Python equivalent per element ``s``: ``s.rstrip()`` (see :func:`strip`).

    Returns
    -------
    pa.Array
        ``large_string``; null at null slots.

    Examples
    --------
    >>> rstrip(pa.array([" a ", "b\\u2029"])).to_pylist()
    [' a', 'b']
    """
    return _large(pc.utf8_rtrim_whitespace(_check(arr)))


# --------------------------------------------------------------------------- normalization

NormalForm = Literal["NFC", "NFD", "NFKC", "NFKD"]
_NF_FORMS: tuple[NormalForm, ...] = ("NFC", "NFD", "NFKC", "NFKD")
_COMPOSITION_SECONDS: frozenset[int] | None = None


def _composition_seconds() -> frozenset[int]:
    """Code points that are the second element of a canonical two-code-point
    decomposition (the only ones that can combine with a preceding character
    under NFC/NFKC).  Computed once per process (~0.4 s)."""
    global _COMPOSITION_SECONDS
    if _COMPOSITION_SECONDS is None:
        seconds = set()
        decomposition = unicodedata.decomposition
        for cp in range(sys.maxunicode + 1):
            dec = decomposition(chr(cp))
            if dec and dec[0] != "<":
                parts = dec.split()
                if len(parts) == 2:
                    seconds.add(int(parts[1], 16))
        # Hangul syllable composition: L + V and LV + T.
        seconds.update(range(0x1161, 0x1176))
        seconds.update(range(0x11A8, 0x11C3))
        _COMPOSITION_SECONDS = frozenset(seconds)
    return _COMPOSITION_SECONDS


def _nf_check(form: NormalForm) -> Callable[[list[int]], list[bool]]:
    """Per code point: True when every string made only of such code points is
    left unchanged by ``unicodedata.normalize(form, .)``.

    NFD/NFKD: the code point is its own decomposition and a starter, so
    decomposition is the identity and there is nothing to reorder.
    NFC/NFKC: additionally, it is stable under the form, it and the first code
    point of its decomposition are starters that never combine with a
    preceding character; hence decomposition blocks start with an uncombinable
    starter and the composition of each block is the code point itself.
    """
    decomp: NormalForm | None = "NFD" if form == "NFC" else "NFKD" if form == "NFKC" else None

    def check(cps: list[int]) -> list[bool]:
        seconds = _composition_seconds() if decomp else frozenset()
        out = []
        for cp in cps:
            ch = chr(cp)
            ok = unicodedata.combining(ch) == 0 and unicodedata.normalize(form, ch) == ch
            if ok and decomp:
                first = unicodedata.normalize(decomp, ch)[0]
                ok = cp not in seconds and ord(first) not in seconds and unicodedata.combining(first) == 0
            out.append(ok)
        return out

    return check


_NF_CHECKS = {form: _nf_check(form) for form in _NF_FORMS}


def normalize(arr: pa.Array, form: NormalForm) -> pa.Array:
    """Unicode normalization with Python's ``unicodedata`` (same Unicode version
    as the row path).

    Exact Python equivalent per element ``s``: ``unicodedata.normalize(form, s)``.

    ASCII rows, and rows made only of code points proven to be left unchanged
    (see ``_nf_check``), are returned as is; the other rows are normalized with
    ``unicodedata.normalize`` over their distinct values.  Arrow's
    ``utf8_normalize`` is not used: its Unicode version differs from Python's.

    Parameters
    ----------
    arr : pa.Array
        ``string`` or ``large_string`` array.
    form : {"NFC", "NFD", "NFKC", "NFKD"}

    Returns
    -------
    pa.Array
        ``large_string``; null at null slots.

    Examples
    --------
    >>> normalize(pa.array(["e\\u0301", "ﬃ", "abc"]), "NFKC").to_pylist()
    ['é', 'ffi', 'abc']
    >>> [len(s) for s in normalize(pa.array(["é"]), "NFD").to_pylist()]
    [2]
    """
    if form not in _NF_FORMS:
        raise ValueError(f"form must be one of {_NF_FORMS}, got {form!r}")
    return _per_codepoint_map(
        arr,
        "normalize:" + form,
        lambda a: a,
        lambda a: a,
        _NF_CHECKS[form],
        lambda s: unicodedata.normalize(form, s),
    )


# --------------------------------------------------------------------------- regex


def _compile(pattern: str | re.Pattern[str]) -> re.Pattern[str]:
    if isinstance(pattern, re.Pattern):
        if not isinstance(pattern.pattern, str):
            raise TypeError("pattern must be a str pattern, not bytes")
        return pattern
    if isinstance(pattern, str):
        return re.compile(pattern)
    raise TypeError(f"pattern must be a str or re.Pattern, got {type(pattern).__name__}")


def _distinct_predicate(arr: pa.Array, pred: Callable[[str], bool]) -> np.ndarray:
    """Evaluate ``pred`` once per distinct non-null value; False at nulls."""
    arr = _check(arr)
    n = len(arr)
    enc = arr.dictionary_encode()
    values = enc.dictionary.to_pylist()
    if not values:
        return np.zeros(n, bool)
    table = np.fromiter((bool(pred(v)) for v in values), dtype=bool, count=len(values))
    indices = enc.indices
    if indices.null_count:
        valid = np.asarray(indices.is_valid().to_numpy(zero_copy_only=False), bool)
        idx = _np_filled(indices, 0, np.int64)
        return table[idx] & valid
    return table[np.asarray(indices.to_numpy(zero_copy_only=False), np.int64)]


def regex_search(arr: pa.Array, pattern: str | re.Pattern[str]) -> np.ndarray:
    """Whether Python's ``re`` finds ``pattern`` anywhere in each string.

    Exact Python equivalent per element ``s``: ``re.search(pattern, s) is not None``.
    The pattern is compiled once and evaluated once per distinct value.

    Returns
    -------
    np.ndarray
        ``bool``; False at null slots.

    Examples
    --------
    >>> regex_search(pa.array(["abc", "xyz", None, "ABC"]), r"b").tolist()
    [True, False, False, False]
    >>> regex_search(pa.array(["a\\u00a0b", "ab"]), r"a\\sb").tolist()
    [True, False]
    """
    rx = _compile(pattern)
    return _distinct_predicate(arr, lambda s: rx.search(s) is not None)


def regex_fullmatch(arr: pa.Array, pattern: str | re.Pattern[str]) -> np.ndarray:
    """Whether Python's ``re`` matches ``pattern`` against the whole string.

    Exact Python equivalent per element ``s``: ``re.fullmatch(pattern, s) is not None``.
    The pattern is compiled once and evaluated once per distinct value.

    Returns
    -------
    np.ndarray
        ``bool``; False at null slots.

    Examples
    --------
    >>> regex_fullmatch(pa.array(["123", "12a", "٣"]), r"\\d+").tolist()
    [True, False, True]
    """
    rx = _compile(pattern)
    return _distinct_predicate(arr, lambda s: rx.fullmatch(s) is not None)


# --------------------------------------------------------------------------- literal matching


def contains(arr: pa.Array, sub: str) -> np.ndarray:
    """Literal substring test.

    Exact Python equivalent per element ``s``: ``sub in s``.  (For valid UTF-8 a
    byte-level match is a code-point-level match.)

    Returns
    -------
    np.ndarray
        ``bool``; False at null slots.

    Examples
    --------
    >>> contains(pa.array(["café", "cafe", ""]), "fé").tolist()
    [True, False, False]
    """
    arr = _check(arr)
    sub = _check_str(sub, "sub")
    if not _utf8_ok(sub):
        return np.zeros(len(arr), bool)
    return _np_filled(pc.match_substring(arr, pattern=sub), False, bool)


def startswith(arr: pa.Array, prefix: str) -> np.ndarray:
    """Literal prefix test.

    Exact Python equivalent per element ``s``: ``s.startswith(prefix)``.

    Returns
    -------
    np.ndarray
        ``bool``; False at null slots.

    Examples
    --------
    >>> startswith(pa.array(["café", "Café", ""]), "ca").tolist()
    [True, False, False]
    """
    arr = _check(arr)
    prefix = _check_str(prefix, "prefix")
    if not _utf8_ok(prefix):
        return np.zeros(len(arr), bool)
    return _np_filled(pc.starts_with(arr, pattern=prefix), False, bool)


def endswith(arr: pa.Array, suffix: str) -> np.ndarray:
    """Literal suffix test.

    Exact Python equivalent per element ``s``: ``s.endswith(suffix)``.

    Returns
    -------
    np.ndarray
        ``bool``; False at null slots.

    Examples
    --------
    >>> endswith(pa.array(["café", "cafe\\u0301"]), "é").tolist()
    [True, False]
    """
    arr = _check(arr)
    suffix = _check_str(suffix, "suffix")
    if not _utf8_ok(suffix):
        return np.zeros(len(arr), bool)
    return _np_filled(pc.ends_with(arr, pattern=suffix), False, bool)


def equals(arr: pa.Array, value: str) -> np.ndarray:
    """Exact equality with a literal (code points, no normalization).

    Exact Python equivalent per element ``s``: ``s == value``.

    Returns
    -------
    np.ndarray
        ``bool``; False at null slots.

    Examples
    --------
    >>> equals(pa.array(["é", "e\\u0301", None]), "é").tolist()
    [True, False, False]
    """
    arr = _check(arr)
    value = _check_str(value, "value")
    if not _utf8_ok(value):
        return np.zeros(len(arr), bool)
    return _np_filled(pc.equal(arr, pa.scalar(value, type=arr.type)), False, bool)


def _value_set(values: Sequence[str], typ: pa.DataType) -> tuple[pa.Array, np.ndarray]:
    """Distinct encodable values (first occurrence kept) and their positions in ``values``."""
    if isinstance(values, str):
        raise TypeError("values must be a sequence of str, not a str")
    first: dict[str, int] = {}
    for i, v in enumerate(values):
        _check_str(v, f"values[{i}]")
        if v not in first and _utf8_ok(v):
            first[v] = i
    return pa.array(list(first), type=typ), np.fromiter(first.values(), np.int64, len(first))


def is_in(arr: pa.Array, values: Sequence[str]) -> np.ndarray:
    """Membership in a set of literals (exact code-point equality).

    Exact Python equivalent per element ``s``: ``s in set(values)``.

    Returns
    -------
    np.ndarray
        ``bool``; False at null slots.

    Examples
    --------
    >>> is_in(pa.array(["a", "b", None, "ß"]), ["ß", "a"]).tolist()
    [True, False, False, True]
    """
    arr = _check(arr)
    vset, _ = _value_set(values, arr.type)
    if not len(vset):
        return np.zeros(len(arr), bool)
    return _np_filled(pc.is_in(arr, value_set=vset, skip_nulls=True), False, bool)


def index_in(arr: pa.Array, values: Sequence[str]) -> np.ndarray:
    """Position of each string in ``values`` (first occurrence), -1 if absent.

    Exact Python equivalent per element ``s``:
    ``values.index(s) if s in values else -1``.

    Returns
    -------
    np.ndarray
        ``int64``; -1 at null slots.

    Examples
    --------
    >>> index_in(pa.array(["b", "a", "z", None]), ["a", "b", "a"]).tolist()
    [1, 0, -1, -1]
    """
    arr = _check(arr)
    vset, positions = _value_set(values, arr.type)
    if not len(vset):
        return np.full(len(arr), -1, np.int64)
    idx = _np_filled(pc.index_in(arr, value_set=vset, skip_nulls=True), -1, np.int64)
    found = idx >= 0
    idx[found] = positions[idx[found]]
    return idx


# --------------------------------------------------------------------------- concat


def concat(arrays: Sequence[pa.Array]) -> pa.Array:
    """Element-wise concatenation of several string arrays of equal length.

    Exact Python equivalent per row: ``"".join(parts)`` where ``parts`` are the
    row's elements of ``arrays`` in order.

    Returns
    -------
    pa.Array
        ``large_string``; null where any part is null.

    Examples
    --------
    >>> concat([pa.array(["a", "é"]), pa.array(["b", ""]), pa.array(["", "\\u0301"])]).to_pylist()
    ['ab', 'é́']
    """
    if isinstance(arrays, (pa.Array, pa.ChunkedArray)) or not len(arrays):
        raise ValueError("concat() needs a non-empty list of string arrays")
    parts = [_large(_check(a, f"arrays[{i}]")) for i, a in enumerate(arrays)]
    n = len(parts[0])
    for i, p in enumerate(parts):
        if len(p) != n:
            raise ValueError(f"arrays[{i}] has length {len(p)}, expected {n}")
    if len(parts) == 1:
        return parts[0]
    return _large(pc.binary_join_element_wise(*parts, pa.scalar("", type=_LARGE)))
