"""The ``udf`` op: call a registered custom Python function (see :mod:`featurekit.udf`)."""

from __future__ import annotations

from featurekit.registry import ANY, NullRule, Op, Param, Params, register
from featurekit.types import DType
from featurekit.udf import batch_call, get_udf
from featurekit.values.column import Column


def _entry(p: Params):
    try:
        return get_udf(p.fn)
    except KeyError:
        raise ValueError(
            f"udf {p.fn!r} is not registered in this process; register it with "
            "featurekit.register_udf (or @featurekit.udf) before loading the spec"
        ) from None


def _check(p: Params) -> None:
    _entry(p)


def _dtype(types: tuple[DType, ...], p: Params) -> DType:
    entry = _entry(p)
    if types != entry.arg_types:
        want = ", ".join(t.value for t in entry.arg_types)
        got = ", ".join(t.value for t in types)
        raise TypeError(f"udf {p.fn!r} takes ({want}); got ({got})")
    return entry.dtype


def _batch(args, p, s):
    from featurekit.values.column import union_null

    values, nulls = batch_call(_entry(p), [a.values for a in args], union_null(*(a.null for a in args)))
    return Column(values, nulls)


register(
    Op(
        name="udf",
        doc="""``udf(a, b, ..., fn="name")``: a registered custom Python function.

    The row path calls the function; the batch path calls its vectorized twin, or the
    function once per row (slow, with a warning). Null rule: propagate (the function never
    sees null); a function returning None gives null. The function's source hash is part of
    the fingerprint. Tolerance: exact (the parity suite checks the twin against the function).""",
        args=(ANY,),
        variadic=True,
        dtype_rule=_dtype,
        params={"fn": Param("str", doc="the registered name")},
        check_params=_check,
        derived_params=lambda p: {"code_sha256": _entry(p).code_sha256},
        may_yield_null=lambda n, p, t, r=None: True,
        batch=_batch,
        row=lambda ctx, a, p, s, t: f"{ctx.const(_entry(p).row)}({', '.join(a)})",
        pure=False,  # user code: always evaluated, in graph order, like the batch path does
        # featurekit.testing registers this UDF (a scalar function with a vectorized twin), so the
        # conformance suite checks the udf op like any other
        test_params=({"fn": "featurekit_test_scale"},),
    )
)

__all__ = ["NullRule"]
