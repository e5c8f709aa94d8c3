"""Fuzzing valid specs and fitted states (issue 17, "Done means").

Hypothesis mutates a valid spec (contract fields, names, expressions, parameters, literals,
top-level fields) or a valid fitted state (fields set to hostile JSON values, removed, added),
then asserts one of two outcomes:

* a featurekit error that names what is wrong (an input, feature, constant, key or field of
  the spec or state), or
* a transform whose two paths agree on every serving row (equal outputs, or the same kind of
  input error on both).

Never a raw exception, never batch != row. The ``nightly`` Hypothesis profile runs 10,000
examples per test (``HYPOTHESIS_PROFILE=nightly pytest tests/reliability/test_fuzz_specs.py``);
shorter profiles run at most :data:`CI_EXAMPLES`, so CI stays short.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
import re
import warnings
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import featurekit as fk
from featurekit import registry
from featurekit.errors import FeaturekitError
from featurekit.ir.nodes import Call, Const, Name, to_source
from featurekit.parity.running import run_fitted_batch
from featurekit.values.equality import Raised

from ._common import COUNTS, same_output

CI_EXAMPLES = 60
NIGHTLY_EXAMPLES = 10_000

BASE = """
featurekit: 1
name: fuzzed
version: 1.0.0
constants:
  K: 2.5
  START: {timestamp: "2020-01-01T00:00:00Z"}
inputs:
  x: {type: float, min: 0, max: 1000, on_violation: clip}
  n: {type: int, min: 0, on_violation: 'null'}
  plan: {type: category, values: [free, pro, team], on_violation: default, default: free}
  country: {type: category}
  flag: {type: bool}
  ts: {type: timestamp, timezone: Europe/Berlin}
  text: {type: str}
features:
  x_log: log1p(x)
  x_clip: clip(x, lower_pct=5, upper_pct=95)
  x_z: zscore(x_clip)
  x_bucket: bucketize(x, quantiles=[25, 50, 75])
  x_mm: minmax(x)
  x_rs: robust_scale(x)
  x_fill: impute(x, strategy="median")
  ratio: if_else(n > 0, x / n, K)
  n_fill: impute(n, strategy="most_frequent")
  n_text: hash_bucket(to_str(coalesce(n, 0)), 97)
  plan_oh: one_hot(plan, prefix="plan")
  country_idx: vocab(country, top_k=3)
  country_freq: frequency(country, normalize=true)
  cross_pc: cross(plan, country, num_buckets=64)
  flag_int: to_int(coalesce(flag, false))
  hour_sin: cyclical(coalesce(hour(ts), 0), period=24)
  days: coalesce(days_between(START, ts), -1.0)
  text_len: coalesce(length(lower(text)), 0)
  text_ts: parse_timestamp(text, tz="Europe/Berlin")
  text_has: contains(coalesce(text, ""), "a[0-9]", regex=true)
  mode_country: impute(country, strategy="most_frequent")
  rounded: round(x * 1.5, decimals=1)
