"""Input contracts at the boundary: the same acceptance rules for rows and for columns.

One scalar function, :meth:`Coercer.coerce`, defines what a raw value becomes: the typed
value, null, or a violation handled by the input's ``on_violation`` policy. The row path
calls it for anything off its inlined fast path; the batch path calls it for object columns
(mixed Python values), and applies vectorized equivalents to typed numpy/arrow columns. The
conformance and reliability suites check that both paths agree value by value.

Accepted values (lossless casts only):

| contract  | accepted                                                                            |
|-----------|-------------------------------------------------------------------------------------|
| float     | float (NaN means null), int with ``abs <= 2**53`` (exactly representable)           |
| int       | int in int64, float that is integral with ``abs <= 2**53``                          |
| bool      | bool                                                                                |
| str       | str that is valid Unicode (no lone surrogates)                                      |
| timestamp | ``datetime`` (aware: converted to UTC; naive: in ``timezone``), ISO 8601 text       |

With ``tz: aware`` a naive value (a datetime without tzinfo, ISO text without offset) is a
``type`` violation; with ``tz: naive`` an aware one is. Open ``values`` (``open: true``) are
not a domain: any valid str is accepted.

Anything else (bool for a number, a numeric string, bytes, lists...) is a ``type``
violation. Missing is None, float NaN, pandas NA/NaT, or an absent key. An instance of a
subclass of ``str``, ``int`` or ``float`` (``class Plan(str, Enum)``, ``numpy.float64``) counts
as its plain value: its own ``__str__``, ``__int__``, ``__float__`` or comparisons are never
called, so both paths see the same content.
"""

from __future__ import annotations

import datetime as _dt
import math
from typing import Any

from featurekit.errors import ContractError
from featurekit.spec.model import InputSpec
from featurekit.types import EXACT_FLOAT_INT, INT64_MAX, INT64_MIN, plain_value
from featurekit.values.parse import datetime_to_us, parse_timestamp

_MISSING_TYPES = ("NAType", "NaTType")
_FIX = {
    "raise": "declare on_violation: null|default|clip for this input, or clean the value upstream",
}


def is_missing(value: Any) -> bool:
    """None, float NaN, pandas NA or NaT (checked without importing pandas)."""
    if value is None:
        return True
    if type(value) is float:
        return value != value
    if isinstance(value, float):  # a float subclass (numpy.float64): its plain value, not its __ne__
        value = float.__float__(value)
        return value != value
    return type(value).__name__ in _MISSING_TYPES or (type(value).__name__ in ("float32", "float16") and value != value)


