"""Specs that validation must refuse, in both front ends (issue 17 items 4, 6, 7, 10, 13, 16, 19).

Each case is written once as YAML and once with the Python DSL; both must raise the same
:class:`SpecError` (same message), never a raw exception, and never fit into a transform
whose two paths disagree or whose artifact cannot be loaded again.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

import featurekit as fk
from featurekit import dsl

from ._common import same_output

HEAD = "featurekit: 1\nname: t\nversion: 1.0.0\n"


def from_yaml(inputs: dict[str, str], features: dict[str, str]) -> fk.Spec:
    body = "inputs:\n" + "".join(f"  {k}: {v}\n" for k, v in inputs.items())
    body += "features:\n" + "".join(f"  {k}: {v}\n" for k, v in features.items())
    return fk.spec_from_yaml(HEAD + body)


def spec_error(build) -> str:
    with pytest.raises(fk.SpecError) as info:
        build()
    text = str(info.value)
    assert "Fix:" in text, text
    return text


def both_refuse(yaml_build, dsl_build, *needles: str) -> None:
    """YAML and DSL both raise a SpecError with the same message, containing ``needles``."""
    a, b = spec_error(yaml_build), spec_error(dsl_build)
    assert a == b, (a, b)
    for needle in needles:
        assert needle in a, (needle, a)


def paths_agree(fitted, rows) -> list[dict]:
    batch = fitted.transform(
        pd.DataFrame({i.name: pd.Series([r.get(i.name) for r in rows], dtype=object) for i in fitted.spec.inputs})
    )
    out = []
    for i, row in enumerate(rows):
        got = fitted.transform_row(row)
        want = {k: (None if v is pd.NA else v) for k, v in batch.iloc[i].to_dict().items()}
        assert not same_output(got, want), (row, got, want)
        out.append(got)
    return out


# ------------------------------------------------------------------ 4: duplicate output columns


def test_a_feature_named_like_a_one_hot_column_is_refused_in_both_front_ends():
    both_refuse(
        lambda: from_yaml(
            {"plan": "{type: category, values: [free, pro]}", "x": "{type: float}"},
            {"plan_free": "x * 300.0", "p": "one_hot(plan, prefix='plan')"},
        ),
        lambda: dsl.spec(
            "t",
            "1.0.0",
            inputs={"plan": dsl.input("category", values=["free", "pro"]), "x": dsl.input("float")},
            features={"plan_free": dsl.col("x") * 300.0, "p": dsl.one_hot(dsl.col("plan"), prefix="plan")},
        ),
        "features 'plan_free' and 'p' both produce the output column 'plan_free'",
    )


def test_two_one_hots_whose_columns_overlap_are_refused():
    both_refuse(
        lambda: from_yaml(
            {"a": "{type: category, values: [b_c]}", "b": "{type: category, values: [c, d]}"},
            {"x": "one_hot(a, prefix='a')", "y": "one_hot(b, prefix='a_b')"},
        ),
        lambda: dsl.spec(
            "t",
            "1.0.0",
            inputs={"a": dsl.input("category", values=["b_c"]), "b": dsl.input("category", values=["c", "d"])},
            features={"x": dsl.one_hot(dsl.col("a"), prefix="a"), "y": dsl.one_hot(dsl.col("b"), prefix="a_b")},
        ),
        "features 'x' and 'y' both produce the output column 'a_b_c'",
    )


def test_an_open_domain_collision_is_refused_when_fit_learns_it():
    spec = from_yaml(
        {"plan": "{type: category}", "x": "{type: float}"},
        {"plan_free": "x * 300.0", "p": "one_hot(plan, prefix='plan')"},
    )
    with pytest.raises(fk.SpecError, match="features 'plan_free' and 'p' both produce the output column 'plan_free'"):
        spec.fit(pd.DataFrame({"plan": ["free", "pro"], "x": [1.0, 2.0]}))
    fitted = spec.fit(pd.DataFrame({"plan": ["pro", "basic"], "x": [1.0, 2.0]}))  # no "free": no clash
    assert fitted.output_columns == ["plan_free", "plan_basic", "plan_pro"]


# ------------------------------------------------------------------ 6: int input, float bound


def test_a_whole_float_bound_on_an_int_input_clips_to_an_int_on_both_paths():
    for spec in (
        from_yaml({"n": "{type: int, max: 1e6, on_violation: clip}"}, {"h": "hash_bucket(to_str(n), 1000)", "w": "n"}),
        dsl.spec(
            "t",
            "1.0.0",
            inputs={"n": dsl.input("int", max=1e6, on_violation="clip")},
            features={"h": dsl.hash_bucket(dsl.to_str(dsl.col("n")), 1000), "w": dsl.col("n")},
        ),
    ):
        assert spec.inputs[0].max == 1_000_000 and type(spec.inputs[0].max) is int
        fitted = spec.fit(pd.DataFrame({"n": [1]}))
        out = paths_agree(fitted, [{"n": 2_000_000}, {"n": 5}])
        assert out[0]["w"] == 1_000_000 and type(out[0]["w"]) is int


@pytest.mark.parametrize(
    "bound, fix", [("2.5", "use max: 2"), (".inf", "no infinite bound"), ("1e30", "outside the int64 range")]
)
def test_a_bound_an_int_input_cannot_hold_is_refused(bound, fix):
    value = float(bound.replace(".inf", "inf"))
    both_refuse(
        lambda: from_yaml({"n": f"{{type: int, max: {bound}}}"}, {"w": "n"}),
        lambda: dsl.spec("t", "1.0.0", inputs={"n": dsl.input("int", max=value)}, features={"w": "n"}),
        "input 'n'",
        fix,
    )


# ------------------------------------------------------------------ 7: default is type-checked


@pytest.mark.parametrize(
    "yaml_contract, contract, needle",
    [
        (
            "{type: int, on_violation: default, default: 2.5}",
            dict(type="int", default=2.5),
            "'default' must be an int on an int input; got 2.5",
        ),
        (
            "{type: int, on_violation: default, default: abc}",
            dict(type="int", default="abc"),
            "'default' must be an int on an int input; got 'abc'",
        ),
        (
            "{type: str, on_violation: default, default: [a]}",
            dict(type="str", default=["a"]),
            "'default' must be text on a str input",
        ),
        (
            "{type: float, on_violation: default, default: true}",
            dict(type="float", default=True),
            "'default' must be a number on a float input; got True",
        ),
        (
            "{type: bool, on_violation: default, default: 1}",
            dict(type="bool", default=1),
            "'default' must be true or false",
        ),
        (
            "{type: float, on_violation: default, default: .nan}",
            dict(type="float", default=math.nan),
            "'default' is NaN",
        ),
        (
            "{type: int, min: 0, max: 10, on_violation: default, default: 11}",
            dict(type="int", min=0, max=10, default=11),
            "'default' = 11 is outside [min, max] = [0, 10]",
        ),
        (
            "{type: category, values: [a, b], on_violation: default, default: c}",
            dict(type="category", values=["a", "b"], default="c"),
            "'default' = 'c' is not one of 'values'",
        ),
        (
            "{type: timestamp, on_violation: default, default: yesterday}",
            dict(type="timestamp", default="yesterday"),
            "'default' = 'yesterday' is not an ISO 8601 timestamp",
        ),
    ],
)
def test_a_default_that_the_input_cannot_hold_is_refused(yaml_contract, contract, needle):
    contract = dict(contract)
    type_name = contract.pop("type")
    both_refuse(
        lambda: from_yaml({"v": yaml_contract}, {"w": "v"}),
        lambda: dsl.spec(
            "t", "1.0.0", inputs={"v": dsl.input(type_name, on_violation="default", **contract)}, features={"w": "v"}
        ),
        "input 'v'",
        needle,
    )


def test_a_valid_default_is_served_with_the_input_type_on_both_paths():
    fitted = from_yaml(
        {
            "n": "{type: int, max: 3, on_violation: default, default: 2}",
            "s": "{type: category, values: [a, b], on_violation: default, default: b}",
        },
        {"w": "n * 2", "t": "s"},
    ).fit(pd.DataFrame({"n": [1], "s": ["a"]}))
    out = paths_agree(fitted, [{"n": 5, "s": "zz"}, {"n": 1, "s": "a"}])
    assert out[0] == {"w": 4, "t": "b"} and type(out[0]["w"]) is int


# ------------------------------------------------------------------ 10: reserved names


@pytest.mark.parametrize(
    "name", ["inf", "nan", "True", "true", "False", "false", "None", "null", "if", "and", "lambda"]
)
@pytest.mark.parametrize("where", ["input", "constant", "feature"])
def test_a_name_that_parses_as_a_literal_or_syntax_is_reserved(name, where):
    inputs = {"x": "{type: float}"}
    features = {"w": "x * 2.0"}
    d_inputs = {"x": dsl.input("float")}
    d_features: dict = {"w": dsl.col("x") * 2.0}
    d_constants = None
    if where == "input":
        inputs[f"'{name}'"] = "{type: float}"
        d_inputs[name] = dsl.input("float")
    elif where == "feature":
        features[f"'{name}'"] = "x + 1.0"
        d_features[name] = dsl.col("x") + 1.0
    yaml_text = HEAD + (f"constants: {{'{name}': 1.5}}\n" if where == "constant" else "")
    yaml_text += "inputs:\n" + "".join(f"  {k}: {v}\n" for k, v in inputs.items())
    yaml_text += "features:\n" + "".join(f"  {k}: {v}\n" for k, v in features.items())
    if where == "constant":
        d_constants = {name: 1.5}
    both_refuse(
        lambda: fk.spec_from_yaml(yaml_text),
        lambda: dsl.spec("t", "1.0.0", inputs=d_inputs, features=d_features, constants=d_constants),
        f"{where} name {name!r} is reserved",
    )


def test_every_reserved_word_would_otherwise_be_read_as_a_literal_or_fail_to_parse():
    from featurekit.ir.nodes import Name
    from featurekit.spec.expr_parser import RESERVED_NAMES, ExprError, parse

    for word in sorted(RESERVED_NAMES):
        try:
            parsed = parse(f"{word} + 1")
        except ExprError:
            continue
        assert not (hasattr(parsed, "args") and isinstance(parsed.args[0], Name)), word


# ------------------------------------------------------------------ 13: non-finite values


@pytest.mark.parametrize(
    "contract, needle",
    [
        ("{type: float, min: .nan}", "'min' is NaN"),
        ("{type: float, max: .nan, on_violation: clip}", "'max' is NaN"),
        ("{type: int, max: .inf}", "'max' must be a whole number on an int input; got inf"),
        ("{type: int, min: -.inf}", "'min' must be a whole number on an int input; got -inf"),
    ],
)
def test_a_meaningless_non_finite_bound_is_refused(contract, needle):
    assert needle in spec_error(lambda: from_yaml({"x": contract}, {"w": "x"}))


def test_an_infinite_cyclical_period_is_refused_in_both_front_ends():
    both_refuse(
        lambda: from_yaml({"x": "{type: float}"}, {"w": "cyclical(x, period=inf)"}),
        lambda: dsl.spec(
            "t", "1.0.0", inputs={"x": dsl.input("float")}, features={"w": dsl.cyclical(dsl.col("x"), period=math.inf)}
        ),
        "op 'cyclical' parameter 'period' must be a number >= 1e-300 (finite); got inf",
    )


def test_meaningful_non_finite_values_reach_the_row_source_as_safe_names():
    spec = fk.spec_from_yaml(
        HEAD
        + """
