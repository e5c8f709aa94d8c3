"""Text to values: timestamps, ints, floats and bools, exactly as both paths read them.

Pure standard library, so the serving path can use it. Every function returns None for text
that does not parse instead of raising: the callers (the ``parse_*`` ops, the input contract,
the spec loader) decide what a failed parse means. The row path calls these functions by the
short names of its namespace (``_parse_ts``, ``_parse_int``, ...; :mod:`featurekit.values.rowlib`);
the batch path maps them over the distinct values of a column.

>>> parse_timestamp("1970-01-01T00:00:01", None, "UTC")
1000000
>>> parse_int("12"), parse_int("1e3"), parse_float(" 2.5 "), parse_bool(" TRUE "), parse_bool("yes")
(12, None, 2.5, True, None)
>>> is_time_zone("Europe/Berlin"), is_time_zone("Mars/Olympus")
(True, False)
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from featurekit.types import INT64_MAX, INT64_MIN

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


def datetime_to_us(value: Any, tz: str = "UTC") -> int:
    """Exact microseconds since the epoch of a ``datetime``; a naive value is taken to be in ``tz``."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        if tz == "UTC":
            value = value.replace(tzinfo=_dt.UTC)
        else:
            from zoneinfo import ZoneInfo

            value = value.replace(tzinfo=ZoneInfo(tz))
    delta = value - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def parse_timestamp(text: str, fmt: str | None, tz: str) -> int | None:
    """UTC microseconds of ``text`` (ISO 8601 when ``fmt`` is None, else a ``strptime`` format);
    a naive time is in ``tz``. None when the text does not parse."""
    try:
        value = _dt.datetime.fromisoformat(text) if fmt is None else _dt.datetime.strptime(text, fmt)
    except (ValueError, TypeError, OverflowError):
        return None
    return datetime_to_us(value, tz)


def is_time_zone(name: str) -> bool:
    """Whether ``name`` is a time zone this host knows (an IANA name such as ``Europe/Berlin``)."""
    from zoneinfo import ZoneInfo

    try:
        ZoneInfo(name)
    except Exception:  # noqa: BLE001 - ZoneInfoNotFoundError, ValueError (a path, ""), TypeError...
        return False
    return True


def parse_int(text: str) -> int | None:
    """``int(text)`` as Python parses it, or None; results outside int64 give None."""
    try:
        value = int(text)
    except (ValueError, TypeError):
        return None
    return value if INT64_MIN <= value <= INT64_MAX else None


def parse_float(text: str) -> float | None:
    """``float(text)`` as Python parses it, or None."""
    try:
        return float(text)
    except (ValueError, TypeError):
        return None


_TRUE = frozenset({"true", "1"})
_FALSE = frozenset({"false", "0"})


def parse_bool(text: str) -> bool | None:
    """ "true"/"1" -> True, "false"/"0" -> False (case-insensitive, stripped), else None."""
    word = text.strip().lower()
    return True if word in _TRUE else (False if word in _FALSE else None)
