"""The one JSON wire codec: strict JSON, with tags for what JSON cannot hold.

Fitted state, manifests' payloads, golden vectors, serving logs and parity reports all travel
as strict JSON (``allow_nan=False``; a bare ``NaN``/``Infinity`` is rejected when read). The
values JSON has no literal for are written as one-key tagged objects:

* non-finite floats: ``{"$float": "nan" | "inf" | "-inf"}``;
* datetimes: ``{"$datetime": "<ISO-8601>"}`` (a ``date`` is written as its midnight);
* bytes: ``{"$bytes": "<base64>"}``.

Ints of any size stay exact (JSON integers are arbitrary precision in Python), finite floats
round-trip bit for bit (``repr`` is shortest-exact), numpy scalars and arrays become plain
Python values.

Serving logs written before this codec used untagged names (``{"float": "nan"}``,
``{"datetime": iso}``, ``{"bytes": <latin-1 text>}``); :func:`decode_logged` reads both,
while :func:`loads` (state, artifacts) reads only the ``$`` tags.

>>> dumps({"a": float("inf"), "b": [1.5, float("nan")]})
'{"a":{"$float":"inf"},"b":[1.5,{"$float":"nan"}]}'
>>> loads(dumps({"x": -0.0}))["x"]
-0.0
>>> decode_logged({"float": "-inf"}), decode_logged({"$bytes": "AP8="})
(-inf, b'\\x00\\xff')
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import json
import math
from collections.abc import Callable, Mapping
from typing import Any

FLOAT_TAG = "$float"
DATETIME_TAG = "$datetime"
BYTES_TAG = "$bytes"
LEGACY_TAGS = ("float", "datetime", "bytes")
"""The tags of serving logs written before this codec (read by :func:`decode_logged` only)."""

_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def float_tag(value: float) -> dict[str, str]:
    """The tagged form of a non-finite float.

    >>> float_tag(float("-inf"))
    {'$float': '-inf'}
    """
    return {FLOAT_TAG: "nan" if value != value else ("inf" if value > 0 else "-inf")}


def encode_scalar(value: Any) -> Any:
    """The JSON form of one scalar; raises ``TypeError`` for anything that is not a scalar.

    >>> encode_scalar(b"a"), encode_scalar(_dt.date(2026, 1, 5))
    ({'$bytes': 'YQ=='}, {'$datetime': '2026-01-05T00:00:00'})
    """
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else float_tag(value)
    if isinstance(value, _dt.datetime):
        return {DATETIME_TAG: value.isoformat()}
    if isinstance(value, _dt.date):
        return {DATETIME_TAG: _dt.datetime(value.year, value.month, value.day).isoformat()}
    if isinstance(value, (bytes, bytearray)):
        return {BYTES_TAG: base64.b64encode(bytes(value)).decode("ascii")}
    item = getattr(value, "item", None)  # numpy scalar
    if callable(item) and getattr(value, "ndim", 0) == 0:
        return encode_scalar(item())
    raise TypeError(f"cannot encode {type(value).__name__} value {value!r} as JSON")


def to_jsonable(value: Any, *, default: Callable[[Any], Any] | None = None) -> Any:
    """``value`` with dict keys as strings, tags for non-JSON scalars, numpy made plain Python.

    A value that is none of these raises ``TypeError``, or becomes ``default(value)``.
    """
    if isinstance(value, dict):
        return {str(k): to_jsonable(v, default=default) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v, default=default) for v in value]
    tolist = getattr(value, "tolist", None)  # numpy array
    if callable(tolist) and getattr(value, "ndim", 0) > 0:
        return to_jsonable(tolist(), default=default)
    try:
        return encode_scalar(value)
    except TypeError:
        if default is not None:
            return default(value)
        raise TypeError(f"cannot store {type(value).__name__} value {value!r} in JSON") from None


def _decode_tag(key: str, body: Any) -> tuple[bool, Any]:
    """``(True, value)`` when ``{key: body}`` is a well-formed tag, else ``(False, None)``."""
    if type(body) is not str:
        return False, None
    if key in (FLOAT_TAG, "float"):
        return (True, _NON_FINITE[body]) if body in _NON_FINITE else (False, None)
    if key in (DATETIME_TAG, "datetime"):
        try:
            return True, _dt.datetime.fromisoformat(body)
        except ValueError:
            return False, None
    if key == BYTES_TAG:
        try:
            return True, base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            return False, None
    if key == "bytes":
        try:
            return True, body.encode("latin-1")
        except UnicodeEncodeError:
            return False, None
    return False, None


def from_jsonable(value: Any) -> Any:
    """Invert :func:`to_jsonable`: undo the ``$`` tags (legacy log tags stay plain objects)."""
    if isinstance(value, dict):
        if len(value) == 1:
            key = next(iter(value))
            if key in (FLOAT_TAG, DATETIME_TAG, BYTES_TAG):
                ok, decoded = _decode_tag(key, value[key])
                if ok:
                    return decoded
        return {k: from_jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_jsonable(v) for v in value]
    return value


def decode_logged(value: Any) -> Any:
    """One logged value with its tag undone: the ``$`` tags and the legacy log tags.

    A malformed tag (``{"float": "abc"}``) is returned unchanged, as the skew reader does.
    """
    if type(value) is dict and len(value) == 1:
        key = next(iter(value))
        if key in (FLOAT_TAG, DATETIME_TAG, BYTES_TAG) or key in LEGACY_TAGS:
            ok, decoded = _decode_tag(key, value[key])
            if ok:
                return decoded
    return value


def decode_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """A logged ``input`` or ``output`` object with every tag undone.

    >>> decode_row({"t": {"datetime": "2026-01-05T10:00:00+00:00"}, "x": 1})["t"].year
    2026
    """
    return {k: decode_logged(v) for k, v in row.items()}


def dumps(value: Any, *, indent: int | None = None, ascii: bool = False) -> str:
    """Serialise ``value`` to strict JSON (sorted keys, compact unless ``indent``, tags).

    ``ascii=True`` escapes every non-ASCII character, so text that is not valid Unicode (a
    lone surrogate) still round-trips through UTF-8 bytes.
    """
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(
        to_jsonable(value),
        allow_nan=False,
        sort_keys=True,
        indent=indent,
        separators=separators,
        ensure_ascii=ascii,
    )


def _reject_constant(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name!r}; non-finite floats must be tagged")


def loads(text: str | bytes) -> Any:
    """Parse strict JSON written by :func:`dumps`; bare ``NaN``/``Infinity`` are rejected."""
    return from_jsonable(json.loads(text, parse_constant=_reject_constant))