class Coercer:
    """Turns one raw value into the contract's typed value (see the module table)."""

    def __init__(self, spec: InputSpec, where: str = "transform_row") -> None:
        self.spec = spec
        self.name = spec.name
        self.where = where
        self.kind = spec.type
        # the closed domain (None when there is none: no values, or open values)
        self.values = frozenset(spec.domain) if spec.domain is not None else None
        self.default = self._typed_default()
        # free text (no domain, no bounds): a valid str is accepted as is; the row path sends
        # every non-ASCII str here, so this common case skips the general classification
        self._plain_text = (
            self.kind in ("str", "category") and self.values is None and (spec.min is None and spec.max is None)
        )

    def _typed_default(self) -> Any:
        d = self.spec.default
        if d is None:
            return None
        if self.kind == "timestamp":
            return parse_timestamp(str(d), None, self.spec.timezone)
        if self.kind == "float":
            return float(d)
        return d

    # -- the rule ------------------------------------------------------------------------

    def coerce(self, value: Any) -> Any:
        """The typed value (or None) for ``value``, after the violation policy."""
        if self._plain_text and type(value) is str and _valid_unicode(value):
            return value
        typed, kind, rule = self.classify(value)
        if kind is None:
            return typed
        return self.resolve(value, typed, kind, rule)

    def classify(self, value: Any) -> tuple[Any, str | None, str | None]:
        """``(typed value, violation kind or None, rule text)``; never raises."""
        if is_missing(value):
            if self.spec.nullable:
                return None, None, None
            return None, "null", "nullable: false (a value is required)"
        typed = self._typed(value)
        if typed is _BAD:
            return None, "type", self.type_rule()
        return self.classify_typed(typed)

    def classify_typed(self, typed: Any) -> tuple[Any, str | None, str | None]:
        """Range and domain checks for a value already of the right type."""
        spec = self.spec
        if spec.min is not None and typed < spec.min or spec.max is not None and typed > spec.max:
            return typed, "range", self.range_rule()
        if self.values is not None and typed not in self.values:
            return typed, "domain", f"values {sorted(self.values)!r}"
        return typed, None, None

    def type_rule(self) -> str:
        extra = " (numeric strings are not converted; bool is not a number)" if self.kind in ("int", "float") else ""
        if self.kind == "timestamp" and self.spec.tz != "any":
            extra = (
                " with a UTC offset (tz: aware refuses naive datetimes and ISO text without offset)"
                if self.spec.tz == "aware"
                else " without a UTC offset (tz: naive refuses aware datetimes and ISO text with offset)"
            )
        return f"type {self.kind}{extra}"

    def range_rule(self) -> str:
        spec = self.spec
        parts = []
        if spec.min is not None:
            parts.append(f"{spec.name} >= {spec.min!r}")
        if spec.max is not None:
            parts.append(f"{spec.name} <= {spec.max!r}")
        return "range " + " and ".join(parts)

    def replacement(self, typed: Any, kind: str) -> Any:
        """What the policy turns a violating value into; ``_RAISE`` when it must raise."""
        policy = self.spec.on_violation
        if policy == "null" and kind != "null":
            return None
        if policy == "default":
            return self.default
        if policy == "clip" and kind == "range":
            return self.spec.min if self.spec.min is not None and typed < self.spec.min else self.spec.max
        return _RAISE

    def raises_on(self, kind: str) -> bool:
        """Whether the policy raises for a violation of this kind."""
        policy = self.spec.on_violation
        return not (policy == "null" and kind != "null" or policy == "default" or policy == "clip" and kind == "range")

    def resolve(self, value: Any, typed: Any, kind: str, rule: str | None) -> Any:
        """Apply the policy to one violating value: its replacement, or raise."""
        out = self.replacement(typed, kind)
        if out is _RAISE:
            raise self.error(value, kind, rule)
        return out

    def error(
        self, value: Any, kind: str, rule: str | None, rows: list[int] | None = None, count: int | None = None
    ) -> ContractError:
        policy = self.spec.on_violation
        fix = (
            _FIX["raise"]
            if policy == "raise"
            else f"on_violation {policy!r} does not cover a {kind} violation; declare on_violation: "
            f"null|default, or clean the value upstream"
        )
        return ContractError.violation(
            input=self.name,
            rule=f"{rule} (on_violation: {policy})",
            value=value,
            where=self.where,
            fix=fix,
            rows=rows,
            count=count,
        )

    def _typed(self, value: Any) -> Any:
        value = plain_value(value)
        t = type(value)
        kind = self.kind
        if kind == "float":
            if t is float or (isinstance(value, float) and not isinstance(value, bool)):
                return float(value)
            if isinstance(value, int) and not isinstance(value, bool):
                return float(value) if abs(value) <= EXACT_FLOAT_INT else _BAD
            return _numpy_scalar(value, float)
        if kind == "int":
            if isinstance(value, int) and not isinstance(value, bool):
                return int(value) if INT64_MIN <= value <= INT64_MAX else _BAD
            if isinstance(value, float):
                if math.isfinite(value) and value == int(value) and abs(value) <= EXACT_FLOAT_INT:
                    return int(value)
                return _BAD
            return _numpy_scalar(value, int)
        if kind == "bool":
            if isinstance(value, bool):
                return value
            if type(value).__name__ in ("bool_", "bool"):  # numpy 1.x / 2.x name
                return bool(value)
            return _BAD
        if kind in ("str", "category"):
            if isinstance(value, str):
                return value if value.isascii() or _valid_unicode(value) else _BAD
            return _BAD
        if kind == "timestamp":
            return self._timestamp(value)
        raise AssertionError(kind)  # pragma: no cover - spec validation rejects other types

    def _timestamp(self, value: Any) -> Any:
        if isinstance(value, _dt.datetime):
            if getattr(value, "nanosecond", 0):  # pandas Timestamp: never drop nanoseconds silently
                return _BAD
            try:
                if self.spec.tz != "any" and not self._tz_shape_ok(value):
                    return _BAD
                return datetime_to_us(value, self.spec.timezone)
            except (OverflowError, ValueError):
                return _BAD
        if isinstance(value, str):
            if self.spec.tz != "any":
                try:
                    shape_ok = self._tz_shape_ok(_dt.datetime.fromisoformat(value))
                except (ValueError, TypeError, OverflowError):
                    return _BAD
                if not shape_ok:
                    return _BAD
            parsed = parse_timestamp(value, None, self.spec.timezone)
            return _BAD if parsed is None else parsed
        to_pydatetime = getattr(value, "to_pydatetime", None)  # pandas Timestamp
        if callable(to_pydatetime) and getattr(value, "nanosecond", 0) == 0:
            return self._timestamp(to_pydatetime())
        return _BAD

    def _tz_shape_ok(self, value: _dt.datetime) -> bool:
        """Whether a datetime has the shape ``tz`` asks for (aware: a UTC offset; naive: none)."""
        aware = value.tzinfo is not None and value.tzinfo.utcoffset(value) is not None
        return aware == (self.spec.tz == "aware")


class _Sentinel:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


_BAD = _Sentinel("bad")
_RAISE = _Sentinel("raise")


def _numpy_scalar(value: Any, kind: type) -> Any:
    """numpy int/float scalars (their type names, so numpy need not be imported)."""
    name = type(value).__name__
    if kind is float and name in ("float64", "float32", "float16"):
        return float(value)
    if kind is float and name.startswith(("int", "uint")) and name[-1].isdigit():
        v = int(value)
        return float(v) if abs(v) <= EXACT_FLOAT_INT else _BAD
    if kind is int and name.startswith(("int", "uint")) and name[-1].isdigit():
        v = int(value)
        return v if INT64_MIN <= v <= INT64_MAX else _BAD
    if kind is int and name in ("float64", "float32"):
        f = float(value)
        return int(f) if math.isfinite(f) and f == int(f) and abs(f) <= EXACT_FLOAT_INT else _BAD
    return _BAD


def _valid_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
