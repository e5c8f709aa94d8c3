"""Custom Python functions in specs ("UDFs"), with the same parity guarantees as built-in ops.

Register a scalar function (used by the row path, and by the batch path one row at a time
unless you also give a vectorized twin), then call it from any spec as ``udf(args...,
fn="name")``::

    import featurekit as fk

    @fk.udf(dtype="float", args=["float", "float"])
    def ratio(a, b):
        return a / b if b else 0.0

    # YAML: spend_ratio: udf(monthly_spend, tenure_days, fn="ratio")

Arguments are never null inside the function (null in gives null out). A spec never imports
code by name: the function must be registered in the process that loads the spec. Its source
code is hashed into the feature fingerprint, so changing the function changes the
fingerprint. Artifacts store the functions with cloudpickle in ``code.pkl``; loading
unpickles it only with ``trust_code=True`` — or not at all when the loading process has
registered functions with the same source hash.
"""

from __future__ import annotations

import dataclasses
import hashlib
import inspect
import warnings
from typing import Any, Callable, Sequence

from featurekit.types import INPUT_TYPES, DType


class SlowBatchWarning(UserWarning):
    """A UDF without a vectorized implementation runs per row in the batch path."""


@dataclasses.dataclass(frozen=True)
class UDF:
    """A registered custom function: scalar (row) implementation, optional vectorized twin."""

    name: str
    row: Callable[..., Any]
    dtype: DType
    arg_types: tuple[DType, ...]
    vectorized: Callable[..., Any] | None = None
    code_sha256: str = ""
    ulps: int = 0


_UDFS: dict[str, UDF] = {}


def _source_hash(*fns: Callable[..., Any] | None) -> str:
    digest = hashlib.sha256()
    for fn in fns:
        if fn is None:
            digest.update(b"<none>")
            continue
        try:
            digest.update(inspect.getsource(fn).encode("utf-8"))
        except (OSError, TypeError):
            code = getattr(fn, "__code__", None)
            if code is None:
                raise TypeError(f"cannot read the source or bytecode of {fn!r}") from None
            digest.update(code.co_code + repr(code.co_consts).encode("utf-8"))
    return digest.hexdigest()


def _dtype(name: str) -> DType:
    if name not in INPUT_TYPES or name == "category":
        raise ValueError(f"unknown UDF type {name!r}; use one of int, float, str, bool, timestamp")
    return INPUT_TYPES[name]


def register_udf(fn: Callable[..., Any], *, dtype: str, args: Sequence[str], name: str | None = None,
                 vectorized: Callable[..., Any] | None = None, ulps: int = 0) -> UDF:
    """Register ``fn`` under ``name`` (default: its ``__name__``) and return the :class:`UDF`.

    ``vectorized`` receives numpy arrays (text as pyarrow arrays) of the non-null rows and
    returns an array of the results; the conformance suite checks it agrees with ``fn``.
    ``ulps`` is the float tolerance the parity tester allows between the two (0: bit-exact,
    the default; declare more only when the twin calls other math than ``fn``, such as
    ``numpy.log`` against ``math.log``, whose results differ by CPU).
    Registering a different function under an existing name replaces it.
    """
    if not isinstance(ulps, int) or isinstance(ulps, bool) or ulps < 0:
        raise ValueError(f"udf {name or fn.__name__!r}: ulps must be an int >= 0; got {ulps!r}")
    udf_name = name or fn.__name__
    entry = UDF(udf_name, fn, _dtype(dtype), tuple(_dtype(a) for a in args), vectorized,
                _source_hash(fn, vectorized), ulps)
    _UDFS[udf_name] = entry
    return entry


def udf(*, dtype: str, args: Sequence[str], name: str | None = None,
        vectorized: Callable[..., Any] | None = None, ulps: int = 0) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator form of :func:`register_udf`; returns the function unchanged."""
    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        register_udf(fn, dtype=dtype, args=args, name=name, vectorized=vectorized, ulps=ulps)
        return fn
    return wrap


def get_udf(name: str) -> UDF:
    """The registered UDF ``name``; ``KeyError`` if none."""
    return _UDFS[name]


def registered() -> dict[str, UDF]:
    return dict(_UDFS)


def batch_call(entry: UDF, columns: list[Any], null: Any) -> tuple[Any, Any]:
    """Run a UDF over columns: ``(values, null mask)``.

    Uses its vectorized twin, or the scalar function once per non-null row (with a
    :class:`SlowBatchWarning`). A scalar result of None is null.
    """
    import numpy as np
    import pyarrow as pa

    n = len(columns[0])
    keep = np.ones(n, dtype=bool) if null is None else ~null
    idx = np.flatnonzero(keep)
    picked = [c.filter(pa.array(keep)) if isinstance(c, (pa.Array, pa.ChunkedArray)) else c[keep]
              for c in columns]
    if entry.vectorized is not None:
        result = entry.vectorized(*picked)
        result = result.to_pylist() if isinstance(result, (pa.Array, pa.ChunkedArray)) else result
    else:
        warnings.warn(f"udf {entry.name!r} has no vectorized implementation: the batch path calls it once "
                      "per row (slow); pass vectorized= to register_udf", SlowBatchWarning, stacklevel=4)
        pylists = [c.to_pylist() if isinstance(c, (pa.Array, pa.ChunkedArray)) else c.tolist() for c in picked]
        result = [entry.row(*vals) for vals in zip(*pylists)]
    nulls = np.zeros(n, dtype=bool)
    if entry.dtype is DType.STR:
        full = [""] * n
        for i, v in zip(idx, result):
            if v is None:
                nulls[i] = True
            else:
                full[i] = v
        return pa.array(full, type=pa.large_string()), nulls
    np_type = {DType.FLOAT: np.float64, DType.INT: np.int64, DType.BOOL: bool, DType.TIMESTAMP: np.int64}[entry.dtype]
    values = list(result) if not isinstance(result, np.ndarray) else result
    if not isinstance(values, np.ndarray):
        none = np.array([v is None for v in values], dtype=bool)
        nulls[idx[none]] = True
        values = np.array([0 if v is None else v for v in values], dtype=np_type)
    out = np.zeros(n, dtype=np_type)
    out[idx] = values.astype(np_type) if len(idx) else out[idx]
    return out, nulls
