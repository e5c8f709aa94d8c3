"""The value types featurekit computes with, and how each path represents them.

| DType     | batch values (numpy)          | row values (Python)        | null in batch | null in row |
|-----------|-------------------------------|----------------------------|---------------|-------------|
| INT       | int64                         | int                        | mask          | None        |
| FLOAT     | float64                       | float                      | mask          | None        |
| BOOL      | bool                          | bool                       | mask          | None        |
| STR       | pyarrow large_string          | str                        | mask          | None        |
| TIMESTAMP | int64 microseconds since the Unix epoch, UTC | int (same)  | mask          | None        |

Inside both paths null is separate from NaN: NaN is a float value that arithmetic can produce,
null is "no value". At the input boundary a float NaN counts as missing (null), as pandas does.
"""

from __future__ import annotations

import enum
from typing import overload


class DType(enum.Enum):
    """The type of a value flowing through a feature expression."""

    INT = "int"
    """64-bit signed integer; arithmetic that leaves the int64 range gives null."""
    FLOAT = "float"
    """IEEE-754 binary64."""
    BOOL = "bool"
    """True/False."""
    STR = "str"
    """Unicode text; compared by code point, never normalized implicitly."""
    TIMESTAMP = "timestamp"
    """An instant, as integer microseconds since 1970-01-01T00:00:00Z."""

    @property
    def is_numeric(self) -> bool:
        return self in (DType.INT, DType.FLOAT)

    def __repr__(self) -> str:
        return self.value


INPUT_TYPES = {
    "int": DType.INT,
    "float": DType.FLOAT,
    "bool": DType.BOOL,
    "str": DType.STR,
    "category": DType.STR,
    "timestamp": DType.TIMESTAMP,
}
"""Spec type names users write, mapped to the type they compute with."""

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
EXACT_FLOAT_INT = 2**53
"""Largest magnitude below which every int converts to float without rounding."""

TIMESTAMP_MIN_US = -62_135_596_800_000_000
"""0001-01-01T00:00:00Z in microseconds since the epoch: the first instant a ``datetime`` holds."""
TIMESTAMP_MAX_US = 253_402_300_799_999_999
"""9999-12-31T23:59:59.999999Z: the last instant a ``datetime`` (the row path's output) holds."""


@overload
def plain_value(value: str) -> str: ...
@overload
def plain_value(value: int) -> int: ...
@overload
def plain_value(value: float) -> float: ...
@overload
def plain_value(value: object) -> object: ...
def plain_value(value: object) -> object:
    """The plain ``str``/``int``/``float`` content of an instance of a subclass of one of them
    (an ``Enum`` member such as ``class Plan(str, Enum)``, ``numpy.float64``, ``numpy.str_``);
    any other value unchanged. Overridden ``__str__``/``__int__``/``__float__`` are not called.

    >>> import enum
    >>> class Plan(str, enum.Enum):
    ...     FREE = "free"
    >>> plain_value(Plan.FREE), type(plain_value(Plan.FREE)).__name__
    ('free', 'str')
    """
    t = type(value)
    if t is str or t is int or t is float or t is bool or value is None:
        return value
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bool):  # pragma: no cover - bool cannot be subclassed
        return bool(value)
    if isinstance(value, int):
        return int.__int__(value)
    if isinstance(value, float):
        return float.__float__(value)
    return value