"""

UTC = dt.UTC
TRAIN = pd.DataFrame(
    {
        "x": [float(v) for v in (1, 5, 20, 50, 120, 300, 0.5, 999, 42, 7)],
        "n": [0, 1, 2, 3, 5, 8, 13, None, 2, 1],
        "plan": ["free", "pro", "team", "free", "pro", "free", None, "team", "free", "pro"],
        "country": ["SE", "NO", "SE", "DE", "SE", None, "FR", "NO", "SE", "DE"],
        "flag": [True, False, None, True, True, False, True, False, None, True],
        "ts": [dt.datetime(2026, 3, 29, h, 30, tzinfo=UTC) for h in range(10)],
        "text": ["a1 b", "x", None, "2026-01-01T00:00:00", "ABC", "", "a9", "zz", "q", "2024-02-29 10:00"],
    }
).astype(object)

SERVING = [
    {"x": 3.0, "n": 2, "plan": "pro", "country": "SE", "flag": True, "ts": "2026-01-01T00:00:00Z", "text": "a1"},
    {"x": -5.0, "n": -1, "plan": "other", "country": "XX", "flag": None, "ts": None, "text": None},
    {"x": None, "n": None, "plan": None, "country": None},
    {
        "x": 5000.0,
        "n": 2**62,
        "plan": "team",
        "country": "NO",
        "flag": False,
        "ts": dt.datetime(2026, 10, 25, 2, 30),
        "text": "2026-10-25 02:30",
    },
    {
        "x": 1e308,
        "n": 0,
        "plan": "free",
        "country": "",
        "flag": True,
        "ts": "9999-12-31T23:59:59-23:59",
        "text": "9999-12-31T23:00:00-05:00",
    },
]

NAMES = (
    "x",
    "n",
    "plan",
    "country",
    "flag",
    "ts",
    "text",
    "K",
    "START",
    "x_log",
    "x_z",
    "plan_free",
    "plan_oh",
    "inf",
    "nan",
    "true",
    "None",
    "null",
    "if",
    "my feature",
    "1x",
    "_",
    "x2",
    "Plan",
)
JUNK_TEXT = (
    "float",
    "int",
    "str",
    "category",
    "bool",
    "timestamp",
    "null",
    "raise",
    "clip",
    "default",
    "Europe/Berlin",
    "Not/AZone",
    "UTC",
    "2026-01-01T00:00:00Z",
    "9999-12-31T23:59:59-23:59",
    "free",
    "pro",
    "",
    "1.0",
    "1.0.0",
    "x",
    "fallback",
    "\ud800",
)


def junk() -> st.SearchStrategy:
    """Hostile scalar and container values for spec fields, literals and parameters."""
    scalars = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**70), 2**70),
        st.sampled_from([0, 1, -1, 2**31, 2**63 - 1, -(2**63), 2**63, 10**30]),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from([0.0, -0.0, 2.5, 1e6, 1e-300, math.inf, -math.inf, math.nan]),
        st.sampled_from(JUNK_TEXT),
        st.text(max_size=6),
    )
    return st.one_of(scalars, st.lists(scalars, max_size=4))


def _literal_ok(value: Any) -> bool:
    return isinstance(value, (bool, int, float, str)) or (
        isinstance(value, list) and all(isinstance(v, (bool, int, float, str)) for v in value)
    )


@st.composite
def expressions(draw, depth: int = 0) -> Any:
    """A random expression over the base spec's names and registered ops (often ill-typed)."""
    if depth >= 3 or draw(st.integers(0, 3)) == 0:
        if draw(st.booleans()):
            return Name(draw(st.sampled_from(NAMES[:11] + ("x_fill", "country_idx"))))
        value = draw(junk().filter(lambda v: _literal_ok(v) and not isinstance(v, list)))
        return Const(value)
    op = registry.get(draw(st.sampled_from([o for o in registry.names() if o != "udf"])))
    n_args = len(op.args) + (draw(st.integers(0, 1)) if op.variadic else 0)
    args = tuple(draw(expressions(depth + 1)) for _ in range(n_args))
    params = {}
    for name, param in op.params.items():
        if draw(st.booleans()):
            params[name] = (
                draw(st.sampled_from(param.choices))
                if param.choices and draw(st.booleans())
                else draw(junk().filter(_literal_ok))
            )
    return Call(op.name, args, tuple(sorted(params.items())))


def _tweak_expression(text: str, draw) -> str:
    """Replace one literal, name or parameter value of ``text`` with a hostile one."""
    from featurekit.spec.expr_parser import ExprError, parse

    try:
        expr = parse(text)
    except ExprError:  # an earlier mutation already broke it: start afresh
        return to_source(draw(expressions()))
    spots: list[tuple[tuple[int, ...], str]] = []
    stack: list[tuple[Any, tuple[int, ...]]] = [(expr, ())]
    while stack:
        node, path = stack.pop()
        spots.append((path, "node"))
        if isinstance(node, Call):
            spots += [(path, f"param:{k}") for k, _ in node.params]
            stack += [(a, path + (i,)) for i, a in enumerate(node.args)]
    path, what = draw(st.sampled_from(spots))

    def rebuild(node: Any, rest: tuple[int, ...]) -> Any:
        if rest:
            args = list(node.args)
            args[rest[0]] = rebuild(args[rest[0]], rest[1:])
            return Call(node.op, tuple(args), node.params)
        if what == "node":
            return draw(expressions(2))
        key = what.split(":", 1)[1]
        value = draw(junk().filter(_literal_ok))
        return Call(node.op, node.args, tuple(sorted({**dict(node.params), key: value}.items())))

    return to_source(rebuild(expr, path))


