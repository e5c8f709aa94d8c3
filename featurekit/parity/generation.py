"""Parity inputs: edge values that ordinary data hides, from the input contract, fitted state and data.

:func:`edge_values` lists, per input, the values where two implementations of the same feature
tend to disagree: nulls and NaN, signed zeros and infinities, subnormals, ints around 2**53
and the int64 limits, the contract's bounds and their float neighbours, every fitted number
(bucket edges, clip bounds, means, imputation values) and its ``nextafter`` neighbours,
vocabulary members in other case, with whitespace and in other Unicode normal forms, unseen
and empty strings, and timestamps at DST changes, midnights, leap days and far dates, naive
and in other zones (golden vectors draw from this list). :func:`ranked_edge_values` orders them
for parity runs, in classes each under its own cap so that no class crowds out another: the
specials first (null forms, signed zeros, infinities, subnormals, the int64 and 2**53 limits),
then the contract bounds and their neighbours, then state-derived values, then values derived
from the given rows (:mod:`featurekit.parity.data_values`: frequent strings' variants, known
categories, round numbers and rounding ties, quantiles, calendar edges inside the observed
span), then for text inputs the Unicode probes (:mod:`featurekit.values.unicode_probes`,
scanned from the Unicode data and placed in the data's frequent strings), then the rest of the
catalogue. :func:`edge_rows` turns them into rows: a realistic base row with one field changed
at a time, rows with a key missing or extra keys added, then seeded random mixes. The data is
read once per run; the same rows and seed give the same edge rows.

>>> from featurekit.spec.model import InputSpec
>>> ranked_edge_values(InputSpec(name="x", type="float"), [float(n) for n in range(500)])[:8]
[None, nan, 0.0, -0.0, inf, -inf, 5e-324, -5e-324]
"""

from __future__ import annotations

import datetime as dt
import math
import random
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from featurekit.parity.data_values import DATA_CAP, column, data_values, frequent_strings
from featurekit.values import edges
from featurekit.values.unicode_probes import probe_strings

if TYPE_CHECKING:
    from featurekit.spec.model import InputSpec, Spec


class Stated(Protocol):
    """What edge generation reads: a spec and its fitted state (a fitted transform, or a spec
    with empty state)."""

    @property
    def spec(self) -> Spec: ...

    @property
    def state_(self) -> Mapping[str, Any]: ...


UTC = dt.UTC
_OFFSET_ZONES = [z for z in edges.TIMEZONES if isinstance(z, dt.timezone) and z is not dt.UTC]
"""Each edge instant is also tried in these fixed-offset zones."""


def _neighbours(x: float) -> list[float]:
    if not math.isfinite(x):
        return [x]
    return [math.nextafter(x, -math.inf), x, math.nextafter(x, math.inf)]


def _leaves(state: Any) -> Iterable[Any]:
    """Every scalar inside a fitted state (nested mappings and lists walked in order)."""
    if isinstance(state, Mapping):
        for v in state.values():
            yield from _leaves(v)
    elif isinstance(state, (list, tuple)):
        for v in state:
            yield from _leaves(v)
    else:
        yield state


def numbers_in(state: Any) -> Iterable[float]:
    """Every number inside a fitted state (edges, bounds, means, fills, counts), as float."""
    return (float(v) for v in _leaves(state) if isinstance(v, (int, float)) and not isinstance(v, bool))


def _strings_in(state: Any) -> Iterable[str]:
    return (v for v in _leaves(state) if isinstance(v, str))


def spec_literals(spec: Any) -> Iterable[Any]:
    """Numbers and strings written in the spec itself: op parameters (fixed bucket edges, clip
    bounds) and expression literals (``x > 0``, ``== "gold"``), where behaviour changes."""
    from featurekit.ir.nodes import CallNode, ConstNode, walk

    graph = spec.graph
    for node in walk([graph.features[o] for o in graph.outputs]):
        if isinstance(node, ConstNode) and not isinstance(node.value, bool):
            yield float(node.value) if isinstance(node.value, int) else node.value
        elif isinstance(node, CallNode):
            for _, value in node.params:
                for v in value if isinstance(value, tuple) else (value,):
                    if isinstance(v, (int, float)) and not isinstance(v, bool):
                        yield float(v)
                    elif isinstance(v, str) and node.op not in ("udf",):
                        yield v


def _variants(s: str) -> list[str]:
    out = [
        s,
        s.upper(),
        s.lower(),
        s.title(),
        f" {s}",
        f"{s} ",
        f"{s}\u00a0",
        unicodedata.normalize("NFD", s),
        unicodedata.normalize("NFKC", s),
    ]
    return out


def _key(value: Any) -> tuple[str, str]:
    """Identity of an edge value by type and repr (1, 1.0 and True differ; NaN equals NaN)."""
    return (type(value).__name__, repr(value))


