"""Seeded bulk inputs for the exactness check: many rows per op, generated without Hypothesis.

Hypothesis explores small, shrinkable cases; this module covers volume. :func:`bulk_rows`
draws ``n`` rows per argument type from a numpy generator: the edge catalogues of
:mod:`featurekit.testing.strategies` (signed zeros, NaN, infinities, subnormals, the int64 and
2**53 boundaries, Unicode case and whitespace traps, DST instants), random bit patterns over
the whole float64 range (subnormal to huge, NaN included), values near integers and halves
(one ULP either side), log-normal magnitudes of both signs, random ints of every magnitude,
random text over a tricky alphabet and random instants in many time zones — with about one
value in ten null.

>>> rows = bulk_rows([DType.FLOAT, DType.INT], 1000, seed=1)
>>> len(rows), sorted(rows[0])
(1000, ['a0', 'a1'])
>>> bulk_rows([DType.FLOAT], 5, seed=1) == bulk_rows([DType.FLOAT], 5, seed=1)
True
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np

from featurekit.testing import strategies as fks
from featurekit.types import DType

_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.UTC)
_NULL_SHARE = 0.1
_TEXT_ALPHABET = (
    list("aAbBcCzZ09 _-.|")
    + list(fks.WHITESPACE)
    + ["ß", "İ", "ı", "ﬃ", "ǅ", "Σ", "ς", "\u0301", "é", "Å", "½", "①", "١", "👍", "🏽", "日"]
)
_TS_RANGE_US = (fks._us(_dt.datetime(1900, 1, 1, tzinfo=_dt.UTC)), fks._us(_dt.datetime(2200, 12, 31, tzinfo=_dt.UTC)))


def bulk_rows(
    types: Sequence[DType], n: int, *, seed: int = 0, extra: dict[int, Iterable[Any]] | None = None
) -> list[dict[str, Any]]:
    """``n`` row dicts ``{"a0": ..., "a1": ...}``; ``extra[i]`` adds values (with their ULP or
    ±1 neighbours, as the Hypothesis strategies do) to argument ``i``'s edge catalogue."""
    rng = np.random.default_rng(seed)
    extra = extra or {}
    columns = [_values(t, n, rng, fks._typed_extra(t, extra.get(i, ()))) for i, t in enumerate(types)]
    names = fks.input_names(types)
    return [dict(zip(names, vs)) for vs in zip(*columns)]


def _values(dtype: DType, n: int, rng: np.random.Generator, extra: list[Any]) -> list[Any]:
    values = _GENERATORS[dtype](n, rng, extra)
    for i in np.flatnonzero(rng.random(n) < _NULL_SHARE).tolist():
        values[i] = None
    return values


def _mix(n: int, rng: np.random.Generator, parts: list[Callable[[int], list[Any]]]) -> list[Any]:
    """Each position drawn from one of ``parts`` (equal shares), in random order."""
    which = rng.integers(0, len(parts), size=n)
    out: list[Any] = [None] * n
    for k, part in enumerate(parts):
        idx = np.flatnonzero(which == k)
        for i, v in zip(idx.tolist(), part(len(idx))):
            out[i] = v
    return out


def _pick(rng: np.random.Generator, pool: Sequence[Any]) -> Callable[[int], list[Any]]:
    return lambda m: [pool[i] for i in rng.integers(0, len(pool), size=m).tolist()] if pool else [None] * m


def _floats(n: int, rng: np.random.Generator, extra: list[Any]) -> list[Any]:
    def bit_patterns(m: int) -> list[float]:
        return rng.integers(-(2**63), 2**63 - 1, size=m, dtype=np.int64, endpoint=True).view(np.float64).tolist()

    def near_integers(m: int) -> list[float]:
        k = rng.integers(-1000, 1001, size=m).astype(np.float64) + 0.5 * rng.integers(0, 2, size=m)
        step = rng.integers(-1, 2, size=m)
        return np.where(step < 0, np.nextafter(k, -np.inf), np.where(step > 0, np.nextafter(k, np.inf), k)).tolist()

    def log_normal(m: int) -> list[float]:
        return (rng.lognormal(0.0, 6.0, size=m) * rng.choice([-1.0, 1.0], size=m)).tolist()

    def uniform(m: int) -> list[float]:
        return rng.uniform(-10.0, 10.0, size=m).tolist()

    edges = list(fks.FLOAT_EDGES) + [float(v) for v in extra]
    return _mix(n, rng, [_pick(rng, edges), bit_patterns, near_integers, log_normal, uniform])


def _ints(n: int, rng: np.random.Generator, extra: list[Any]) -> list[Any]:
    def any_magnitude(m: int) -> list[int]:
        bits = rng.integers(0, 64, size=m).tolist()
        raw = rng.integers(-(2**63), 2**63 - 1, size=m, dtype=np.int64, endpoint=True).tolist()
        return [r >> (63 - b) if b < 63 else r for r, b in zip(raw, bits)]

    def small(m: int) -> list[int]:
        return rng.integers(-1000, 1001, size=m).tolist()

    return _mix(n, rng, [_pick(rng, list(fks.INT_EDGES) + [int(v) for v in extra]), any_magnitude, small])


def _bools(n: int, rng: np.random.Generator, extra: list[Any]) -> list[Any]:
    return [bool(b) for b in rng.integers(0, 2, size=n).tolist()]


def _strs(n: int, rng: np.random.Generator, extra: list[Any]) -> list[Any]:
    vocab = [v for s in fks.VOCAB for v in fks._case_variants(s)]
    extras = [v for s in extra for v in fks._case_variants(s)]

    def random_text(m: int) -> list[str]:
        lengths = rng.integers(0, 13, size=m).tolist()
        chars = rng.integers(0, len(_TEXT_ALPHABET), size=sum(lengths)).tolist()
        out, pos = [], 0
        for length in lengths:
            out.append("".join(_TEXT_ALPHABET[c] for c in chars[pos : pos + length]))
            pos += length
        return out

    return _mix(n, rng, [_pick(rng, list(fks.STR_EDGES)), _pick(rng, vocab + extras), random_text])


def _timestamps(n: int, rng: np.random.Generator, extra: list[Any]) -> list[Any]:
    def random_instants(m: int) -> list[_dt.datetime]:
        us = rng.integers(*_TS_RANGE_US, size=m).tolist()
        zones = rng.integers(0, len(fks.TIMEZONES), size=m).tolist()
        return [(_EPOCH + _dt.timedelta(microseconds=u)).astimezone(fks.TIMEZONES[z]) for u, z in zip(us, zones)]

    def whole_hours(m: int) -> list[_dt.datetime]:
        hours = rng.integers(_TS_RANGE_US[0] // 3_600_000_000, _TS_RANGE_US[1] // 3_600_000_000, size=m).tolist()
        return [_EPOCH + _dt.timedelta(hours=h) for h in hours]

    return _mix(n, rng, [_pick(rng, list(fks.TS_EDGES) + list(extra)), random_instants, whole_hours])


_GENERATORS: dict[DType, Callable[[int, np.random.Generator, list[Any]], list[Any]]] = {
    DType.FLOAT: _floats,
    DType.INT: _ints,
    DType.BOOL: _bools,
    DType.STR: _strs,
    DType.TIMESTAMP: _timestamps,
}
