"""Plain-Python helpers the generated row function calls (its namespace: :mod:`featurekit.compile.row`).

Pure standard library: the serving path must never import pandas or numpy. Each helper
reproduces, for one scalar, exactly what the batch path's numpy/pyarrow kernel does for a
column, including IEEE edge cases numpy handles without raising (``log(0) = -inf``,
``sqrt(-1) = nan``, ``exp(1000) = inf``) and the sign of zero. The conformance suite fuzzes
each against its batch twin.

>>> _log(0.0), _sqrt(-1.0), _floor(-0.0), _round(2.5, 0)
(-inf, nan, -0.0, 2.0)
"""

from __future__ import annotations

import bisect
import math
import zlib
from typing import Any, Literal

# the parsers under the names generated row code calls them by (the row namespace is this module's names)
from featurekit.values.parse import datetime_to_us  # noqa: F401
from featurekit.values.parse import parse_bool as _parse_bool  # noqa: F401
from featurekit.values.parse import parse_float as _parse_float  # noqa: F401
from featurekit.values.parse import parse_int as _parse_int  # noqa: F401
from featurekit.values.parse import parse_timestamp as _parse_ts  # noqa: F401

_INF = math.inf
_NAN = math.nan

bisect_right = bisect.bisect_right


def _crc32(s: str) -> int:
    return zlib.crc32(s.encode("utf-8"))


def _log(x: float) -> float:
    if x > 0.0:
        return math.log(x)
    return -_INF if x == 0.0 else _NAN


def _log1p(x: float) -> float:
    if x > -1.0:
        return math.log1p(x)
    return -_INF if x == -1.0 else _NAN


def _sqrt(x: float) -> float:
    return math.sqrt(x) if x >= 0.0 else _NAN


def _exp(x: float) -> float:
    try:
        return math.exp(x)
    except OverflowError:
        return _INF


def _sin(x: float) -> float:
    """numpy.sin: ``sin(+-inf) = nan`` instead of raising."""
    return math.sin(x) if math.isfinite(x) else _NAN


def _cos(x: float) -> float:
    """numpy.cos: ``cos(+-inf) = nan`` instead of raising."""
    return math.cos(x) if math.isfinite(x) else _NAN


def _is_odd_int(y: float) -> bool:
    return math.isfinite(y) and y == math.floor(y) and math.fmod(y, 2.0) != 0.0


def _pow(x: float, y: float) -> float:
    """C ``pow`` semantics (as numpy): domain errors give nan, overflow and 0**-y give inf."""
    try:
        return math.pow(x, y)
    except OverflowError:
        return -_INF if x < 0.0 and _is_odd_int(y) else _INF
    except ValueError:
        if x == 0.0:
            return -_INF if math.copysign(1.0, x) < 0 and _is_odd_int(y) else _INF
        return _NAN


def _signed_zero(r: float, x: float) -> float:
    return math.copysign(0.0, x) if r == 0.0 else r


def _floor(x: float) -> float:
    if not math.isfinite(x):
        return x
    return _signed_zero(float(math.floor(x)), x)


def _ceil(x: float) -> float:
    if not math.isfinite(x):
        return x
    return _signed_zero(float(math.ceil(x)), x)


def _rint(x: float) -> float:
    if not math.isfinite(x):
        return x
    return _signed_zero(float(round(x)), x)  # round() on a float is half-to-even, like rint


def _round(x: float, decimals: int) -> float:
    """numpy.round: scale by 10**decimals, round half to even, scale back."""
    if decimals == 0:
        return _rint(x)
    if decimals > 0:
        f = 10.0**decimals
        return _rint(x * f) / f
    f = 10.0**-decimals
    return _rint(x / f) * f


def _min2(a: float, b: float) -> float:
    """numpy.minimum: NaN propagates; on a tie the second operand is returned."""
    return a if (a < b or a != a) else b


def _max2(a: float, b: float) -> float:
    """numpy.maximum: NaN propagates; on a tie the second operand is returned."""
    return a if (a > b or a != a) else b


def _trunc_int(x: float) -> int | None:
    """Float to int64 toward zero; NaN, inf and out-of-range give None."""
    if x != x or x in (_INF, -_INF):
        return None
    i = int(x)
    return i if -9223372036854775808 <= i <= 9223372036854775807 else None


def civil_date(us: Any) -> tuple[Any, Any, Any]:
    """(year, month, day) in UTC of microsecond timestamps (H. Hinnant's days_from_civil
    inverse): of an ``int`` on the row path, element-wise of an int64 numpy array on the batch
    path (only integer arithmetic, so both give the same digits).

    >>> civil_date(0), civil_date(-1), civil_date(951_782_400_000_000)
    ((1970, 1, 1), (1969, 12, 31), (2000, 2, 29))
    """
    z = us // 86_400_000_000 + 719_468
    era = z // 146_097
    doe = z - era * 146_097
    yoe = (doe - doe // 1460 + doe // 36_524 - doe // 146_096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 - 12 * (mp >= 10)
    return yoe + era * 400 + (m <= 2), m, d


_civil = civil_date  # the name generated row code calls it by


def format_us(us: int) -> str:
    """ISO 8601 text of UTC microseconds, also for years ``datetime`` cannot hold (year 10000).

    >>> format_us(253402300800000000)
    '10000-01-01T00:00:00Z'
    """
    y, m, d = _civil(us)
    seconds, micro = divmod(us % 86_400_000_000, 1_000_000)
    text = f"{y:04d}-{m:02d}-{d:02d}T{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
    return text + (f".{micro:06d}Z" if micro else "Z")


def _normalize(form: Literal["NFC", "NFD", "NFKC", "NFKD"], text: str) -> str:
    import unicodedata

    return unicodedata.normalize(form, text)
