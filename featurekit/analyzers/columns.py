"""Column statistics: the one analyzer family behind the training baseline and the skew report.

:class:`ColumnStats` summarises one column of a declared type (``int``, ``float``, ``bool``,
``str``, ``category``, ``timestamp``; :data:`KIND_OF_TYPE` maps them to the four kinds ``num``,
``bool``, ``str``, ``ts``). Its accumulator is a plain dict ``{"kind", "n", "nulls", ...}``:

* ``num``: ``min``/``max`` (finite values), ``m``/``mean``/``m2`` (count, mean and sum of squared
  deviations of the finite values), ``inf`` (count of +-inf) and, with ``sketch=True``, a
  log-bucket sketch (``pos``/``neg`` bucket counts, ``zero``) for the decile histogram;
* ``str``: ``values`` (value -> count, at most ``value_cap`` of them, first seen first), ``empty``
  (``""`` count), ``capped`` and ``distinct_lb``;
* ``bool``: ``trues``; ``ts``: ``min``/``max`` in microseconds since the epoch (UTC).

Two ways to fold data in, one merge:

* :meth:`ColumnStats.accumulate` takes a column as the batch path holds it (values and null mask):
  the training side (:mod:`featurekit.baseline`);
* :meth:`ColumnStats.accumulate_logged` / :meth:`ColumnStats.accumulate_arrow` take decoded values
  of logged serving records (Python values, :data:`MISSING` for an absent field, values of a wrong
  type) or an Arrow column of them: the serving side (:mod:`featurekit.skew`). Built with a
  ``reference`` (the training column's finalized statistics and the vocabularies fitted on it),
  the accumulator also counts what the skew metrics compare: ``missing`` fields, ``bad`` types
  (with a few ``bad_examples``), ``present`` values, ``out_of_range`` of the training
  ``[min, max]``, ``bins`` on the training histogram edges and ``unseen`` values per vocabulary.

:meth:`ColumnStats.merge` combines accumulators of disjoint parts in any order and tree shape:
counts, extrema, sketches and value counts are exact (below the value cap), ``mean``/``m2``
agree to floating-point rounding (so ``exact_merge`` is False). :meth:`ColumnStats.finalize`
gives the baseline's per-column JSON (see :mod:`featurekit.baseline`) or, with a reference, the
serving summary the skew metrics read.

>>> import numpy as np
>>> stats = ColumnStats("float")
>>> acc = stats.merge([stats.accumulate(np.array([1.0, 2.0]), None, 2), stats.accumulate(np.array([4.0]), None, 1)])
>>> col = stats.finalize(acc)
>>> col["min"], col["max"], col["mean"], col["histogram"]["edges"]
(1.0, 4.0, 2.3333333333333335, [1.0, 2.0398873437157055, 4.0])
"""

from __future__ import annotations

import datetime as _dt
import heapq
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from featurekit.analyzers.base import Analyzer, from_json, to_json

__all__ = ["ACCEPTED_TYPES", "KIND_OF_TYPE", "MISSING", "ColumnStats", "Reference", "kind_of_type", "most_common"]

#: Declared input/output type -> statistics kind.
KIND_OF_TYPE = {"int": "num", "float": "num", "bool": "bool", "str": "str", "category": "str", "timestamp": "ts"}
#: Python types a logged value of each declared type may have (anything else is a type change).
ACCEPTED_TYPES: dict[str, tuple[type, ...]] = {
    "float": (float, int),
    "int": (int,),
    "bool": (bool,),
    "str": (str,),
    "category": (str,),
    "timestamp": (str,),
}
TOP_K = 50
VALUE_CAP = 10_000
HIST_BINS = 10
UNSEEN_CAP = 10_000  # distinct unseen values kept for examples; cut to the 1,000 most frequent beyond
_GAMMA = 1.02
_LN_GAMMA = math.log(_GAMMA)
_ZERO = 1e-9
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)


def kind_of_type(type_name: str) -> str:
    """The statistics kind of a declared type (``"int"`` -> ``"num"``).

    >>> kind_of_type("category")
    'str'
    """
    return KIND_OF_TYPE[type_name]


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


