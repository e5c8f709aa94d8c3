"""Every special edge value reaches a serving callable, for every numeric input of the example
specs, however large their fitted state (issue 16 item 3); and given NaN stays NaN."""

from __future__ import annotations

import math
import sys
from pathlib import Path
from typing import Any

import pytest

import featurekit as fk
from featurekit import parity
from featurekit.datasets import make_churn

ROOT = Path(__file__).resolve().parents[2]
MISSING = ("missing key", "")


def _gallery() -> Any:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import examples.spec_gallery.fraud_udfs  # noqa: F401  (registers round_amount_score)
    from examples.spec_gallery import data

    return data


def _fitted(name: str) -> tuple[Any, Any]:
    if name == "churn":
        spec = fk.load_spec(ROOT / "specs" / "churn.yaml")
        return spec.fit(make_churn(1_500, seed=1)), make_churn(20, seed=2, evaluation=True)
    make = getattr(_gallery(), f"make_{name}")  # before loading: fraud.yaml calls a UDF it registers
    spec = fk.load_spec(ROOT / "specs" / f"{name}.yaml")
    return spec.fit(make(1_500, seed=0)), make(20, seed=1)


def _key(value: Any) -> tuple[str, str]:
    return (type(value).__name__, repr(value))


def _specials(spec: Any) -> set[tuple[str, str]]:
    want: list[Any] = [None, math.nan, 0.0, -0.0, math.inf, -math.inf, 5e-324]
    want += [2**53 - 1, 2**53 + 1, 2**63 - 1, -(2**63)]
    if spec.type == "float":
        want += [-5e-324]
        for bound in (spec.min, spec.max):
            if bound is not None:
                b = float(bound)
                want += [math.nextafter(b, -math.inf), b, math.nextafter(b, math.inf)]
    else:
        want += [0]
        for bound in (spec.min, spec.max):
            if bound is not None:
                want += [int(bound) - 1, int(bound), int(bound) + 1]
    return {_key(v) for v in want} | {MISSING}


@pytest.mark.parametrize("name", ["churn", "fraud", "listings"])
def test_each_special_reaches_the_serving_callable_for_every_numeric_input(name):
    fitted, given = _fitted(name)
    received: list[dict[str, Any]] = []

    def serve(row: dict[str, Any]) -> dict[str, Any]:
        received.append(dict(row))
        return fitted.transform_row(row)

    parity.compare(fitted.transform, serve, given, contract=fitted, fuzz=0, shrink=False)
    numeric = [i for i in fitted.spec.inputs if i.type in ("float", "int")]
    assert numeric
    for spec in numeric:
        seen = {_key(r[spec.name]) for r in received if spec.name in r}
        seen |= {MISSING} if any(spec.name not in r for r in received) else set()
        assert _specials(spec) <= seen, (name, spec.name, sorted(_specials(spec) - seen))


def test_given_nan_reaches_the_row_side_as_nan():
    fitted, given = _fitted("churn")
    given = given.copy()
    given.loc[0, "monthly_spend"] = math.nan
    received: list[dict[str, Any]] = []

    def serve(row: dict[str, Any]) -> dict[str, Any]:
        received.append(dict(row))
        return fitted.transform_row(row)

    parity.compare(fitted.transform, serve, given, contract=fitted, edges=False, shrink=False)
    first = received[0]["monthly_spend"]
    assert type(first) is float and math.isnan(first)
