"""The analyzer protocol: statistics as *mergeable combiners*.

Fitting a feature pipeline means computing statistics (means, quantiles, vocabularies, ...)
over training data.  featurekit must produce the **same fitted state** whether the data are
seen as one frame, as chunks in sequence, or as Dask partitions whose partial results are
merged in an arbitrary tree shape.  Every statistic is therefore expressed as a
*combiner* (the monoid / "combine-fn" formulation used by MapReduce combiners, Apache
Beam ``CombineFn`` and TensorFlow Transform analyzers):

``create() -> acc``
    The identity accumulator (statistic of no data).
``update(acc, values) -> acc``
    Fold one batch of **non-null** values into an accumulator.
``merge(accs) -> acc``
    Combine accumulators of disjoint parts of the data.
``finalize(acc) -> dict``
    Turn an accumulator into the JSON-able fitted state.

An analyzer that needs more than one pass over the data (``passes > 1``, e.g. the bounded
vocabulary: a count sketch first, exact counts of the candidates it names second) returns
the analyzer of its next pass from ``next_stage(result)``, given its finalized result; the
fit runs that one over the data again and finalizes it in turn.  ``next_stage`` of the last
pass returns ``None``: its result is the fitted state.

An analyzer declares ``exact_merge = True`` only if ``finalize`` of any
update/merge schedule over any partitioning of the data (any chunking, any merge tree,
any merge order) is *bit-identical* to ``finalize(update(create(), all_values))``.  All
analyzers in this package are exact: they keep exact sufficient statistics (exact integer
sums, sorted distinct values with counts, extrema) whose merge is associative and
commutative *exactly*, not just up to rounding.

Input values
------------
``values`` is the non-null part of one batch, as one of

* a 1-D numpy array of ``float64``, ``int64`` or ``bool`` (other float / integer widths
  are widened losslessly: float16/32 -> float64, int8..int64 / uint8..uint32 -> int64;
  uint64 is accepted only if every value fits in int64);
* a pyarrow ``string`` / ``large_string`` array (a ``ChunkedArray`` is combined; nulls,
  which the contract says are absent, are dropped).

For convenience a numpy array of Python ``str`` objects / unicode dtype, or a plain list, is
converted (lists via ``numpy.asarray``; string data via ``pyarrow.array``).

NaN in float input is *not* a value: every analyzer ignores it (and counts it in the
accumulator as ``nan_count`` where useful).  ``+inf`` and ``-inf`` are ordinary values.

Kinds and promotion
-------------------
Value-keeping analyzers track the *kind* of the data seen so far: ``"bool"``, ``"int"``,
``"float"`` or ``"str"``.  Numeric kinds promote like ``numpy.concatenate`` would
(``bool < int < float``; int64 -> float64 rounds to nearest-even beyond 2**53), so a column
that arrives as int64 in one partition and float64 in another fits to the same state as the
concatenated float64 column.  Empty batches carry no kind.  Mixing ``"str"`` with a
numeric kind raises ``TypeError``.

Accumulators are plain immutable data (frozen dataclasses holding ints, floats, numpy /
pyarrow arrays).  ``update``/``merge`` never mutate their inputs.  ``acc_to_json`` gives a
strict-JSON-able form (non-finite floats tagged as in :mod:`featurekit.values.codec`, so
``featurekit.values.codec.dumps`` *and* ``json.dumps(..., allow_nan=False)`` accept it) so that
partial fits can be stored or shipped between processes; ``acc_from_json`` accepts either the
tagged form or the output of ``featurekit.values.codec.loads``.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from typing import Any, ClassVar, Generic, TypeVar

import numpy as np
import pyarrow as pa

from featurekit.values import codec

Acc = TypeVar("Acc")

__all__ = [
    "Analyzer",
    "Kind",
    "coerce_values",
    "promote_kinds",
]

Kind = str  # "bool" | "int" | "float" | "str"

_NUMERIC_RANK = {"bool": 0, "int": 1, "float": 2}


class Analyzer(abc.ABC, Generic[Acc]):
    """A mergeable combiner computing one statistic (see the module docstring).

    Subclasses are small immutable parameter holders (frozen dataclasses).  The default
    :meth:`fit` is ``finalize(update(create(), values))``.
    """

    #: True iff ``merge`` is exact for every partitioning / merge tree / merge order, i.e.
    #: finalize() of any fitting schedule is bit-identical to a single-batch fit.
    exact_merge: ClassVar[bool]
    #: Passes over the data this analyzer needs (see :meth:`next_stage`).
    passes: ClassVar[int] = 1

    @abc.abstractmethod
    def create(self) -> Acc:
        """Return the identity accumulator (the state of an empty fit)."""

    @abc.abstractmethod
    def update(self, acc: Acc, values: Any) -> Acc:
        """Return ``acc`` with one batch of non-null ``values`` folded in.

        ``values``: 1-D numpy float64 / int64 / bool array or a pyarrow string array with
        no nulls.  NaN floats are ignored (counted).  ``acc`` is not modified.
        """

    @abc.abstractmethod
    def merge(self, accs: Sequence[Acc]) -> Acc:
        """Combine accumulators of disjoint parts of the data (any number, any order).

        ``merge([])`` is ``create()``; ``merge([a])`` is equivalent to ``a``.
        """

    @abc.abstractmethod
    def finalize(self, acc: Acc) -> dict:
        """Return the fitted state: a dict of plain Python values (float, int, str, bool,
        None, lists).  Non-finite floats may appear; store with ``featurekit.values.codec``."""

    @abc.abstractmethod
    def acc_to_json(self, acc: Acc) -> Any:
        """Return a strict-JSON-able form of ``acc`` (non-finite floats tagged)."""

    @abc.abstractmethod
    def acc_from_json(self, data: Any) -> Acc:
        """Invert :meth:`acc_to_json` (accepts tagged or ``codec.loads``-decoded data)."""

    def next_stage(self, result: dict) -> Analyzer | None:
        """The analyzer of the next pass over the data, given this pass's finalized ``result``;
        ``None`` (the default) when ``result`` is the fitted state."""
        return None

    def fit(self, values: Any) -> dict:
        """Convenience: every pass of ``finalize(update(create(), values))`` in turn."""
        analyzer: Analyzer | None = self
        while analyzer is not None:
            result = analyzer.finalize(analyzer.update(analyzer.create(), values))
            analyzer = analyzer.next_stage(result)
        return result


# ----------------------------------------------------------------------------- helpers


def promote_kinds(a: Kind | None, b: Kind | None) -> Kind | None:
    """Common kind of two kinds (``None`` = no data yet); ``TypeError`` for str/number."""
    if a is None:
        return b
    if b is None or a == b:
        return a
    if a in _NUMERIC_RANK and b in _NUMERIC_RANK:
        return a if _NUMERIC_RANK[a] >= _NUMERIC_RANK[b] else b
    raise TypeError(f"cannot combine {a!r} values with {b!r} values in one analyzer")


def _string_array(arr: pa.Array) -> pa.Array:
    if arr.null_count:
        arr = arr.drop_null()
    return arr


def coerce_values(values: Any) -> tuple[Kind | None, Any]:
    """Normalise one batch to ``(kind, array)``.

    Numeric data become a 1-D numpy array of float64 / int64 / bool; strings a pyarrow
    ``string`` or ``large_string`` array.  An empty batch returns kind ``None`` (empty
    batches carry no kind, so they never change promotion).
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if isinstance(values, pa.Array):
        t = values.type
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            arr = _string_array(values)
            return ("str" if len(arr) else None), arr
        if pa.types.is_dictionary(t):
            return coerce_values(values.cast(t.value_type))
        if values.null_count:
            values = values.drop_null()
        values = values.to_numpy(zero_copy_only=False)
    if not isinstance(values, np.ndarray):
        values = np.asarray(values)
    if values.ndim != 1:
        if values.ndim == 0:
            values = values.reshape(1)
        else:
            raise ValueError(f"analyzer input must be 1-D, got shape {values.shape}")
    k = values.dtype.kind
    if k == "f":
        arr = values.astype(np.float64, copy=False)
        return ("float" if arr.size else None), arr
    if k == "i":
        arr = values.astype(np.int64, copy=False)
        return ("int" if arr.size else None), arr
    if k == "u":
        if values.dtype.itemsize == 8 and values.size and int(values.max()) > np.iinfo(np.int64).max:
            raise TypeError("uint64 values above 2**63-1 are not supported")
        arr = values.astype(np.int64)
        return ("int" if arr.size else None), arr
    if k == "b":
        return ("bool" if values.size else None), values
    if k in ("U", "O", "T", "S"):
        if values.size == 0:
            return None, np.empty(0, dtype=np.float64)
        if k == "O" and not all(isinstance(v, str) for v in values.tolist()):
            raise TypeError("object arrays are only accepted when every element is a str")
        if k == "S":
            raise TypeError("bytes arrays are not supported; decode to str first")
        return "str", pa.array(values.tolist(), type=pa.string())
    raise TypeError(f"unsupported analyzer input dtype {values.dtype}")