#: A logged record without the field (counted as null and as ``missing``).
MISSING = _Missing()


@dataclass(frozen=True)
class Reference:
    """What serving values are compared with: the training column's finalized statistics
    (``min``/``max``, ``histogram``) and the vocabularies fitted on it (first one: examples)."""

    base: Mapping[str, Any] = field(default_factory=dict)
    vocabularies: tuple[frozenset, ...] = ()

    @property
    def edges(self) -> list[Any]:
        return list((self.base.get("histogram") or {}).get("edges") or [])


@dataclass(frozen=True)
class ColumnStats(Analyzer[dict]):
    """Statistics of one column declared as ``type_name`` (see the module docstring).

    ``sketch``: keep the log-bucket histogram sketch; ``value_cap``: most distinct strings kept;
    ``reference``: count serving values against the training column.
    """

    type_name: str
    sketch: bool = True
    value_cap: int = VALUE_CAP
    reference: Reference | None = None

    exact_merge: ClassVar[bool] = False  # mean / m2: equal to rounding; everything else exact

    @property
    def kind(self) -> str:
        """``num``, ``bool``, ``str`` or ``ts`` (:data:`KIND_OF_TYPE`)."""
        return KIND_OF_TYPE[self.type_name]

    # -- protocol --------------------------------------------------------------------------

    def create(self) -> dict[str, Any]:
        acc: dict[str, Any] = {"kind": self.kind, "n": 0, "nulls": 0}
        if self.kind == "num":
            acc.update(m=0, mean=0.0, m2=0.0, min=None, max=None, inf=0, pos={}, neg={}, zero=0)
        elif self.kind == "str":
            acc.update(values={}, empty=0, capped=False, distinct_lb=0)
        elif self.kind == "bool":
            acc.update(trues=0)
        else:
            acc.update(min=None, max=None)
        if self.reference is not None:
            edges = self.reference.edges
            acc.update(
                missing=0,
                bad={},
                bad_examples=[],
                present=0,
                out_of_range=0,
                bins=[0] * (len(edges) + 1) if edges else [],
                unseen=[0] * len(self.reference.vocabularies),
                unseen_values={},
            )
        return acc

    def update(self, acc: dict[str, Any], values: Any) -> dict[str, Any]:
        """``acc`` with a batch of non-null ``values`` (numpy or Arrow) folded in."""
        return self.merge([acc, self.accumulate(values, None, len(values))])

    def merge(self, accs: Sequence[dict[str, Any]]) -> dict[str, Any]:
        if not accs:
            return self.create()
        out = accs[0]
        for other in accs[1:]:
            out = self._merge2(out, other)
        return out

    def finalize(self, acc: dict[str, Any]) -> dict[str, Any]:
        """The baseline's column JSON; with a reference, the serving summary the skew metrics read."""
        if self.reference is not None:
            return self._serving_summary(acc)
        kind, n, nulls = acc["kind"], acc["n"], acc["nulls"]
        out: dict[str, Any] = {"count": n, "null_count": nulls, "null_rate": nulls / n if n else None}
        present = n - nulls
        if kind == "num":
            m = acc["m"]
            out.update(
                min=acc["min"],
                max=acc["max"],
                mean=acc["mean"] if m else None,
                std=math.sqrt(max(acc["m2"], 0.0) / m) if m else None,
                inf_count=acc["inf"],
                histogram=_histogram(acc),
            )
        elif kind == "bool":
            out.update(true_count=acc["trues"], true_rate=acc["trues"] / present if present else None)
        elif kind == "ts":
            out.update(min=_ts_iso(acc["min"]), max=_ts_iso(acc["max"]))
        else:
            top = heapq.nsmallest(TOP_K, ((-c, v) for v, c in acc["values"].items()))  # most frequent, then by value
            out.update(
                top=[[v, -c] for c, v in top],
                distinct=len(acc["values"]) if not acc["capped"] else acc["distinct_lb"],
                distinct_capped=acc["capped"],
                empty_rate=acc["empty"] / present if present else None,
            )
        return out

    def acc_to_json(self, acc: dict[str, Any]) -> Any:
        data = dict(acc)
        for side in ("pos", "neg"):
            if side in data:
                data[side] = [[k, c] for k, c in data[side].items()]
        for key in ("values", "bad", "unseen_values"):
            if key in data:
                data[key] = [[k, c] for k, c in data[key].items()]
        return to_json(data)

    def acc_from_json(self, data: Any) -> dict[str, Any]:
        acc = dict(from_json(data))
        for key in ("pos", "neg", "values", "bad", "unseen_values"):
            if key in acc:
                acc[key] = {k: c for k, c in acc[key]}
        return acc

    # -- training side: a column of the batch path ---------------------------------------------

    def accumulate(self, values: Any, null: Any, n: int, idx: Any = None) -> dict[str, Any]:
        """One column's accumulator: cheap statistics over all ``n`` rows, the sketches
        (histogram, value counts) over the rows ``idx`` (all rows when None).

        ``values``: numpy array or Arrow/list of strings; ``null``: boolean mask or None.
        """
        with np.errstate(all="ignore"):  # huge values: mean/std may overflow to inf, which is recorded as such
            return self._accumulate(values, null, n, idx)

    def _accumulate(self, values: Any, null: Any, n: int, idx: Any) -> dict[str, Any]:
        kind = self.kind
        acc = self.create()
        acc["n"] = n
        if kind in ("num", "bool", "ts"):
            raw = np.asarray(values)
            if kind == "num" and raw.dtype.kind == "b":
                raw = raw.astype(np.int64)
            if kind == "bool":
                acc["nulls"] = 0 if null is None else int(np.count_nonzero(null))
                acc["trues"] = int(np.count_nonzero(raw if null is None else raw & ~np.asarray(null, dtype=bool)))
                return acc
            is_float = kind == "num" and raw.dtype.kind == "f"
            extremes = (raw.min(), raw.max()) if null is None and raw.size else None
            # min/max propagate NaN, so finite extremes mean a clean column: no masks, no compaction
            if null is None and (not is_float or extremes is None or all(map(math.isfinite, extremes))):
                good = None
            elif is_float:
                keep = np.ones(n, dtype=bool) if null is None else ~np.asarray(null, dtype=bool)
                keep &= ~np.isnan(raw)
                good = keep & np.isfinite(raw)
                acc["inf"] = int(np.count_nonzero(keep)) - int(np.count_nonzero(good))
            else:
                keep = good = ~np.asarray(null, dtype=bool)
            acc["nulls"] = 0 if good is None else n - int(np.count_nonzero(keep))
            arr = raw if good is None else raw[good]
            if arr.size:
                lo, hi = extremes if extremes is not None and good is None else (arr.min(), arr.max())
                as_int = arr.dtype.kind in "iu" or kind == "ts"
                acc["min"], acc["max"] = (int(lo), int(hi)) if as_int else (float(lo), float(hi))
            if kind == "ts" or not arr.size:
                return acc
            _moments(acc, arr)
            if idx is not None:
                arr = raw[idx] if good is None else raw[idx][good[idx]]
            if self.sketch:
                _numeric_sketch(acc, arr.astype(np.float64, copy=False))
            return acc
        # str / category
        keep = np.ones(n, dtype=bool) if null is None else ~np.asarray(null, dtype=bool)
        arr = values if isinstance(values, (pa.Array, pa.ChunkedArray)) else pa.array(values, type=pa.large_string())
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        if null is None and arr.null_count:  # with a mask, the mask is authoritative (Column contract)
            keep = keep & ~np.asarray(arr.is_null().to_numpy(zero_copy_only=False), dtype=bool)
        acc["nulls"] = n - int(np.count_nonzero(keep))
        acc["empty"] = int(np.count_nonzero((_lengths(arr) == 0) & keep))
        if idx is not None:
            arr, keep = arr.take(pa.array(idx)), keep[idx]
        if not keep.all():
            arr = arr.filter(pa.array(keep))
        vc = pc.value_counts(arr)
        distinct = len(vc)
        acc["distinct_lb"] = distinct
        vals, counts = vc.field("values"), vc.field("counts")
        if distinct > self.value_cap:
            table = pa.table({"values": vals, "counts": counts})
            # a full sort beats select_k here: with two keys Arrow's select_k is several times slower
            order = pc.sort_indices(table, [("counts", "descending"), ("values", "ascending")])[: self.value_cap]
            vals, counts = pc.take(vals, order), pc.take(counts, order)
            acc["capped"] = True
        acc["values"] = dict(zip(vals.to_pylist(), counts.to_pylist()))
        if idx is not None and len(idx) < n:
            acc["capped"] = acc["capped"] or distinct < len(arr)  # some values may be unseen in the sample
        return acc

    # -- serving side: decoded values of logged records ------------------------------------------

    def accumulate_logged(self, values: list[Any]) -> dict[str, Any]:
        """One chunk's accumulator from logged values (tags decoded; timestamps as ISO text;
        :data:`MISSING` for an absent field). Values of a type the declared type does not take
        are counted in ``bad`` (needs ``reference``)."""
        acc = self.create()
        acc["n"] = len(values)
        types = Counter(map(type, values))
        miss = types.pop(_Missing, 0)
        acc["missing"] = miss
        acc["nulls"] = miss + types.pop(type(None), 0)
        accept = ACCEPTED_TYPES[self.type_name]
        for t, c in types.items():
            if t not in accept:
                acc["bad"][t.__name__] = acc["bad"].get(t.__name__, 0) + c
                if len(acc["bad_examples"]) < 5:
                    acc["bad_examples"] += [v for v in values if type(v) is t][: 5 - len(acc["bad_examples"])]
        if self.kind == "num":
            nums = [v for v in values if type(v) in accept]
            try:
                arr = np.asarray(nums, dtype=np.float64)
            except OverflowError:  # an int beyond the float range counts as +-inf
                arr = np.asarray([_as_float(v) for v in nums], dtype=np.float64)
            self._fold_numbers(acc, arr)
        elif self.kind == "bool":
            acc["present"] = types.get(bool, 0)
            acc["trues"] = sum(1 for v in values if v is True)
        elif self.kind == "str":
            strs = [v for v in values if type(v) is str]
            self._fold_counts(acc, dict(Counter(strs)), len(strs))
        else:  # timestamps: ISO strings
            self._fold_times(acc, [v for v in values if type(v) is str])
        return acc

    def accumulate_absent(self, n: int, missing: int) -> dict[str, Any]:
        """One chunk's accumulator for ``n`` logged records without a value (``missing`` of them
        lacked the field)."""
        acc = self.create()
        acc.update(n=n, nulls=n, missing=missing)
        return acc

    def accumulate_arrow(self, arr: Any, missing: int) -> dict[str, Any]:
        """One chunk's accumulator from an Arrow column of logged values (nulls are nulls, of which
        ``missing`` were absent fields); the type was checked against the declared type."""
        acc = self.create()
        acc["n"] = len(arr)
        acc["missing"] = missing
        acc["nulls"] = arr.null_count
        valid = arr.drop_null()
        if self.kind == "num":
            if pa.types.is_integer(valid.type):  # Arrow's cast refuses ints beyond 2**53; numpy rounds them
                numbers = np.asarray(valid.to_numpy(zero_copy_only=False)).astype(np.float64)
            else:
                numbers = np.asarray(valid.cast(pa.float64()).to_numpy(zero_copy_only=False))
            self._fold_numbers(acc, numbers)
        elif self.kind == "bool":
            acc["present"] = len(valid)
            acc["trues"] = int(pc.sum(valid).as_py() or 0)
        elif self.kind == "str":
            vc = pc.value_counts(valid)
            self._fold_counts(
                acc, dict(zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist())), len(valid)
            )
        elif pa.types.is_timestamp(valid.type):
            import pandas as pd

            self._fold_times(acc, pd.Series(valid.to_pandas()))
        else:
            self._fold_times(acc, valid.to_pylist())
        return acc

    def _fold_numbers(self, acc: dict[str, Any], arr: Any) -> None:
        with np.errstate(over="ignore", invalid="ignore"):  # huge values sum to inf
            nan = np.isnan(arr)
            k = int(nan.sum())
            if k:
                acc["nulls"] += k
                arr = arr[~nan]
            acc["present"] = int(arr.size)
            if not arr.size:
                return
            fin = arr[np.isfinite(arr)]
            acc["inf"] = int(arr.size - fin.size)
            if fin.size:
                acc["min"], acc["max"] = float(fin.min()), float(fin.max())
                _moments(acc, fin)
            ref = self.reference
            assert ref is not None
            bmin, bmax = ref.base.get("min"), ref.base.get("max")
            if bmin is not None and bmax is not None:
                acc["out_of_range"] = int(np.count_nonzero((arr < bmin) | (arr > bmax)))
            edges = ref.edges
            if edges:
                idx = np.searchsorted(np.asarray(edges, dtype=np.float64), arr, side="left")
                idx[arr == edges[0]] = 1
                acc["bins"] = np.bincount(idx, minlength=len(edges) + 1).tolist()

    def _fold_counts(self, acc: dict[str, Any], counts: dict[str, int], present: int) -> None:
        acc["present"] = present
        ref = self.reference
        assert ref is not None
        for i, vocab in enumerate(ref.vocabularies):
            unseen = {v: c for v, c in counts.items() if v not in vocab}
            acc["unseen"][i] = sum(unseen.values())
            if i == 0:
                acc["unseen_values"] = unseen
        acc["values"] = counts
        acc["empty"] = counts.get("", 0)
        acc["distinct_lb"] = len(counts)
        if len(counts) > self.value_cap:
            acc["values"] = _cap(counts, self.value_cap)
            acc["capped"] = True

    def _fold_times(self, acc: dict[str, Any], strs: Any) -> None:
        import pandas as pd

        acc["present"] = len(strs)
        ref = self.reference
        assert ref is not None
        if not len(strs) or ref.base.get("min") is None:
            return
        try:
            if isinstance(strs, pd.Series):
                ts = strs.dt.tz_localize("UTC") if strs.dt.tz is None else strs
            else:
                ts = pd.to_datetime(pd.Series(strs), utc=True, format="ISO8601", errors="coerce")
        except (ValueError, TypeError):
            return
        lo, hi = pd.Timestamp(ref.base["min"]), pd.Timestamp(ref.base["max"])
        acc["out_of_range"] = int(((ts < lo) | (ts > hi)).sum())
        bad = int(ts.isna().sum())
        if bad:
            acc["bad"]["unparseable timestamp"] = bad
        if ts.notna().any():
            acc["min"], acc["max"] = _micros(ts.min()), _micros(ts.max())

    def _serving_summary(self, acc: dict[str, Any]) -> dict[str, Any]:
        """What the skew metrics read of a serving column (counts against the reference)."""
        out = {
            k: acc[k] for k in ("n", "missing", "nulls", "present", "out_of_range", "bins", "unseen", "bad_examples")
        }
        out["bad"] = acc["bad"]  # type name -> count, first seen first
        if self.kind == "num":
            out.update(min=acc["min"], max=acc["max"])
            # the mean of the finite values over every present value (+-inf included), as reported since v1
            out["mean"] = acc["mean"] * acc["m"] / max(acc["present"], 1) if acc["min"] is not None else None
        elif self.kind == "ts":
            out.update(min=_ts_iso(acc["min"]), max=_ts_iso(acc["max"]))
        elif self.kind == "bool":
            out["trues"] = acc["trues"]
        else:
            out.update(values=acc["values"], unseen_values=acc["unseen_values"])
        return out

    # -- merge ---------------------------------------------------------------------------------

    def _merge2(self, a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
        if a["kind"] != b["kind"]:
            raise ValueError(f"cannot merge column statistics of kinds {a['kind']} and {b['kind']}")
        kind = a["kind"]
        out = {"kind": kind, "n": a["n"] + b["n"], "nulls": a["nulls"] + b["nulls"]}
        if kind in ("num", "ts"):
            mins = [x for x in (a["min"], b["min"]) if x is not None]
            maxs = [x for x in (a["max"], b["max"]) if x is not None]
            out["min"] = min(mins) if mins else None
            out["max"] = max(maxs) if maxs else None
        if kind == "num":
            m = a["m"] + b["m"]
            if m:
                delta = b["mean"] - a["mean"]
                mean = a["mean"] + delta * b["m"] / m
                m2 = a["m2"] + b["m2"] + delta * delta * a["m"] * b["m"] / m
            else:
                mean, m2 = 0.0, 0.0
            out.update(m=m, mean=mean, m2=m2, inf=a["inf"] + b["inf"], zero=a["zero"] + b["zero"])
            for side in ("pos", "neg"):
                out[side] = _add_counts(a[side], b[side])
        elif kind == "bool":
            out["trues"] = a["trues"] + b["trues"]
        elif kind == "str":
            values = _add_counts(a["values"], b["values"])
            capped = a["capped"] or b["capped"]
            if len(values) > self.value_cap:
                capped = True
                values = _cap(values, self.value_cap)
            out.update(
                values=values,
                empty=a["empty"] + b["empty"],
                capped=capped,
                distinct_lb=max(a["distinct_lb"], b["distinct_lb"], len(values)),
            )
        if "missing" in a:
            unseen_values = _add_counts(a["unseen_values"], b["unseen_values"])
            if len(unseen_values) > UNSEEN_CAP:
                unseen_values = dict(most_common(unseen_values, 1000))
            examples = a["bad_examples"] + b["bad_examples"]
            out.update(
                missing=a["missing"] + b["missing"],
                bad=_add_counts(a["bad"], b["bad"]),
                bad_examples=examples[:5],
                present=a["present"] + b["present"],
                out_of_range=a["out_of_range"] + b["out_of_range"],
                bins=[x + y for x, y in zip(a["bins"], b["bins"])],
                unseen=[x + y for x, y in zip(a["unseen"], b["unseen"])],
                unseen_values=unseen_values,
            )
        return out


# ------------------------------------------------------------------------------ helpers


def _add_counts(a: Mapping[Any, int], b: Mapping[Any, int]) -> dict[Any, int]:
    """Counts of both (``a``'s keys first, then ``b``'s new ones)."""
    out = dict(a)
    for k, c in b.items():
        out[k] = out.get(k, 0) + c
    return out


def _cap(values: Mapping[str, int], cap: int) -> dict[str, int]:
    """The ``cap`` most frequent values (ties by value)."""
    return dict(sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))[:cap])


