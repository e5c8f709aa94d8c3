"""Time and calendars: time zones, DST, epoch arithmetic, day counts, leap days."""

from __future__ import annotations

import calendar
import datetime as dt
import math

import pandas as pd

from .pair import corpus_pair

UTC = dt.UTC
AS_OF = dt.datetime(2026, 1, 1, tzinfo=UTC)
CET = dt.timezone(dt.timedelta(hours=1))


def utc_instant(rng, start=2023, end=2025):
    begin = dt.datetime(start, 1, 1, tzinfo=UTC)
    span = (dt.datetime(end, 12, 31, tzinfo=UTC) - begin).total_seconds()
    return begin + dt.timedelta(seconds=int(rng.uniform(0, span)))


def parse_ts(ts):
    """A timestamp as the gateway may send it (datetime or ISO text), zone left as received."""
    return dt.datetime.fromisoformat(ts) if isinstance(ts, str) else ts


def as_utc(ts):
    """A timestamp as the gateway may send it (datetime or ISO text; naive means UTC) -> aware UTC."""
    ts = parse_ts(ts)
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


@corpus_pair
class WallClockHour:
    """Serving takes `ts.hour` of the timestamp as received; training converts to UTC first."""

    category = "time"
    skewed = True
    edge_only = True
    inputs = "event_ts: {type: timestamp}"
    witness = {"event_ts": dt.datetime(2026, 3, 1, 12, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30)))}

    def ordinary(rng):
        return {"event_ts": utc_instant(rng)}

    def train(df):
        return pd.DataFrame({"event_hour": pd.to_datetime(df["event_ts"], utc=True).dt.hour.fillna(-1).astype(int)})

    def serve(row):
        ts = parse_ts(row.get("event_ts"))
        return {"event_hour": ts.hour if ts is not None else -1}


@corpus_pair
class BerlinHourFixedOffset:
    """Serving computes the Berlin hour as UTC+1 all year; training uses the zone (UTC+2 in summer)."""

    category = "time"
    skewed = True
    edge_only = False
    inputs = "order_ts: {type: timestamp, nullable: false}"
    witness = {"order_ts": dt.datetime(2025, 7, 1, 12, tzinfo=UTC)}

    def ordinary(rng):
        return {"order_ts": utc_instant(rng)}

    def train(df):
        local = pd.to_datetime(df["order_ts"], utc=True).dt.tz_convert("Europe/Berlin")
        return pd.DataFrame({"local_hour": local.dt.hour})

    def serve(row):
        return {"local_hour": as_utc(row["order_ts"]).astimezone(CET).hour}


@corpus_pair
class DaysSinceTruncates:
    """Serving's `int(seconds / 86400)` truncates toward zero: a timestamp after AS_OF gives 0 where training floors to -1."""

    category = "time"
    skewed = True
    edge_only = True
    inputs = "last_seen_ts: {type: timestamp}"
    witness = {"last_seen_ts": dt.datetime(2026, 1, 1, 6, tzinfo=UTC)}

    def ordinary(rng):
        return {"last_seen_ts": utc_instant(rng)}

    def train(df):
        days = (pd.Timestamp(AS_OF) - pd.to_datetime(df["last_seen_ts"], utc=True)).dt.days
        return pd.DataFrame({"days_since_seen": days})

    def serve(row):
        ts = row.get("last_seen_ts")
        if ts is None:
            return {"days_since_seen": math.nan}
        return {"days_since_seen": int((AS_OF - as_utc(ts)).total_seconds() / 86400)}