# --- float total order ---------------------------------------------------------------
# IEEE 754 totalOrder restricted to non-NaN values: -inf < ... < -0.0 < +0.0 < ... < +inf.
# Mapping the bit pattern to a signed int64 key makes ordinary integer comparison agree
# with it; the map is an involution, so the same function maps keys back to bits.

_LOW63 = np.int64(0x7FFF_FFFF_FFFF_FFFF)


def float_total_order_keys(x: np.ndarray) -> np.ndarray:
    """int64 keys whose order is IEEE totalOrder of the (non-NaN) float64 values ``x``."""
    bits = np.ascontiguousarray(x, dtype=np.float64).view(np.int64)
    return bits ^ ((bits >> 63) & _LOW63)


def floats_from_total_order_keys(keys: np.ndarray) -> np.ndarray:
    """Inverse of :func:`float_total_order_keys`."""
    keys = np.ascontiguousarray(keys, dtype=np.int64)
    return (keys ^ ((keys >> 63) & _LOW63)).view(np.float64)


def aggregate_sorted(keys: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Group equal ``keys`` (any order) and sum their ``counts``; returns sorted distinct keys."""
    if keys.size == 0:
        return keys, counts.astype(np.int64, copy=False)
    order = np.argsort(keys, kind="stable")  # timsort: near-linear on concatenated sorted runs
    sk = keys[order]
    sc = counts[order]
    starts = np.flatnonzero(np.concatenate(([True], sk[1:] != sk[:-1])))
    return sk[starts], np.add.reduceat(sc, starts).astype(np.int64, copy=False)


def to_json(value: Any) -> Any:
    """Strict-JSON-able form of plain data (non-finite floats tagged)."""
    return codec.to_jsonable(value)


def from_json(value: Any) -> Any:
    """Inverse of :func:`to_json` (idempotent on already-decoded data)."""
    return codec.from_jsonable(value)
