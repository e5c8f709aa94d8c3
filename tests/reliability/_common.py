"""Shared helpers for the reliability suite: the fitted churn transform, outcome checks, counts."""

from __future__ import annotations

import collections
import datetime as dt
import functools
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import featurekit as fk
from featurekit.parity.running import run_fitted_batch
from featurekit.values.equality import Equality, Raised

ROOT = Path(__file__).resolve().parents[2]
CHURN = ROOT / "specs" / "churn.yaml"

# category -> number of generated cases (printed at the end of the session with -s)
COUNTS: collections.Counter = collections.Counter()


@functools.lru_cache(maxsize=1)
def churn_fitted():
    from featurekit.datasets import make_churn

    return fk.load_spec(CHURN).fit(make_churn(3000))


@functools.lru_cache(maxsize=1)
def churn_rows() -> list[dict[str, Any]]:
    from featurekit.datasets import make_churn, to_rows

    return to_rows(make_churn(200, seed=11, evaluation=True))


def _native(kind: str, values: Sequence[Any]) -> bool:
    """The condition under which ``featurekit.values.frames.typed_frame`` gives a column a native dtype."""
    present = [v for v in values if v is not None]
    if kind == "float":
        return all(type(v) is float for v in present)
    if kind == "int":
        return all(type(v) is int and -(2**63) <= v < 2**63 for v in present)
    if kind == "bool":
        return all(type(v) is bool for v in present)
    if kind in ("str", "category"):
        return all(type(v) is str and v.isascii() for v in present)
    if kind == "timestamp":
        return bool(present) and all(type(v) is dt.datetime and v.tzinfo is dt.UTC for v in present)
    return False


def batch_side(fitted, rows: Sequence[Mapping[str, Any]]) -> list[Any]:
    """The batch path's per-row result: output dict, or ``Raised`` for its input error."""
    return run_fitted_batch(fitted, rows)


def row_side(fitted, row: Mapping[str, Any]) -> Any:
    """The row path's output dict, or ``Raised`` for a ContractError (others propagate)."""
    try:
        return fitted.transform_row(row)
    except fk.ContractError as exc:
        return Raised(exc)


def assert_contract_error(exc: BaseException) -> None:
    """A ContractError naming the input, the rule, the value, with a fix."""
    assert isinstance(exc, fk.ContractError), repr(exc)
    msg = str(exc)
    assert "Fix:" in msg, msg[:500]
    name = getattr(exc, "input", None)
    assert name and repr(name) in msg, msg[:500]
    rule = getattr(exc, "rule", None)
    assert rule and rule in msg, (rule, msg[:500])
    value = getattr(exc, "value", None)
    assert repr(value)[:60] in msg, (repr(value)[:60], msg[:500])


def assert_typed(fitted, out: Mapping[str, Any]) -> None:
    types = fitted.output_types
    assert list(out) == list(types)
    for col, t in types.items():
        v = out[col]
        base = t.rstrip("?")
        if v is None:
            assert t.endswith("?"), (col, t, v)
            continue
        want = {"int": int, "float": float, "bool": bool, "str": str, "timestamp": dt.datetime}[base]
        assert type(v) is want, (col, t, v, type(v))


_POLICY = Equality(ulps=4)


def same_output(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[str]:
    """Columns where the two outputs differ (floats within 4 ULP, NaN equals NaN, NA equals NaN)."""
    bad = []
    for col in a:
        if _POLICY.mismatch(a[col], b.get(col)) not in (None, "null_vs_nan"):
            bad.append(col)
    return bad