def _dedupe(values: Iterable[Any]) -> list[Any]:
    seen: set[tuple[str, str]] = set()
    out = []
    for v in values:
        key = _key(v)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


def edge_values(
    spec: InputSpec, state_numbers: Sequence[float] = (), state_strings: Sequence[str] = (), *, cap: int = 120
) -> list[Any]:
    """Edge values for one input (see the module docstring); at most ``cap``, most telling first."""
    kind = spec.type
    out: list[Any] = [None]
    bounds = [b for b in (spec.min, spec.max) if b is not None]
    if kind == "float":
        for b in bounds:
            out += _neighbours(float(b))
        for x in state_numbers:
            out += _neighbours(x)
        out += [1, 2**53, 2**53 + 1, True, "1.5"] + list(edges.FLOATS)
    elif kind == "int":
        for b in bounds:
            out += [int(b) - 1, int(b), int(b) + 1]
        for x in state_numbers:
            if math.isfinite(x) and abs(x) < 2**62:
                out += [math.floor(x) - 1, math.floor(x), math.ceil(x), math.ceil(x) + 1]
        out += [3.0, 2.5, True, "3", 2**63, -(2**63) - 1] + list(edges.INTS)
    elif kind in ("str", "category"):
        for s in list(spec.values or ()) + list(state_strings):
            out += _variants(s)
        out += [1, b"bytes", "\ud800"] + list(edges.STRINGS)
    elif kind == "bool":
        out += [True, False, 0, 1, "true", "False"]
    elif kind == "timestamp":
        for instant in edges.INSTANTS:
            out += [instant, instant.replace(tzinfo=None)] + [instant.astimezone(z) for z in _OFFSET_ZONES]
        out += ["2026-01-01T00:00:00+00:00", "2026-06-30 12:00", "not a date", 1767225600]
    return _dedupe(out)[:cap]


_SPECIALS: dict[str, tuple[Any, ...]] = {
    "float": (
        None,
        math.nan,
        0.0,
        -0.0,
        math.inf,
        -math.inf,
        5e-324,
        -5e-324,
        2.2250738585072014e-308,
        1.7976931348623157e308,
        -1.7976931348623157e308,
        2**53 - 1,
        2**53,
        2**53 + 1,
        -(2**53) - 1,
        2.0**53,
        2**63 - 1,
        -(2**63),
    ),
    "int": (None, math.nan, 0, 0.0, -0.0, math.inf, -math.inf, 5e-324)
    + (2**53 - 1, 2**53, 2**53 + 1, -(2**53) - 1, 2**63 - 1, -(2**63), 2**63, -(2**63) - 1),
    "str": (None, "", " "),
    "category": (None, "", " "),
    "bool": (None, True, False),
    "timestamp": (None,),
}
"""Per input type: the values every input always gets, first: null forms (None; NaN for numeric
inputs only, where correct text or time code would rightly reject it; the missing key is a row
of its own in :func:`edge_rows`), signed zeros, infinities, subnormals and integer limits."""
STATE_CAP = 48
"""At most this many values derived from the fitted state and spec literals per input."""
CATALOGUE_CAP = 120
"""At most this many other catalogue values (type variants, strings, instants) per input."""
UNICODE_CAP = 48
"""At most this many Unicode probe strings per text input."""
PROBE_WORDS = 2
"""The probes are placed in this many of the data's most frequent strings."""


def _bound_neighbours(spec: InputSpec) -> list[Any]:
    """The contract bounds and their neighbours (1 ULP for float, 1 for int)."""
    out: list[Any] = []
    for b in (spec.min, spec.max):
        if b is not None and spec.type == "float":
            out += _neighbours(float(b))
        elif b is not None and spec.type == "int":
            out += [int(b) - 1, int(b), int(b) + 1]
    return out


def _unique_after(values: Iterable[Any], taken: set[tuple[str, str]], cap: int) -> list[Any]:
    """The first ``cap`` of ``values`` not in ``taken`` (no duplicates); adds them to ``taken``."""
    out: list[Any] = []
    for v in values:
        if len(out) >= cap:
            break
        key = _key(v)
        if key not in taken:
            taken.add(key)
            out.append(v)
    return out


def ranked_edge_values(
    spec: InputSpec,
    state_numbers: Sequence[float] = (),
    state_strings: Sequence[str] = (),
    data: Sequence[Any] = (),
) -> list[Any]:
    """Edge values for one input in the order parity runs use them (see the module docstring);
    ``data``: the input's values in the given rows. Each value appears once, in its first class."""
    specials = _dedupe(list(_SPECIALS.get(spec.type, (None,))) + _bound_neighbours(spec))
    catalogue = edge_values(spec, cap=10**6)
    taken = {_key(v) for v in specials + catalogue}
    derived = _unique_after(edge_values(spec, state_numbers, state_strings, cap=10**6), taken, STATE_CAP)
    taken = {_key(v) for v in specials + derived}
    known = len(spec.values or ()) if spec.type in ("str", "category") else 0
    from_data = _unique_after(data_values(spec, data), taken, known + DATA_CAP)
    probes: list[Any] = []
    if spec.type in ("str", "category"):
        probes = _unique_after(probe_strings(frequent_strings(data, PROBE_WORDS), cap=UNICODE_CAP), taken, UNICODE_CAP)
    rest = _unique_after(catalogue, taken, CATALOGUE_CAP)
    return specials + derived + from_data + probes + rest