@st.composite
def mutated_specs(draw) -> dict[str, Any]:
    data = copy.deepcopy(fk.spec_from_yaml(BASE).to_dict())
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(
            st.sampled_from(
                [
                    "input_field",
                    "input_field",
                    "rename",
                    "expression",
                    "expression",
                    "new_feature",
                    "top",
                    "outputs",
                    "constant",
                ]
            )
        )
        COUNTS[f"fuzz spec: {kind}"] += 1
        if kind == "input_field":
            name = draw(st.sampled_from(sorted(data["inputs"])))
            key = draw(
                st.sampled_from(
                    ["type", "nullable", "min", "max", "values", "on_violation", "default", "timezone", "bogus"]
                )
            )
            contract = data["inputs"][name] = (
                dict(data["inputs"][name]) if isinstance(data["inputs"][name], dict) else {"type": data["inputs"][name]}
            )
            if draw(st.integers(0, 4)) == 0:
                contract.pop(key, None)
            else:
                contract[key] = draw(junk())
        elif kind == "rename":
            section = draw(st.sampled_from(["inputs", "features", "constants"]))
            old = draw(st.sampled_from(sorted(data[section])))
            new = draw(st.sampled_from(NAMES))
            data[section] = {(new if k == old else k): v for k, v in data[section].items()}
            if draw(st.booleans()):  # rename the references too
                pattern = re.compile(rf"(?<![\w.'\"]){re.escape(old)}(?![\w'\"])")
                data["features"] = {
                    k: (pattern.sub(new, v) if isinstance(v, str) else v) for k, v in data["features"].items()
                }
                if "outputs" in data:
                    data["outputs"] = [new if o == old else o for o in data["outputs"]]
        elif kind == "expression":
            name = draw(st.sampled_from(sorted(data["features"])))
            text = data["features"][name]
            text = text if isinstance(text, str) else text["expr"]
            data["features"][name] = (
                _tweak_expression(text, draw) if draw(st.booleans()) else to_source(draw(expressions()))
            )
        elif kind == "new_feature":
            name = draw(st.sampled_from(NAMES + ("extra", "plan_pro")))
            expr = to_source(draw(expressions()))
            data["features"][name] = (
                {"expr": expr, "on_empty_fit": draw(st.sampled_from(["raise", "fallback"]))}
                if draw(st.booleans())
                else expr
            )
        elif kind == "top":
            data[draw(st.sampled_from(["version", "name", "description"]))] = draw(junk())
        elif kind == "outputs":
            data["outputs"] = draw(st.lists(st.sampled_from(sorted(data["features"]) + list(NAMES)), max_size=5))
        else:
            data.setdefault("constants", {})[draw(st.sampled_from(NAMES))] = draw(junk())
    return data


def _names_in(data: Any) -> set[str]:
    out = {"version", "name", "outputs", "inputs", "features", "constants", "featurekit", "description", "YAML"}
    for section in ("inputs", "features", "constants"):
        if isinstance(data.get(section), dict):
            out |= {str(k) for k in data[section]}
    return out


def assert_named_error(exc: BaseException, names: set[str]) -> None:
    """A featurekit error whose message names something the user can find and fix."""
    assert isinstance(exc, FeaturekitError), f"raw {type(exc).__name__}: {exc}"
    text = str(exc)
    assert "Fix:" in text, text
    assert any(repr(n) in text or f" {n} " in text or f"'{n}'" in text for n in names), text


def assert_paths_agree(fitted: Any) -> None:
    """Both paths on every serving row: equal outputs, or an input error on both."""
    batch = run_fitted_batch(fitted, SERVING)
    for row, b in zip(SERVING, batch):
        try:
            r = fitted.transform_row(row)
        except FeaturekitError as exc:
            assert isinstance(b, Raised) and b.is_input_error, (row, exc, b)
            COUNTS["fuzz: both paths refused a row"] += 1
            continue
        assert not isinstance(b, Raised), (row, r, b.summary())
        assert not same_output(r, b), (row, r, b)
        COUNTS["fuzz: rows equal on both paths"] += 1


