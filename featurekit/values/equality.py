"""When two values are the same: one policy object, :class:`Equality`, for every comparison.

:meth:`Equality.mismatch` returns None when two values agree, else the kind of mismatch:

* ``raises`` — one side raised (a :class:`Raised`) where the other returned, or both raised
  and not both with a featurekit input error (both refusing the same input is agreement);
* ``missing`` — one side has no value for the column (:data:`MISSING`);
* ``null`` — None against a value; ``null_vs_nan`` — None against a float NaN;
* ``type`` — different types (int vs float vs bool vs str ...);
* ``value`` — same type, different values (floats beyond the tolerance).

Two modes:

* ``strict`` (the default): what featurekit's own two paths must satisfy. Types count
  (``1`` is not ``1.0``), None is not NaN, floats agree bit for bit (``-0.0`` is not ``0.0``;
  NaN equals NaN), unless within ``ulps`` representable doubles or ``|a - b| <= atol +
  rtol * |b|``.
* ``value``: for comparing against code that is not featurekit (a hand-written serving path,
  a data warehouse). Numbers compare by value (``1 == 1.0``, ``-0.0 == 0.0``), every null
  (None, NaN, ``NaT``, ``pd.NA``) is the same null, a ``Timestamp`` equals the ``datetime``
  it stands for, numpy scalars are unwrapped. A bool is still not a number.

>>> strict = Equality()
>>> strict.mismatch(1, 1.0), strict.mismatch(None, float("nan")), strict.mismatch(0.0, -0.0)
('type', 'null_vs_nan', 'value')
>>> loose = Equality(mode="value")
>>> loose.mismatch(1, 1.0), loose.mismatch(None, float("nan")), loose.mismatch(True, 1)
(None, None, 'type')
>>> Equality(ulps=1).mismatch(1.0, 1.0 + 2**-52) is None
True
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
import struct
from typing import Any, Literal

from featurekit.errors import FeaturekitError

Mode = Literal["strict", "value"]
KINDS = ("value", "type", "null", "null_vs_nan", "missing", "raises")
"""Every mismatch kind :meth:`Equality.mismatch` returns."""


class _Missing:
    """The column is absent from one side's output."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()
"""Stands for a column one side's output does not have."""


class Raised:
    """One side raised ``exc`` instead of returning a value.

    >>> Raised(ValueError("bad\\nmore")).summary()
    'ValueError: bad'
    """

    __slots__ = ("exc",)

    def __init__(self, exc: BaseException) -> None:
        self.exc = exc

    def summary(self) -> str:
        text = str(self.exc).splitlines()[0] if str(self.exc) else ""
        return f"{type(self.exc).__name__}: {text[:160]}"

    @property
    def is_input_error(self) -> bool:
        """The side refused the input (a featurekit error), rather than failing."""
        return isinstance(self.exc, FeaturekitError)


_SIGN = 1 << 63


def float_order(x: float) -> int:
    """The position of a double on the number line, as an int: adjacent doubles differ by 1,
    -0.0 and 0.0 share 0 (the inverse is :func:`float_at`).

    >>> float_order(0.0), float_order(-0.0), float_order(5e-324), float_order(-5e-324)
    (0, 0, 1, -1)
    """
    bits: int = struct.unpack("<q", struct.pack("<d", x))[0]
    return bits if bits >= 0 else -(bits & (_SIGN - 1))


def float_at(order: int) -> float:
    """The double at a position of :func:`float_order` (0 gives 0.0).

    >>> float_at(float_order(1.5) + 1) == math.nextafter(1.5, 2.0)
    True
    """
    bits = order if order >= 0 else (-order) | _SIGN
    value: float = struct.unpack("<d", struct.pack("<Q", bits))[0]
    return value


def ulp_distance(a: float, b: float) -> int:
    """Number of representable doubles between ``a`` and ``b`` (0 when bit-identical).

    >>> ulp_distance(1.0, 1.0 + 2**-52), ulp_distance(0.0, -0.0)
    (1, 0)
    """
    return abs(float_order(a) - float_order(b))


