"""Strict JSON for fitted state and manifests.

Fitted state must round-trip bit for bit through a strict parser (``allow_nan=False``).
Non-finite floats are written as tagged objects, ``{"$float": "nan" | "inf" | "-inf"}``;
ints of any size stay exact because JSON integers are arbitrary precision in Python.

>>> dumps({"a": float("inf"), "b": [1.5, float("nan")]})
'{"a":{"$float":"inf"},"b":[1.5,{"$float":"nan"}]}'
>>> loads(dumps({"x": -0.0}))["x"]
-0.0
"""

from __future__ import annotations

import json
import math
from typing import Any

_TAG = "$float"
_NON_FINITE = {"nan": math.nan, "inf": math.inf, "-inf": -math.inf}


def to_jsonable(value: Any) -> Any:
    """Return ``value`` with non-finite floats tagged and numpy scalars made plain Python."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isfinite(value):
            return float(value)
        return {_TAG: "nan" if value != value else ("inf" if value > 0 else "-inf")}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    item = getattr(value, "item", None)  # numpy scalar
    if callable(item):
        return to_jsonable(item())
    tolist = getattr(value, "tolist", None)  # numpy array
    if callable(tolist):
        return to_jsonable(tolist())
    raise TypeError(f"cannot store {type(value).__name__} value {value!r} in JSON state")


def from_jsonable(value: Any) -> Any:
    """Invert :func:`to_jsonable`: turn tagged objects back into floats."""
    if isinstance(value, dict):
        if len(value) == 1 and _TAG in value:
            return _NON_FINITE[value[_TAG]]
        return {k: from_jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [from_jsonable(v) for v in value]
    return value


def dumps(value: Any, *, indent: int | None = None, ascii: bool = False) -> str:
    """Serialise ``value`` to strict JSON (sorted keys, no NaN literals).

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
