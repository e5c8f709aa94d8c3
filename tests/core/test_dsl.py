"""The Python DSL builds the same spec as YAML."""

from __future__ import annotations

from pathlib import Path

import pytest

import featurekit as fk
from featurekit import dsl

ROOT = Path(__file__).resolve().parents[2]


def test_dsl_and_yaml_give_the_same_fingerprint():
    x, n = dsl.col("x"), dsl.col("n")
    built = dsl.spec(
        "s",
        "1.0.0",
        inputs={"x": dsl.input("float"), "n": dsl.input("int")},
        features={
            "a": dsl.log1p(x) / (n + 1),
            "b": dsl.if_else(n > 0, x * 2, 0.0),
            "c": dsl.clip(x, lower_pct=1, upper_pct=99),
            "d": ~(x > 1) & (n == 3),
        },
    )
    text = """featurekit: 1
name: s
version: 1.0.0
inputs: {x: {type: float}, n: {type: int}}
features:
  a: log1p(x) / (n + 1)
  b: if_else(n > 0, x * 2, 0.0)
  c: clip(x, lower_pct=1, upper_pct=99)
  d: not x > 1 and n == 3
"""
    assert built.fingerprint == fk.spec_from_yaml(text).fingerprint
    assert built.feature_fingerprints == fk.spec_from_yaml(text).feature_fingerprints


def test_dsl_spec_round_trips_through_yaml():
    spec = fk.load_spec(ROOT / "specs" / "churn.yaml")
    again = dsl.spec(
        spec.name,
        spec.version,
        inputs={i.name: i.to_dict() for i in spec.inputs},
        constants={c.name: {"timestamp": c.value} for c in spec.constants},
        features={f.name: f.source for f in spec.features},
    )
    assert again.fingerprint == spec.fingerprint


def test_python_truthiness_is_refused_with_a_hint():
    with pytest.raises(TypeError, match="use & | ~"):
        bool(dsl.col("x") > 1)


def test_unknown_op_and_bad_params_fail_at_build_time():
    with pytest.raises(AttributeError):
        dsl.not_an_op  # noqa: B018
    with pytest.raises(fk.SpecError, match="parameter 'num_buckets'"):
        dsl.spec("s", "1.0.0", inputs={"x": "str"}, features={"h": dsl.hash_bucket(dsl.col("x"), num_buckets=0)})
