"""Edited fitted state and unbounded parameters (issue 17 items 8 and 9).

* 8: an artifact whose state.json was edited and re-hashed (the attacker rewrites the manifest
  too) is refused at load, naming state.json, the op, the feature and the field, by a schema
  each analyzed op declares in the registry; the same check runs for any FittedTransform.
* 9: every int parameter that feeds an op's int range analysis is capped, so the proof that
  ``x + 1`` cannot overflow holds and both paths agree.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest

import featurekit as fk
from featurekit import registry
from featurekit.artifact.manifest import manifest_digest
from featurekit.types import INT64_MAX
from featurekit.values import codec
from featurekit.values.hashing import sha256_hex

SPEC = """
featurekit: 1
name: stateful
version: 1.0.0
inputs:
  x: {type: float}
  n: {type: int}
  c: {type: category}
features:
  z: zscore(x)
  mm: minmax(x)
  rs: robust_scale(x)
  cl: clip(x, lower_pct=5, upper_pct=95)
  bk: bucketize(x, quantiles=[25, 50, 75])
  idx: vocab(c, top_k=3)
  nidx: vocab(n)
  oh: one_hot(c, prefix="c")
  fq: frequency(c)
  mean_fill: impute(x, strategy="mean")
  mode_fill: impute(c, strategy="most_frequent")
  n_fill: impute(n, strategy="most_frequent")