constants: {BIG: .inf, NOTHING: .nan, LOW: -.inf}
inputs:
  x: {type: float, min: -.inf, max: .inf, on_violation: clip}
  n: {type: int}
features:
  a: clip(x, lower=-inf, upper=inf)
  b: impute(x, value=inf)
  c: bucketize(x, edges=[-inf, 0.0, inf])
  d: x == nan
  e: if_else(x > 0.0, BIG, LOW)
  f: coalesce(x, NOTHING)
  g: max(x, -inf)
"""
    )
    fitted = spec.fit(pd.DataFrame({"x": [1.0], "n": [1]}))
    assert "nan" not in fitted.row_source.replace("_NAN", "") and "inf" not in fitted.row_source.replace("_INF", "")
    paths_agree(fitted, [{"x": v, "n": 1} for v in (1.0, -2.0, math.inf, -math.inf, None, 0.0, -0.0, 1e308)])


# ------------------------------------------------------------------ 16: one validator for both front ends


def test_the_dsl_refuses_a_version_the_loader_would_refuse():
    both_refuse(
        lambda: fk.spec_from_yaml("featurekit: 1\nname: t\nversion: '1.0'\ninputs: {x: float}\nfeatures: {w: x}\n"),
        lambda: dsl.spec("t", "1.0", inputs={"x": "float"}, features={"w": dsl.col("x")}),
        "'version' must be a semantic version like 1.0.0; got '1.0'",
    )


def test_the_dsl_refuses_a_feature_name_the_loader_would_refuse():
    text = spec_error(lambda: dsl.spec("t", "1.0.0", inputs={"x": "float"}, features={"my feature": dsl.col("x")}))
    assert "feature name 'my feature' is not a valid identifier" in text


def test_the_dsl_refuses_an_int_literal_outside_int64():
    both_refuse(
        lambda: from_yaml({"x": "{type: float}"}, {"f": f"x + {2**70}"}),
        lambda: dsl.spec("t", "1.0.0", inputs={"x": dsl.input("float")}, features={"f": dsl.col("x") + dsl.lit(2**70)}),
        "integer literal 1180591620717411303424 is outside the int64 range",
    )


def test_a_deep_dsl_expression_is_a_spec_error_not_a_recursion_error():
    e = dsl.col("x")
    for _ in range(5000):
        e = e + 1.0
    text = spec_error(lambda: dsl.spec("t", "1.0.0", inputs={"x": dsl.input("float")}, features={"f": e}))
    assert "feature 'f': expression nests deeper than 100 levels" in text


def test_a_long_and_chain_is_a_spec_error_not_a_recursion_error():
    chain = " and ".join(["b"] * 600)
    text = spec_error(lambda: from_yaml({"b": "{type: bool}"}, {"f": f'"{chain}"'}))
    assert "nests deeper than 100 levels" in text


def test_a_dsl_expression_deeper_than_the_text_limit_is_refused_as_text_would_be():
    e = dsl.col("x")
    for _ in range(60):
        e = dsl.log1p(e)
    text = spec_error(lambda: dsl.spec("t", "1.0.0", inputs={"x": dsl.input("float")}, features={"f": e}))
    assert "nests brackets 60 levels deep; the limit is 48" in text


def test_every_dsl_spec_that_validates_saves_and_loads(tmp_path):
    import enum

    class Plan(str, enum.Enum):
        FREE = "free"

    spec = dsl.spec(
        "t",
        "1.0.0",
        inputs={"x": dsl.input("float", min=0), "p": dsl.input("category")},
        features={
            "f": {"expr": dsl.coalesce(dsl.log1p(dsl.col("x")), -0.0), "doc": "d"},
            "g": dsl.col("p") == Plan.FREE,
            "h": dsl.to_float(dsl.vocab(dsl.col("p"), top_k=3)),
        },
    )
    assert spec.features[1].source == "p == 'free'"
    fitted = spec.fit(pd.DataFrame({"x": [1.0, 2.0], "p": ["free", "pro"]}))
    loaded = fk.load(fitted.save(tmp_path / "a"))
    assert loaded.fingerprint == fitted.fingerprint
    assert fk.spec_from_yaml(spec.to_yaml()).fingerprint == spec.fingerprint


# ------------------------------------------------------------------ 19: raw exceptions at spec time


@pytest.mark.parametrize(
    "text",
    ["[" * 100_000, "a:\n" + "".join(" " * (i + 1) + "- \n" for i in range(2000)), "{a: " * 5000 + "1" + "}" * 5000],
)
def test_deeply_nested_yaml_is_a_spec_error(text):
    assert "YAML nests deeper than 32 levels" in spec_error(lambda: fk.spec_from_yaml(text))


def test_an_unknown_parse_timestamp_zone_is_refused_at_spec_time():
    both_refuse(
        lambda: from_yaml({"s": "{type: str}"}, {"w": "parse_timestamp(s, tz='Not/AZone')"}),
        lambda: dsl.spec(
            "t",
            "1.0.0",
            inputs={"s": dsl.input("str")},
            features={"w": dsl.parse_timestamp(dsl.col("s"), tz="Not/AZone")},
        ),
        "tz 'Not/AZone' is not a time zone this host knows",
    )
