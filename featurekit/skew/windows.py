"""Time windows of a serving log: the start of the day or hour each record was logged in.

A record's window is the start of the UTC day (``by="day"``) or hour (``by="hour"``) of its
logged ``time``, as ISO-8601 text; a record without a readable time goes to :data:`UNKNOWN`.
Naive times are read as UTC (the logger writes UTC offsets).

>>> key = window_key("day")
>>> key({"time": "2026-01-19T13:45:00+00:00"}), key({"time": "2026-01-19T23:30:00-02:00"}), key({})
('2026-01-19T00:00:00+00:00', '2026-01-20T00:00:00+00:00', 'unknown')
>>> window_key("hour")({"time": "2026-01-19T13:45:00+00:00"})
'2026-01-19T13:00:00+00:00'
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from featurekit.serving_log import SkewInputError

__all__ = ["UNKNOWN", "WINDOWS", "window_key"]

UNKNOWN = "unknown"
WINDOWS = ("day", "hour")


def window_key(by: str) -> Callable[[Mapping[str, Any]], str]:
    """The function giving a record's window start for windows of one ``by`` (day | hour)."""
    if by not in WINDOWS:
        raise SkewInputError(f"by={by!r}: unknown window\n  Fix: use one of {', '.join(WINDOWS)}")
    cut = 10 if by == "day" else 13  # characters of a UTC ISO timestamp kept
    pad = "T00:00:00+00:00" if by == "day" else ":00:00+00:00"

    def key(record: Mapping[str, Any]) -> str:
        text = record.get("time")
        if type(text) is not str:
            return UNKNOWN
        try:
            t = dt.datetime.fromisoformat(text)
        except ValueError:
            return UNKNOWN
        t = t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t.astimezone(dt.UTC)
        return t.isoformat()[:cut] + pad

    return key
