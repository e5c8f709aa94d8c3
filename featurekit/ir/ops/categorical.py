"""Categorical ops: fitted vocabularies, one-hot, frequency, stable hashing and crosses.

Hashes are CRC-32 (ISO-HDLC, ``zlib.crc32``) of the UTF-8 bytes: stable across processes,
platforms and both paths (Python's ``hash()`` is salted per process and never used).
Vocabulary order is part of the modelling contract and always explicit: ``frequency``
(count descending, ties by value ascending) or ``lexical`` (code point order).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from featurekit._lazy import lazy
from featurekit.ir.ops._util import BOUNDED, BOUNDED_DOC, bounded, counts_analyzer, fixed, never_null
from featurekit.registry import Kind, NullRule, Op, Param, Params, RowSelect, register
from featurekit.state_schema import Field, StateSchema
from featurekit.types import DType
from featurekit.values.column import Column

if TYPE_CHECKING:
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
else:
    np = lazy("numpy")
    pa = lazy("pyarrow")
    pc = lazy("pyarrow.compute")
ks = lazy("featurekit._kernels.strings")
an = lazy("featurekit.analyzers")

STR = frozenset({DType.STR})
CATEGORICAL = frozenset({DType.STR, DType.INT, DType.BOOL})
_ORDERS = ("frequency", "lexical")


def _crc(values: pa.Array) -> np.ndarray:
    return ks.crc32(values).astype(np.int64)


def _positions(col: Column, vocab: list) -> np.ndarray:
    """Index of each value in ``vocab`` (-1 when absent or null)."""
    values = col.values
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        idx = ks.index_in(values, [str(v) for v in vocab])
    else:
        ordered = np.asarray(vocab, dtype=values.dtype) if vocab else np.zeros(0, values.dtype)
        order = np.argsort(ordered, kind="stable")
        sorted_vocab = ordered[order]
        pos = np.searchsorted(sorted_vocab, values)
        pos_c = np.minimum(pos, max(len(sorted_vocab) - 1, 0))
        found = (
            (len(sorted_vocab) > 0) & (sorted_vocab[pos_c] == values)
            if len(sorted_vocab)
            else np.zeros(len(values), dtype=bool)
        )
        idx = np.where(found, order[pos_c] if len(order) else 0, -1).astype(np.int64)
    if col.null is not None:
        idx = np.where(col.null, -1, idx)
    return idx


# ----------------------------------------------------------------------- vocab


MAX_TOP_K = 2**31
"""Cap of ``top_k``: OOV indexes (``top_k + n``) stay far inside the proven int range."""
MAX_VOCAB = 2**40
"""Most values a vocabulary may hold (no training set has more distinct values)."""
MAX_COUNT = 2**62
"""Largest count ``frequency`` serves (its int_range), so ``frequency(x) + 1`` never overflows."""


def _vocab_params(default_order: str) -> dict[str, Param]:
    return {
        "top_k": Param("int", default=None, min=1, max=MAX_TOP_K, doc="keep the k most frequent values"),
        "min_frequency": Param("int", default=1, min=1, max=MAX_COUNT, doc="drop values seen fewer times"),
        "order": Param("str", default=default_order, choices=_ORDERS),
        "bounded": BOUNDED,
    }


def _vocab_rule(s: dict, p: Params) -> str | None:
    """A vocabulary longer than ``top_k`` would give one index to a value and to OOV."""
    limit = p.top_k if p.top_k is not None else MAX_VOCAB
    if len(s["vocab"]) > limit:
        return f"field 'vocab' has {len(s['vocab'])} values; top_k allows {limit}"
    return None


_VOCAB_SCHEMA = StateSchema(
    {
        "vocab": Field("values", unique=True),
        "count": Field("count"),
        "count_bound": Field("count", only_with="bounded"),
        "certain": Field("flag", only_with="bounded"),
    },
    rule=_vocab_rule,
)


def _vocab_range(p: Params, r: tuple) -> tuple[int, int]:
    """Indexes and OOV buckets: ``0 .. top_k (or the vocabulary size) + num_oov_buckets - 1``."""
    base = p.top_k if p.top_k is not None else MAX_VOCAB
    return (0, base + p.get("num_oov_buckets", 1) - 1)


def _check_vocab(p: Params) -> None:
    if p.bounded is not None and p.top_k is not None and p.bounded < p.top_k:
        raise ValueError(
            f"bounded ({p.bounded}) must be at least top_k ({p.top_k}): the table must hold the top k values"
        )


def _vocab_state(fitted: dict, p: Params) -> dict:
    vocab = an.vocabulary(fitted["counts"], top_k=p.top_k, min_frequency=p.min_frequency, order=p.order)
    state = {"vocab": list(vocab), "count": fitted["count"]}
    if "count_bound" in fitted:  # bounded fit: is this certainly the exact-mode vocabulary?
        state.update(count_bound=fitted["count_bound"], certain=_certain(fitted, vocab, p))
    return state


def _certain(fitted: dict, vocab: list, p: Params) -> bool:
    """True when no value left out of the bounded table (each seen at most ``count_bound``
    times) could be in the exact vocabulary: they are all below ``min_frequency``, or the
    vocabulary holds ``top_k`` values each seen more often than that."""
    bound = fitted["count_bound"]
    if bound < p.min_frequency:
        return True
    if p.top_k is None or len(vocab) < p.top_k:
        return False
    counts = dict(map(tuple, fitted["counts"]))
    return min(counts[v] for v in vocab) > bound


def _oov_base(p: Params, s: dict) -> int:
    return p.top_k if p.top_k is not None else len(s["vocab"])


def _vocab_batch(args, p, s):
    col = args[0]
    idx = _positions(col, s["vocab"])
    base = _oov_base(p, s)
    oov = np.full(len(idx), base, dtype=np.int64)
    if p.num_oov_buckets > 1 and isinstance(col.values, (pa.Array, pa.ChunkedArray)):
        oov = base + _crc(col.values) % p.num_oov_buckets
        if col.null is not None:
            oov = np.where(col.null, base, oov)
    return np.where(idx >= 0, idx, oov)


def _vocab_row(ctx, a, p, s, t):
    table = ctx.const({v: i for i, v in enumerate(s["vocab"])})
    base = _oov_base(p, s)
    if p.num_oov_buckets > 1 and t[0] is DType.STR:
        return f"{table}.get({a[0]}, {base} if {a[0]} is None else {base} + _crc32({a[0]}) % {p.num_oov_buckets})"
    return f"{table}.get({a[0]}, {base})"


register(
    Op(
        name="vocab",
        skew_role="vocabulary",
        doc=f"""``vocab(x, top_k=, min_frequency=1, order="frequency", num_oov_buckets=1, bounded=)``: the
    position of ``x`` in a vocabulary fitted on the training values.

    The vocabulary keeps values seen at least ``min_frequency`` times, then the ``top_k``
    most frequent (ties by value ascending); ``order`` numbers them by frequency (count
    descending, ties by value) or lexically (code point order). Out of vocabulary (unseen,
    infrequent) values and null get the OOV index ``top_k`` when ``top_k`` is given, else
    ``len(vocab)``, so the index range does not move when a refit finds fewer values. With
    ``num_oov_buckets = n > 1`` unseen strings spread over ``base + crc32(x) % n`` (null
    stays ``base``). Null rule: never null. Empty fit: everything is OOV.
    {BOUNDED_DOC} The vocabulary is then the exact one whenever its ``top_k``-th count
    exceeds ``count_bound`` (``certain`` in the state; fit warns otherwise).
    Tolerance: exact.""",
        args=(CATEGORICAL,),
        dtype_rule=fixed(DType.INT),
        null_rule=NullRule.HANDLES,
        may_yield_null=never_null,
        params={**_vocab_params("frequency"), "num_oov_buckets": Param("int", default=1, min=1, max=1_000_000)},
        analyzer=lambda p, t: counts_analyzer(p),
        state_from=_vocab_state,
        state_schema=_VOCAB_SCHEMA,
        check_params=_check_vocab,
        int_range=_vocab_range,
        batch=_vocab_batch,
        row=_vocab_row,
        test_params=(
            {},
            {"top_k": 3},
            {"order": "lexical", "min_frequency": 2},
            {"top_k": 2, "num_oov_buckets": 4},
            {"top_k": 2, "bounded": 3},
        ),
    )
)


# ----------------------------------------------------------------------- one_hot


def _one_hot_prefix(feature: str, p: Params) -> str:
    return p.prefix if p.prefix is not None else feature


def _one_hot_names(feature: str, p: Params, s: dict | None) -> list[str]:
    prefix = _one_hot_prefix(feature, p)
    return [f"{prefix}_{v}" for v in (s or {}).get("vocab", [])]


def _one_hot_batch(args, p, s):
    idx = _positions(args[0], s["vocab"])
    return [Column((idx == i).astype(np.int64)) for i in range(len(s["vocab"]))]


def _one_hot_row(ctx, a, p, s, t):
    return RowSelect(a[0], {v: i for i, v in enumerate(s["vocab"])})


register(
    Op(
        name="one_hot",
        skew_role="indicators",
        doc=f"""``one_hot(x, prefix=, top_k=, min_frequency=1, order="lexical", bounded=)``: one int column
    per vocabulary value, 1 where ``x`` equals it, else 0.

    Columns are named ``<prefix>_<value>`` (prefix defaults to the feature name), in
    vocabulary order (lexical by default). An unseen, infrequent or null value gives all
    zeros (Null rule: never null). Only allowed as the whole expression of a feature.
    Empty fit: no columns. {BOUNDED_DOC} The columns are then the exact ones whenever the
    ``top_k``-th count exceeds ``count_bound`` (``certain`` in the state).
    Tolerance: exact.""",
        args=(CATEGORICAL,),
        dtype_rule=fixed(DType.INT),
        null_rule=NullRule.HANDLES,
        may_yield_null=never_null,
        params={**_vocab_params("lexical"), "prefix": Param("str", default=None)},
        analyzer=lambda p, t: counts_analyzer(p),
        state_from=_vocab_state,
        state_schema=_VOCAB_SCHEMA,
        check_params=_check_vocab,
        int_range=bounded(0, 1),
        outputs=_one_hot_names,
        column_prefix=_one_hot_prefix,
        batch=_one_hot_batch,
        row=_one_hot_row,
        test_params=({}, {"top_k": 2, "prefix": "x"}, {"top_k": 2, "bounded": 2}),
    )
)


# ----------------------------------------------------------------------- frequency


def _frequency_state(fitted: dict, p: Params) -> dict:
    state = {"counts": [list(pair) for pair in fitted["counts"]], "count": fitted["count"]}
    if "count_bound" in fitted:
        state["count_bound"] = fitted["count_bound"]
    return state


def _frequency_batch(args, p, s):
    values = [v for v, _ in s["counts"]]
    counts = np.asarray([c for _, c in s["counts"]] + [0], dtype=np.int64)
    idx = _positions(args[0], values)
    out = counts[np.where(idx >= 0, idx, len(values))]
    if p.normalize:
        return out / float(s["count"] or 1)
    return out


def _frequency_row(ctx, a, p, s, t):
    table = {v: c for v, c in s["counts"]}
    if p.normalize:
        total = float(s["count"] or 1)
        table = {v: c / total for v, c in table.items()}
        return f"{ctx.const(table)}.get({a[0]}, 0.0)"
    return f"{ctx.const(table)}.get({a[0]}, 0)"


register(
    Op(
        name="frequency",
        doc=f"""``frequency(x, normalize=false, bounded=)``: how many training rows had this value (an
    int), or that count divided by the number of non-null training rows (a float). Unseen
    values give 0. Null rule: propagate. {BOUNDED_DOC} Values left out give 0, like unseen
    ones (each occurred at most ``count_bound`` times).
    Tolerance: exact.""",
        args=(CATEGORICAL,),
        dtype_rule=lambda t, p: DType.FLOAT if p.normalize else DType.INT,
        params={"normalize": Param("bool", default=False), "bounded": BOUNDED},
        analyzer=lambda p, t: counts_analyzer(p),
        state_from=_frequency_state,
        state_schema=StateSchema(
            {
                "counts": Field("pairs", unique=True, max=MAX_COUNT),
                "count": Field("count"),
                "count_bound": Field("count", only_with="bounded"),
            }
        ),
        int_range=bounded(0, MAX_COUNT),
        batch=_frequency_batch,
        row=_frequency_row,
        test_params=({}, {"normalize": True}, {"bounded": 2}),
    )
)


# ----------------------------------------------------------------------- hashing


register(
    Op(
        name="hash_bucket",
        doc="""``hash_bucket(s, num_buckets)``: ``crc32(s.encode("utf-8")) % num_buckets``.

    CRC-32 (ISO-HDLC) as ``zlib.crc32`` computes it, unsigned. Stable across processes,
    platforms and both paths. Null rule: propagate. Tolerance: exact.""",
        args=(STR,),
        dtype_rule=fixed(DType.INT),
        params={"num_buckets": Param("int", min=1, max=2**32)},
        int_range=lambda p, r: (0, p.num_buckets - 1),
        batch=lambda args, p, s: _crc(args[0].values) % p.num_buckets,
        row=lambda ctx, a, p, s, t: f"(_zcrc({a[0]}.encode()) % {p.num_buckets})",
        test_params=({"num_buckets": 1024}, {"num_buckets": 1}),
    )
)


_FEW_PAIRS = 1 << 16
"""At most this many distinct (a, b) pairs: hash each pair once in Python and broadcast."""


def _cross_batch(args, p, s):
    parts = []
    for col in args:
        values = col.values
        if col.null is not None:
            values = pc.if_else(pa.array(col.null), pa.scalar("", pa.large_string()), values)
        parts.append(values)
    few = _cross_few_pairs(parts, p)
    if few is not None:
        return few
    joined = ks.concat([parts[0], pa.repeat(pa.scalar(p.sep, pa.large_string()), len(parts[0])), parts[1]])
    return _crc(joined) % p.num_buckets


def _cross_few_pairs(parts: list, p):
    """Low-cardinality crosses (e.g. plan x country): ``zlib.crc32`` once per distinct pair, the
    row path's own function, instead of building and hashing every joined string."""
    import zlib

    encoded = [pc.dictionary_encode(v) for v in parts]
    encoded = [e.combine_chunks() if isinstance(e, pa.ChunkedArray) else e for e in encoded]
    width = len(encoded[1].dictionary)
    if len(encoded[0].dictionary) * width > _FEW_PAIRS * 4:
        return None
    codes = encoded[0].indices.to_numpy(zero_copy_only=False).astype(np.int64) * width + encoded[1].indices.to_numpy(
        zero_copy_only=False
    )
    pairs, inverse = np.unique(codes, return_inverse=True)
    if len(pairs) > _FEW_PAIRS:
        return None
    left, right = encoded[0].dictionary.to_pylist(), encoded[1].dictionary.to_pylist()
    hashes = np.array(
        [zlib.crc32(f"{left[c // width]}{p.sep}{right[c % width]}".encode()) % p.num_buckets for c in pairs.tolist()],
        dtype=np.int64,
    )
    return hashes[inverse]


def _cross_row(ctx, a, p, s, t):
    left = f"({a[0]} or '')" if ctx.nullable(0) else a[0]
    right = f"({a[1]} or '')" if ctx.nullable(1) else a[1]
    return f"(_zcrc(({left} + {p.sep!r} + {right}).encode()) % {p.num_buckets})"


register(
    Op(
        name="cross",
        doc="""``cross(a, b, num_buckets, sep="|")``: a hashed feature cross,
    ``crc32(a + sep + b) % num_buckets`` over the UTF-8 bytes, with a null part taken as
    ``""``. Null rule: never null. Tolerance: exact.""",
        args=(STR, STR),
        dtype_rule=fixed(DType.INT),
        null_rule=NullRule.HANDLES,
        may_yield_null=never_null,
        params={"num_buckets": Param("int", min=1, max=2**32), "sep": Param("str", default="|")},
        int_range=lambda p, r: (0, p.num_buckets - 1),
        batch=_cross_batch,
        row=_cross_row,
        test_params=({"num_buckets": 2048},),
    )
)

__all__ = ["Kind"]