def _is_null_like(v: Any) -> bool:
    """None, NaN (float or numpy), ``pd.NaT`` or ``pd.NA`` (recognised without importing pandas)."""
    if v is None:
        return True
    if isinstance(v, float):
        return v != v
    return type(v).__name__ in ("NaTType", "NAType") or (
        type(v).__module__ == "numpy" and getattr(v, "dtype", None) is not None and v != v
    )


def _plain(v: Any) -> Any:
    """``v`` as a plain Python value: numpy scalars unwrapped, a ``Timestamp`` as its ``datetime``."""
    to_py = getattr(v, "to_pydatetime", None)
    if callable(to_py):
        return to_py()
    item = getattr(v, "item", None)
    if callable(item) and type(v).__module__ == "numpy" and getattr(v, "ndim", 1) == 0:
        return item()
    return v


def _value_kind(v: Any) -> type:
    """The type a value compares as in ``value`` mode (all numbers are one kind)."""
    if isinstance(v, bool):
        return bool
    if isinstance(v, (int, float)):
        return float
    if isinstance(v, _dt.datetime):
        return _dt.datetime
    return type(v)


@dataclasses.dataclass(frozen=True)
class Equality:
    """The comparison policy: a mode and, for floats, a tolerance (see the module docstring)."""

    mode: Mode = "strict"
    ulps: int = 0
    rtol: float = 0.0
    atol: float = 0.0

    def __post_init__(self) -> None:
        if self.mode not in ("strict", "value"):
            raise ValueError(f"Equality mode must be 'strict' or 'value', not {self.mode!r}")
        if self.ulps < 0 or self.rtol < 0 or self.atol < 0:
            raise ValueError("Equality tolerances (ulps, rtol, atol) must not be negative")

    def floats_equal(self, a: float, b: float) -> bool:
        """Two floats agree: both NaN, bit-identical (in ``value`` mode: ``==``), or within tolerance."""
        if a != a or b != b:
            return a != a and b != b
        if a == b and (self.mode == "value" or math.copysign(1, a) == math.copysign(1, b)):
            return True
        if not (math.isfinite(a) and math.isfinite(b)):
            return False
        if self.ulps and ulp_distance(a, b) <= self.ulps:
            return True
        return (self.rtol or self.atol) > 0 and abs(a - b) <= self.atol + self.rtol * abs(b)

    def mismatch(self, a: Any, b: Any) -> str | None:
        """None if ``a`` and ``b`` agree under this policy, else the mismatch kind."""
        if isinstance(a, Raised) or isinstance(b, Raised):
            both_refused = isinstance(a, Raised) and isinstance(b, Raised) and a.is_input_error and b.is_input_error
            return None if both_refused else "raises"
        if a is MISSING or b is MISSING:
            return None if a is b else "missing"
        if self.mode == "value":
            return self._value_mismatch(_plain(a), _plain(b))
        if a is None or b is None:
            if a is None and b is None:
                return None
            other = b if a is None else a
            return "null_vs_nan" if isinstance(other, float) and other != other else "null"
        if type(a) is not type(b):
            return "type"
        if type(a) is float:
            return None if self.floats_equal(a, b) else "value"
        return None if a == b else "value"

    def _value_mismatch(self, a: Any, b: Any) -> str | None:
        a_null, b_null = _is_null_like(a), _is_null_like(b)
        if a_null or b_null:
            return None if a_null and b_null else "null"
        if _value_kind(a) is not _value_kind(b):
            return "type"
        if a == b:  # numbers by exact value: 1 == 1.0, -0.0 == 0.0, 2**60 + 1 != 2.0**60
            return None
        if _value_kind(a) is float and (self.ulps or self.rtol or self.atol):
            try:
                return None if self.floats_equal(float(a), float(b)) else "value"
            except OverflowError:  # an int beyond the float range
                return "value"
        return "value"

    def same(self, a: Any, b: Any) -> bool:
        """``a`` and ``b`` agree (:meth:`mismatch` is None)."""
        return self.mismatch(a, b) is None


STRICT = Equality()
"""The policy featurekit's own paths are held to: strict, no tolerance."""
