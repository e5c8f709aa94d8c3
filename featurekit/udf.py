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
code by name: the function must be registered in the process that loads the spec.

Identity: registering computes the function's *code identity* once (:func:`code_identity`):
a SHA-256 of its source text from the ``def`` line on (decorators and indentation left out),
of its vectorized twin's, and of its declared types. It is part of the feature fingerprint,
so changing the function changes the fingerprint. When Python cannot see the source (code
typed into ``python -c`` or built with ``exec``), the bytecode is hashed instead, which only
matches under the same Python minor version. An artifact records each function's identity in
its manifest and stores the functions with cloudpickle in ``code.pkl``. Loading accepts a
function registered in the loading process with the recorded identity (nothing is unpickled),
refuses a different function registered under the same name, and otherwise unpickles
``code.pkl`` only with ``trust_code=True``: the unpickled function's bytecode is checked
against the digest recorded at save, and it keeps the recorded identity (so the fingerprint
is the one the artifact was saved with). The identity covers the function's own code, not
helpers it calls.
"""

from __future__ import annotations

import ast
import dataclasses
import hashlib
import inspect
import sys
import textwrap
import warnings
from collections.abc import Callable, Sequence
from typing import Any

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
    """The code identity (:func:`code_identity`), part of every fingerprint that uses it."""
    bytecode_sha256: str = ""
    """Digest of the functions' bytecode (:func:`bytecode_digest`), recorded in artifacts to
    check the code unpickled from ``code.pkl``."""
    identity_from: str = "source"
    """``source`` when the identity hashes source text, ``bytecode`` when no source was visible,
    ``artifact`` when the function was unpickled from an artifact (identity as recorded there)."""
    ulps: int = 0
    """Float tolerance the parity tester allows between ``row`` and ``vectorized`` (0: bit-exact)."""


_UDFS: dict[str, UDF] = {}
_IDENTITY_VERSION = b"featurekit-udf-identity-1"


def _function_source(fn: Callable[..., Any]) -> str | None:
    """``fn``'s source from its ``def`` line on, dedented; None when Python cannot see it.

    Decorator lines are left out, so ``@fk.udf(...)`` and ``fk.register_udf(fn, ...)`` give
    the same identity (the declared types are hashed separately).
    """
    try:
        text = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        return None
    try:
        tree = ast.parse(text)
    except SyntaxError:  # e.g. a lambda inside a larger expression: keep its lines as they are
        return text
    first = tree.body[0] if tree.body else None
    if isinstance(first, (ast.FunctionDef, ast.AsyncFunctionDef)) and first.decorator_list:
        return "".join(text.splitlines(keepends=True)[first.lineno - 1 :])
    return text


def _code_parts(code: Any) -> list[bytes]:
    """The parts of a code object that decide what it computes (not its file or line numbers)."""
    parts = [
        code.co_code,
        repr(
            (
                code.co_argcount,
                code.co_posonlyargcount,
                code.co_kwonlyargcount,
                code.co_flags,
                code.co_names,
                code.co_varnames,
                code.co_freevars,
                code.co_cellvars,
            )
        ).encode("utf-8"),
    ]
    for const in code.co_consts:
        if hasattr(const, "co_code"):
            parts += _code_parts(const)
        elif isinstance(const, frozenset):  # set order varies with the hash seed
            parts.append(repr(sorted(map(repr, const))).encode("utf-8"))
        else:
            parts.append(f"{type(const).__name__}:{const!r}".encode())
    return parts


def bytecode_digest(*fns: Callable[..., Any] | None) -> str:
    """SHA-256 of the functions' bytecode, constants, names and defaults (same Python only).

    >>> bytecode_digest(lambda x: x + 1) == bytecode_digest(lambda x: x + 1)
    True
    """
    digest = hashlib.sha256()
    for fn in fns:
        code = getattr(fn, "__code__", None)
        if fn is None or code is None:
            digest.update(b"<none>" if fn is None else f"<callable {type(fn).__qualname__}>".encode())
            continue
        for part in _code_parts(code):
            digest.update(len(part).to_bytes(8, "big") + part)
        digest.update(repr((getattr(fn, "__defaults__", None), getattr(fn, "__kwdefaults__", None))).encode("utf-8"))
    return digest.hexdigest()


def code_identity(
    fn: Callable[..., Any], vectorized: Callable[..., Any] | None, dtype: DType, arg_types: Sequence[DType]
) -> tuple[str, str]:
    """``(identity, "source" | "bytecode")``: the SHA-256 a registered UDF is known by.

    Source text (see :func:`_function_source`) when Python can see it for both functions;
    else bytecode, tagged with the Python minor version because bytecode changes between them.

    >>> from featurekit.types import DType
    >>> def double(x):
    ...     return 2.0 * x
    >>> code_identity(double, None, DType.FLOAT, [DType.FLOAT])[1]
    'source'
    """
    sources = [None if f is None else _function_source(f) for f in (fn, vectorized)]
    digest = hashlib.sha256(_IDENTITY_VERSION)
    digest.update(repr((dtype.value, [t.value for t in arg_types])).encode("utf-8"))
    if all(s is not None for f, s in zip((fn, vectorized), sources) if f is not None):
        for text in sources:
            digest.update(b"\0<none>" if text is None else b"\0source\0" + text.encode("utf-8"))
        return digest.hexdigest(), "source"
    if getattr(fn, "__code__", None) is None:
        raise TypeError(f"cannot read the source or bytecode of {fn!r}; register a Python function")
    digest.update(f"\0bytecode {sys.version_info[0]}.{sys.version_info[1]}\0".encode())
    digest.update(bytecode_digest(fn, vectorized).encode("utf-8"))
    return digest.hexdigest(), "bytecode"


def _dtype(name: str) -> DType:
    if name not in INPUT_TYPES or name == "category":
        raise ValueError(f"unknown UDF type {name!r}; use one of int, float, str, bool, timestamp")
    return INPUT_TYPES[name]


def register_udf(
    fn: Callable[..., Any],
    *,
    dtype: str,
    args: Sequence[str],
    name: str | None = None,
    vectorized: Callable[..., Any] | None = None,
    ulps: int = 0,
) -> UDF:
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
    out, arg_types = _dtype(dtype), tuple(_dtype(a) for a in args)
    identity, kind = code_identity(fn, vectorized, out, arg_types)
    entry = UDF(udf_name, fn, out, arg_types, vectorized, identity, bytecode_digest(fn, vectorized), kind, ulps)
    _UDFS[udf_name] = entry
    return entry


def register_loaded(
    name: str,
    fn: Callable[..., Any],
    *,
    dtype: str,
    args: Sequence[str],
    vectorized: Callable[..., Any] | None,
    identity: str,
) -> UDF:
    """Register a function unpickled from an artifact under the identity recorded at save.

    Its source is not visible here, so recomputing the identity would hash bytecode and give
    another fingerprint; the artifact loader checks the bytecode against the recorded digest
    before calling this.
    """
    out, arg_types = _dtype(dtype), tuple(_dtype(a) for a in args)
    entry = UDF(name, fn, out, arg_types, vectorized, identity, bytecode_digest(fn, vectorized), "artifact")
    _UDFS[name] = entry
    return entry


def udf(
    *,
    dtype: str,
    args: Sequence[str],
    name: str | None = None,
    vectorized: Callable[..., Any] | None = None,
    ulps: int = 0,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
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
    picked = [c.filter(pa.array(keep)) if isinstance(c, (pa.Array, pa.ChunkedArray)) else c[keep] for c in columns]
    if entry.vectorized is not None:
        result = entry.vectorized(*picked)
        result = result.to_pylist() if isinstance(result, (pa.Array, pa.ChunkedArray)) else result
    else:
        warnings.warn(
            f"udf {entry.name!r} has no vectorized implementation: the batch path calls it once "
            "per row (slow); pass vectorized= to register_udf",
            SlowBatchWarning,
            stacklevel=4,
        )
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