def _accepted(spec: InputSpec, values: list[Any]) -> list[Any]:
    """The values the input contract accepts without raising (after its declared policy)."""
    from featurekit.compile.contract import Coercer

    coercer = Coercer(spec)
    out = []
    for value in values:
        _, kind, _ = coercer.classify(value)
        if kind is None or not coercer.raises_on(kind):
            out.append(value)
    return out


def row_accepted(spec: Spec) -> Callable[[Mapping[str, Any]], bool]:
    """Whether the input contract accepts a whole row without raising (an absent key is a null).

    >>> from featurekit.spec.load_yaml import spec_from_dict
    >>> accepts = row_accepted(spec_from_dict({"featurekit": 1, "name": "s", "version": "1.0.0",
    ...     "inputs": {"age": {"type": "int", "min": 18, "nullable": False}}, "features": {"a": "age"}}))
    >>> accepts({"age": 30}), accepts({"age": 0}), accepts({})
    (True, False, False)
    """
    from featurekit.compile.contract import Coercer

    coercers = [(i.name, Coercer(i)) for i in spec.inputs]

    def accepts(row: Mapping[str, Any]) -> bool:
        for name, coercer in coercers:
            _, kind, _ = coercer.classify(row.get(name))
            if kind is not None and coercer.raises_on(kind):
                return False
        return True

    return accepts


def input_edge_values(
    fitted: Stated, *, invalid: bool = True, ranked: bool = False, rows: Sequence[Mapping[str, Any]] = ()
) -> dict[str, list[Any]]:
    """Input name -> its :func:`edge_values` for this fitted state and the spec's literals
    (``invalid=False``: only the values the input contract accepts; ``ranked=True``: in the
    order of :func:`ranked_edge_values`, specials first, with values derived from ``rows``)."""
    spec = fitted.spec
    literals = list(spec_literals(spec))
    numbers = [
        x for x in list(numbers_in(fitted.state_)) + [v for v in literals if isinstance(v, float)] if math.isfinite(x)
    ]
    strings = list(dict.fromkeys(list(_strings_in(fitted.state_)) + [v for v in literals if isinstance(v, str)]))[:200]
    per_input = {}
    for i in spec.inputs:
        state_numbers = numbers if i.type in ("float", "int") else ()
        if ranked:
            per_input[i.name] = ranked_edge_values(i, state_numbers, strings, column(rows, i.name))
        else:
            per_input[i.name] = edge_values(i, state_numbers, strings)
    if not invalid:
        per_input = {i.name: _accepted(i, per_input[i.name]) for i in spec.inputs}
    return per_input


def edge_rows(
    fitted: Stated,
    base_rows: Sequence[Mapping[str, Any]] = (),
    *,
    fuzz: int = 0,
    seed: int = 0,
    invalid: bool = True,
) -> list[dict[str, Any]]:
    """Rows for a parity run: each edge value in a base row, key removal/extra keys, random mixes.

    ``base_rows`` are real rows: the first few are used as backgrounds, and all of them give the
    data-derived edge values (read once); without them an all-null row is the background. ``fuzz`` adds that many seeded random rows mixing edge
    values and base values across all inputs. ``invalid=False`` keeps only values the input
    contract accepts (no rows that featurekit would refuse), e.g. to test a serving function
    that does not validate its input.
    """
    spec = fitted.spec
    per_input = input_edge_values(fitted, invalid=invalid, ranked=True, rows=base_rows)
    backgrounds = [dict(r) for r in base_rows[:3]] or [{i.name: None for i in spec.inputs}]
    rows: list[dict[str, Any]] = []
    for base in backgrounds:
        for name, values in per_input.items():
            for value in values:
                row = dict(base)
                row[name] = value
                rows.append(row)
            missing = dict(base)
            missing.pop(name, None)
            if invalid or _accepted(next(i for i in spec.inputs if i.name == name), [None]):
                rows.append(missing)
        rows.append({**base, "__unexpected_key__": 1, "": None})
    rng = random.Random(seed)
    pool = [dict(r) for r in base_rows] or backgrounds
    for _ in range(fuzz):
        row = dict(rng.choice(pool))
        for name, values in per_input.items():
            if rng.random() < 0.3:
                row[name] = rng.choice(values)
        rows.append(row)
    return rows