def most_common(counts: Mapping[Any, int], k: int | None = None) -> list[tuple[Any, int]]:
    """``Counter.most_common`` of a plain dict: by count descending, ties in first-seen order.

    >>> most_common({"a": 1, "b": 2, "c": 1}, 2)
    [('b', 2), ('a', 1)]
    """
    return sorted(counts.items(), key=lambda kv: -kv[1])[:k]


def _as_float(v: int | float) -> float:
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


def _micros(ts: Any) -> int:
    return int(ts.value // 1000)  # pandas Timestamp: nanoseconds since the epoch


def _ts_iso(micros: int | None) -> str | None:
    if micros is None:
        return None
    return (_EPOCH + _dt.timedelta(microseconds=micros)).isoformat()


def _moments(acc: dict[str, Any], arr: Any) -> None:
    """Count, mean and sum of squared deviations of the (finite) values ``arr``."""
    mean = float(arr.mean())  # accumulates in float64 for int columns too, without a float copy
    dev = arr - mean
    acc.update(m=int(arr.size), mean=mean, m2=float(np.einsum("i,i->", dev, dev)))


def _numeric_sketch(acc: dict[str, Any], f: Any) -> None:
    """Fold finite float64 values ``f`` into the log-bucket sketch of ``acc``."""
    absf = np.abs(f)
    acc["zero"] = int(np.count_nonzero(absf < _ZERO))
    for name, sel in (("pos", f >= _ZERO), ("neg", f <= -_ZERO)):
        sub = absf[sel]
        if sub.size:
            keys = _log_bucket(sub)
            low = int(keys.min())
            counts = np.bincount(keys - low)  # keys span at most ~37,000 buckets (1e-9 .. 1.8e308)
            present = np.flatnonzero(counts)
            acc[name] = dict(zip((present + low).tolist(), counts[present].tolist()))


def _log_bucket(x: Any) -> Any:
    """The bucket ``k`` with ``gamma**(k-1) < x <= gamma**k`` exactly in float64, for ``x >= 1e-9``.

    ``log(x) / log(gamma)`` is within about 1e-11 of the true exponent (it is at most ~36,000),
    so its ceiling is right unless it lies within 1e-6 of an integer; only those values are
    settled by comparing with the powers themselves.

    >>> _log_bucket(np.array([1.0, 1.02, np.nextafter(1.02, 2.0), 2.0])).tolist()
    [0, 1, 2, 36]
    """
    r = np.log(x) / _LN_GAMMA
    keys = np.ceil(r)
    near = np.flatnonzero(np.abs(r - np.rint(r)) < 1e-6)
    if near.size:
        k, v = keys[near], x[near]
        k = np.where(np.power(_GAMMA, k) < v, k + 1, k)
        keys[near] = np.where(np.power(_GAMMA, k - 1) >= v, k - 1, k)
    return keys.astype(np.int64)


def _lengths(arr: Any) -> Any:
    """Byte length of each string (from the offsets buffer, no copy for (large_)string)."""
    if pa.types.is_large_string(arr.type) or pa.types.is_string(arr.type):
        dtype = np.int64 if pa.types.is_large_string(arr.type) else np.int32
        offsets = np.frombuffer(arr.buffers()[1], dtype=dtype)[arr.offset : arr.offset + len(arr) + 1]
        return np.diff(offsets)
    return np.asarray(pc.binary_length(arr).fill_null(1).to_numpy(zero_copy_only=False))


def _gpow(k: int) -> float:
    try:
        return _GAMMA**k
    except OverflowError:
        return math.inf


def _histogram(acc: dict[str, Any]) -> dict[str, list]:
    """Decile edges on the log-bucket sketch; exact counts for those edges."""
    lo, hi = acc["min"], acc["max"]
    # buckets in ascending value order as (upper bound, count)
    buckets: list[tuple[float, int]] = []
    for k in sorted(acc["neg"], reverse=True):  # -gamma**k <= x < -gamma**(k-1)
        buckets.append((-_gpow(k - 1), acc["neg"][k]))
    if acc["zero"]:
        buckets.append((_ZERO, acc["zero"]))
    for k in sorted(acc["pos"]):  # gamma**(k-1) < x <= gamma**k
        buckets.append((_gpow(k), acc["pos"][k]))
    if isinstance(lo, int):  # integer data: an integer upper bound is just as exact
        buckets = [(math.floor(u), c) for u, c in buckets]
    total = sum(c for _, c in buckets)
    if not total:
        return {"edges": [], "counts": []}
    # inner decile edges: the upper bound of the bucket holding each decile
    edges = [lo]
    cum, j = 0, 0
    bounds = []
    for i in range(1, HIST_BINS):
        target = total * i / HIST_BINS
        while j < len(buckets) and cum + buckets[j][1] < target:
            cum += buckets[j][1]
            j += 1
        if j < len(buckets):
            bounds.append(j)
    for j in sorted(set(bounds)):
        edge = min(max(buckets[j][0], lo), hi)
        if edge > edges[-1] and edge < hi:
            edges.append(edge)
    if hi > edges[-1] or len(edges) == 1:
        edges.append(hi)
    counts = [0] * (len(edges) - 1)
    b = 0
    for upper, c in buckets:
        while b < len(counts) - 1 and upper > edges[b + 1]:
            b += 1
        counts[b] += c
    return {"edges": edges, "counts": counts}