def _fuzz_settings() -> settings:
    current = settings()
    n = current.max_examples if current.max_examples >= NIGHTLY_EXAMPLES else min(current.max_examples, CI_EXAMPLES)
    return settings(
        current,
        max_examples=n,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
    )


@_fuzz_settings()
@given(data=mutated_specs())
def test_a_mutated_spec_is_refused_by_name_or_both_paths_agree(data):
    try:
        spec = fk.spec_from_dict(data)
    except Exception as exc:  # noqa: BLE001 - the assertion names raw exceptions
        COUNTS["fuzz spec: refused at validation"] += 1
        assert_named_error(exc, _names_in(data))
        return
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", fk.FitWarning)
            fitted = spec.fit(TRAIN, baseline=False)
    except Exception as exc:  # noqa: BLE001
        COUNTS["fuzz spec: refused at fit"] += 1
        assert_named_error(exc, _names_in(data))
        return
    COUNTS["fuzz spec: fitted"] += 1
    assert fk.spec_from_yaml(spec.to_yaml()).fingerprint == spec.fingerprint
    assert_paths_agree(fitted)


@pytest.fixture(scope="module")
def base_fitted():
    return fk.spec_from_yaml(BASE).fit(TRAIN, baseline=False)


def state_junk() -> st.SearchStrategy:
    """Hostile JSON values for state fields (what an edited state.json can hold)."""
    scalar = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-(2**64), 2**64),
        st.floats(),
        st.sampled_from([0.0, -0.0, 1.0, math.nan, math.inf, -math.inf, 2**62, 2**63]),
        st.sampled_from(["free", "pro", "SE", "", "\ud800", "1.5"]),
    )
    pair = st.lists(st.one_of(scalar, st.integers(0, 2**63)), min_size=2, max_size=2)
    return st.one_of(
        scalar,
        st.lists(scalar, max_size=5),
        st.lists(pair, max_size=3),
        st.dictionaries(st.text(max_size=3), scalar, max_size=2),
    )


@_fuzz_settings()
@given(data=st.data())
def test_a_mutated_state_is_refused_by_field_or_both_paths_agree(base_fitted, data):
    state = copy.deepcopy(base_fitted.state_)
    keys = sorted(state)
    for _ in range(data.draw(st.integers(1, 3))):
        key = data.draw(st.sampled_from(keys))
        kind = data.draw(
            st.sampled_from(
                ["field", "field", "field", "drop_field", "add_field", "node", "drop_node", "extra_node", "shuffle"]
            )
        )
        COUNTS[f"fuzz state: {kind}"] += 1
        entry = state.get(key)
        if kind == "field" and isinstance(entry, dict) and entry:
            entry[data.draw(st.sampled_from(sorted(entry)))] = data.draw(state_junk())
        elif kind == "drop_field" and isinstance(entry, dict) and entry:
            entry.pop(data.draw(st.sampled_from(sorted(entry))))
        elif kind == "add_field" and isinstance(entry, dict):
            entry[data.draw(st.sampled_from(["extra", "mean", "vocab"]))] = data.draw(state_junk())
        elif kind == "node":
            state[key] = data.draw(state_junk())
        elif kind == "drop_node":
            state.pop(key, None)
        elif kind == "extra_node":
            state["0" * 64] = {"count": 0}
        elif kind == "shuffle" and isinstance(entry, dict):
            for field, value in entry.items():
                if isinstance(value, list):
                    entry[field] = list(reversed(value))
    try:
        fitted = fk.FittedTransform(base_fitted.spec, state)
    except Exception as exc:  # noqa: BLE001
        COUNTS["fuzz state: refused"] += 1
        assert isinstance(exc, fk.ArtifactError), f"raw {type(exc).__name__}: {exc}"
        assert "Fix:" in str(exc) and ("field" in str(exc) or "fitted state" in str(exc)), str(exc)
        return
    COUNTS["fuzz state: accepted"] += 1
    assert_paths_agree(fitted)