@corpus_pair
class EpochSecondsBefore1970:
    """Serving's `int(ts.timestamp())` truncates toward zero; training floors microseconds (pre-1970 differs)."""

    category = "time"
    skewed = True
    edge_only = True
    inputs = "signup_ts: {type: timestamp, nullable: false}"
    witness = {"signup_ts": dt.datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC)}

    def ordinary(rng):
        return {"signup_ts": utc_instant(rng, 2015)}

    def train(df):
        us = pd.to_datetime(df["signup_ts"], utc=True).astype("datetime64[us, UTC]").astype("int64")
        return pd.DataFrame({"signup_epoch": us // 1_000_000})

    def serve(row):
        return {"signup_epoch": int(as_utc(row["signup_ts"]).timestamp())}


@corpus_pair
class AnniversaryLeapDay:
    """Serving finds the first anniversary with `replace(year=+1)`, which raises on 29 February."""

    category = "time"
    skewed = True
    edge_only = True
    inputs = "signup_ts: {type: timestamp, nullable: false}"
    witness = {"signup_ts": dt.datetime(2024, 2, 29, 10, tzinfo=UTC)}

    def ordinary(rng):
        ts = utc_instant(rng, 2021)
        return {"signup_ts": ts if (ts.month, ts.day) != (2, 29) else ts + dt.timedelta(days=1)}

    def train(df):
        signup = pd.to_datetime(df["signup_ts"], utc=True)
        return pd.DataFrame({"anniversary_dow": (signup + pd.DateOffset(years=1)).dt.day_of_week})

    def serve(row):
        ts = as_utc(row["signup_ts"])
        return {"anniversary_dow": ts.replace(year=ts.year + 1).weekday()}


@corpus_pair
class DaysInMonthCalendar:
    """Correct: `.dt.days_in_month` (float64 with NaN once one is missing) and `calendar.monthrange`."""

    category = "time"
    skewed = False
    edge_only = False
    inputs = "invoice_ts: {type: timestamp}"

    def ordinary(rng):
        return {"invoice_ts": None if rng.random() < 0.05 else utc_instant(rng)}

    def train(df):
        return pd.DataFrame({"month_days": pd.to_datetime(df["invoice_ts"], utc=True).dt.days_in_month})

    def serve(row):
        ts = row.get("invoice_ts")
        if ts is None:
            return {"month_days": None}
        ts = as_utc(ts)
        return {"month_days": calendar.monthrange(ts.year, ts.month)[1]}


@corpus_pair
class SignupDayTimestampVsDatetime:
    """Correct: training returns naive pandas Timestamps (NaT when missing), serving naive datetimes (None)."""

    category = "time"
    skewed = False
    edge_only = False
    inputs = "signup_ts: {type: timestamp}"

    def ordinary(rng):
        return {"signup_ts": None if rng.random() < 0.05 else utc_instant(rng)}

    def train(df):
        day = pd.to_datetime(df["signup_ts"], utc=True).dt.floor("D").dt.tz_localize(None)
        return pd.DataFrame({"signup_day": day})

    def serve(row):
        ts = row.get("signup_ts")
        if ts is None:
            return {"signup_day": None}
        day = as_utc(ts).replace(hour=0, minute=0, second=0, microsecond=0)
        return {"signup_day": day.replace(tzinfo=None)}


@corpus_pair
class HourFloatVsInt:
    """Correct: `.dt.hour` is float64 with NaN once a value is missing; serving returns int or None."""

    category = "time"
    skewed = False
    edge_only = False
    inputs = "login_ts: {type: timestamp}"

    def ordinary(rng):
        return {"login_ts": None if rng.random() < 0.05 else utc_instant(rng)}

    def train(df):
        return pd.DataFrame({"login_hour": pd.to_datetime(df["login_ts"], utc=True).dt.hour})

    def serve(row):
        ts = row.get("login_ts")
        return {"login_hour": None if ts is None else as_utc(ts).hour}


PAIRS = [
    WallClockHour,
    BerlinHourFixedOffset,
    DaysSinceTruncates,
    EpochSecondsBefore1970,
    AnniversaryLeapDay,
    DaysInMonthCalendar,
    SignupDayTimestampVsDatetime,
    HourFloatVsInt,
]