"""


@pytest.fixture(scope="module")
def fitted():
    return fk.spec_from_yaml(SPEC).fit(
        pd.DataFrame({"x": [1.0, 2.0, 3.5, None, 10.0], "n": [1, 2, 2, 3, None], "c": ["a", "b", "a", "c", None]})
    )


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    return Path(fitted.save(tmp_path_factory.mktemp("state") / "art"))


def _key(fitted, feature: str) -> str:
    """The state key of the analyzed node at the root of ``feature``."""
    return fitted.spec.graph.features[feature].key


def _rewrite(path: Path, state: dict) -> None:
    """What an attacker (or a careless hand) does: new state.json, every hash recomputed."""
    from featurekit.compile.row import transform_fingerprint

    spec = fk.spec_from_dict(json.loads((path / "spec.json").read_text()))
    (path / "state.json").write_text(codec.dumps(state))
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["files"] = {n: sha256_hex((path / n).read_bytes()) for n in manifest["files"]}
    manifest["fingerprint"] = transform_fingerprint(spec, state)
    manifest["manifest_sha256"] = manifest_digest(manifest)
    (path / "manifest.json").write_text(json.dumps(manifest))


EDITS = [
    ("z", "std", 0.0, "field 'std' must be a non-zero float (a divisor); got 0.0"),
    ("z", "std", -0.0, "field 'std' must be a non-zero float"),
    ("z", "mean", "1.5", "field 'mean' must be a float"),
    ("z", "mean", 3, "field 'mean' must be a float (write floats with a decimal point)"),
    ("mm", "range", 0.0, "field 'range' must be a non-zero float"),
    ("rs", "iqr", 0.0, "field 'iqr' must be a non-zero float"),
    ("cl", "lower", [1.0], "field 'lower' must be a float"),
    ("bk", "edges", [3.0, 1.0, 2.0], "field 'edges' must be in ascending order"),
    ("bk", "edges", [1.0, math.nan, 2.0], "field 'edges' must not hold NaN"),
    ("bk", "edges", [1.0, 2.0, 3.0, 4.0], "field 'edges' has 4 edges for 3 quantiles"),
    ("idx", "vocab", ["a", "b", "a"], "field 'vocab' must not repeat an entry; 'a' appears twice"),
    ("idx", "vocab", ["a", "b", "c", "d"], "field 'vocab' has 4 values; top_k allows 3"),
    ("idx", "vocab", ["a", 1], "field 'vocab' entry 1: must be a str"),
    ("nidx", "vocab", [1, 2**63], "must be an int"),
    ("nidx", "vocab", [1, True], "must be an int"),
    ("oh", "vocab", ["a", "a"], "field 'vocab' must not repeat an entry"),
    ("fq", "counts", [["a", 2], ["a", 1]], "field 'counts' must not repeat an entry"),
    ("fq", "counts", [["a", 2**63 - 1]], "must be at most 4611686018427387904"),
    ("fq", "counts", [["a", -1]], "must be a count (an int >= 0)"),
    ("mean_fill", "fill", "abc", "field 'fill' must be a float"),
    ("mean_fill", "fill", 2, "field 'fill' must be a float"),
    ("mode_fill", "fill", 7, "field 'fill' must be a str"),
    ("n_fill", "fill", 2.0, "field 'fill' must be an int"),
    ("z", "count", -3, "field 'count' must be a count"),
    ("z", "count", True, "field 'count' must be a count"),
]


@pytest.mark.parametrize("feature, field, value, message", EDITS, ids=[f"{e[0]}.{e[1]}={e[2]!r}" for e in EDITS])
def test_an_edited_rehashed_state_is_refused_at_load_naming_the_field(
    fitted, saved, tmp_path, feature, field, value, message
):
    import shutil

    copy = tmp_path / "copy"
    shutil.copytree(saved, copy)
    state = json.loads(json.dumps(codec.to_jsonable(fitted.state_)))
    state = codec.from_jsonable(state)
    state[_key(fitted, feature)][field] = value
    _rewrite(copy, state)
    with pytest.raises(fk.ArtifactError) as info:
        fk.load(copy)
    text = str(info.value)
    assert "state.json does not match the ops' state schemas" in text and message in text, text
    assert f"in feature {feature!r}" in text and "Fix:" in text


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda s, k: s[k].pop("std"), "has fields ['count', 'mean']; expected ['count', 'mean', 'std']"),
        (lambda s, k: s[k].update(extra=1), "expected ['count', 'mean', 'std']"),
        (lambda s, k: s.update({"f" * 64: {"count": 0}}), "for ops the spec does not have"),
        (lambda s, k: s.__setitem__(k, [1.0, 2.0]), "must be an object with fields"),
    ],
)
def test_state_with_missing_extra_or_malformed_entries_is_refused(fitted, change, message):
    state = json.loads(codec.dumps(fitted.state_))
    state = codec.from_jsonable(state)
    change(state, _key(fitted, "z"))
    with pytest.raises(fk.ArtifactError, match="Fix:") as info:
        fk.FittedTransform(fitted.spec, state)
    assert message in str(info.value)


def test_the_row_path_no_longer_divides_by_a_zero_std(fitted):
    """The original report: std = 0 was ZeroDivisionError on the row path, inf in batch."""
    state = codec.from_jsonable(json.loads(codec.dumps(fitted.state_)))
    state[_key(fitted, "z")]["std"] = 0.0
    with pytest.raises(fk.ArtifactError, match="feature 'z'"):
        fk.FittedTransform(fitted.spec, state)


def test_every_analyzed_op_declares_a_schema_and_every_field_is_checked():
    """Derived from the registry: each analyzer has a schema with a count; each declared field,
    set to a value of the wrong type, is refused for a real fitted state of that op."""
    from featurekit.testing.checks import build_spec, type_combos

    analyzed = [op for op in registry.all_ops() if op.analyzer is not None]
    assert analyzed
    checked = 0
    for op in analyzed:
        assert op.state_schema is not None and "count" in op.state_schema.fields, op.name
        for params in op.test_params:
            for types in type_combos(op, params):
                spec = build_spec(op, params, types)
                from featurekit.testing import strategies as fks

                rows = [
                    {"a0": v}
                    for v in {
                        "float": [1.0, 2.0, 3.0],
                        "int": [1, 2, 3],
                        "str": ["a", "b", "a"],
                        "bool": [True, False, True],
                        "timestamp": list(fks.TS_EDGES[:3]),
                    }[types[0].value]
                ]
                fitted = spec.fit(fks.frame_from_rows(rows, types))
                for key, state in fitted.state_.items():
                    for field in state:
                        bad = {**fitted.state_, key: {**state, field: {"not": "a value"}}}
                        with pytest.raises(fk.ArtifactError, match=f"field {field!r}"):
                            fk.FittedTransform(spec, bad)
                        checked += 1
    assert checked >= 30


def test_a_registry_op_with_an_analyzer_but_no_schema_cannot_be_registered():
    import dataclasses

    zscore = registry.get("zscore")
    with pytest.raises(RuntimeError, match="has an analyzer but no state_schema"):
        registry.register(dataclasses.replace(zscore, name="zscore_without_schema", state_schema=None))
    assert not registry.has("zscore_without_schema")


# ------------------------------------------------------------------ 9: capped int parameters


def test_a_top_k_beyond_its_cap_is_a_spec_error():
    with pytest.raises(
        fk.SpecError,
        match=r"op 'vocab' parameter 'top_k' must be an int in \[1, 2\.14748e\+09\]; "
        r"got 9223372036854775807",
    ):
        fk.spec_from_yaml(
            f"featurekit: 1\nname: t\nversion: 1.0.0\ninputs: {{c: category}}\n"
            f"features:\n  w: vocab(c, top_k={2**63 - 1}) + 1\n"
        )


def test_every_int_parameter_feeding_an_int_range_is_capped():
    for op in registry.all_ops():
        if op.int_range is None:
            continue
        for name, param in op.params.items():
            if param.kind == "int":
                assert param.max is not None, f"{op.name}.{name} feeds int_range but has no max"


@pytest.mark.parametrize(
    "op_name",
    sorted(
        op.name
        for op in registry.all_ops()
        if op.int_range is not None
        and op.outputs is None
        and any(p.kind == "int" and p.max is not None for p in op.params.values())
    ),
)
def test_int_params_at_their_cap_keep_the_range_proof_and_both_paths_agree(op_name):
    """With every int parameter at its maximum, the op's declared int range still fits int64
    after ``+ 1``, and the fitted outputs lie inside it on both paths."""
    from featurekit.registry import Params
    from featurekit.testing import strategies as fks
    from featurekit.testing.checks import build_spec, type_combos

    op = registry.get(op_name)
    for base in op.test_params:
        params = dict(base)
        for name, param in op.params.items():
            if param.kind == "int" and param.max is not None and (name in params or param.required):
                params[name] = int(param.max)
        for types in type_combos(op, params):
            bound = Params(op.bind_params(params))
            lo, hi = op.int_range(bound, tuple((-(2**63), 2**63 - 1) for _ in types))
            assert hi + 1 <= INT64_MAX and lo - 1 >= -(2**63), (op_name, params, (lo, hi))
            rows = [
                {"a0": v}
                for v in {
                    "str": ["a", "b", "zz", None, "a"],
                    "int": [1, 2, 3, None, 9],
                    "bool": [True, False, None, True, True],
                }.get(types[0].value, [])
            ]
            if not rows:
                continue
            spec = build_spec(op, params, types)
            if spec.graph.features["f"].dtype.value != "int":
                continue  # this configuration gives floats (frequency(normalize=True)): no int range
            fitted = spec.fit(fks.frame_from_rows(rows, types))
            batch = fitted.transform(fks.frame_from_rows(rows, types))
            for i, row in enumerate(rows):
                got = fitted.transform_row(row)["f"]
                want = batch["f"].iloc[i]
                assert (got is None and pd.isna(want)) or got == int(want), (op_name, params, row, got, want)
                assert got is None or lo <= got <= hi, (op_name, params, row, got, (lo, hi))


def test_vocab_plus_one_agrees_on_both_paths_at_the_largest_top_k():
    spec = fk.spec_from_yaml(
        f"featurekit: 1\nname: t\nversion: 1.0.0\ninputs: {{c: category}}\n"
        f"features:\n  w: vocab(c, top_k={2**31}, num_oov_buckets=1000000) + 1\n"
    )
    fitted = spec.fit(pd.DataFrame({"c": ["a", "b"]}))
    batch = fitted.transform(pd.DataFrame({"c": ["zz", "a", None]}))["w"].tolist()
    rows = [fitted.transform_row({"c": v})["w"] for v in ("zz", "a", None)]
    assert rows == batch and all(type(v) is int for v in rows) and max(rows) <= 2**31 + 10**6
