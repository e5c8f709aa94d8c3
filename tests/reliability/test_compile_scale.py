"""The row compiler at scale and over a transform's lifetime (issue 17 items 15, 19, 21).

* 15: a chain of 20,000 single-use features compiles (inlining stops at a bracket depth far
  below CPython's parser limit) and both paths agree; features declared in reverse order
  resolve without recursion.
* 19: ``copy.deepcopy`` and ``pickle`` of a fitted transform rebuild it (same fingerprint,
  a freshly compiled row function).
* 21: a row function's linecache entry lives exactly as long as the function.
"""

from __future__ import annotations

import copy
import gc
import linecache
import pickle

import pandas as pd
import pytest

import featurekit as fk


def chain_spec(n: int, *, nullable: bool, reverse: bool = False) -> fk.Spec:
    features = {"f0": "x + 1.0"}
    for i in range(1, n):
        features[f"f{i}"] = f"f{i - 1} * 1.0001 + 1.0"
    items = list(features.items())
    if reverse:
        items.reverse()
    return fk.spec_from_dict(
        {
            "featurekit": 1,
            "name": "chain",
            "version": "1.0.0",
            "inputs": {"x": {"type": "float", "nullable": nullable}},
            "features": dict(items),
            "outputs": [f"f{n - 1}"],
        }
    )


def deepest_bracket(source: str) -> int:
    from featurekit.compile.row import _scan

    return max(_scan(line)[1] for line in source.splitlines())


@pytest.mark.parametrize("n, nullable, reverse", [(20_000, False, False), (3_000, True, False), (3_000, False, True)])
def test_a_long_chain_of_single_use_features_compiles_and_both_paths_agree(n, nullable, reverse):
    fitted = chain_spec(n, nullable=nullable, reverse=reverse).fit(pd.DataFrame({"x": [1.0, 2.0]}), baseline=False)
    rows = [{"x": v} for v in (1.0, -3.5, 0.0, 1e300)]
    batch = fitted.transform(pd.DataFrame({"x": [r["x"] for r in rows]}))[f"f{n - 1}"].tolist()
    assert [fitted.transform_row(r)[f"f{n - 1}"] for r in rows] == batch
    if nullable:
        assert fitted.transform_row({})[f"f{n - 1}"] != fitted.transform_row({})[f"f{n - 1}"]  # NaN
    from featurekit.compile.row import MAX_INLINE_DEPTH

    # every bracket level an op adds itself (here 2) comes on top of the inlining bound
    assert deepest_bracket(fitted.row_source) <= MAX_INLINE_DEPTH + 4


def test_inlining_still_moves_short_chains_into_one_expression():
    fitted = chain_spec(10, nullable=False).fit([{"x": 1.0}], baseline=False)
    body = [line for line in fitted.row_source.splitlines() if " = " in line and line.startswith("    v_")]
    assert body == [], body  # every single-use value moved into the output expression


# ------------------------------------------------------------------ 19: copy and pickle


SPEC = """
featurekit: 1
name: copyable
version: 1.0.0
inputs: {x: {type: float}, c: {type: category}}
features:
  z: zscore(x)
  idx: vocab(c)
  t: parse_timestamp(c)
"""


@pytest.fixture(scope="module")
def fitted():
    return fk.spec_from_yaml(SPEC).fit(pd.DataFrame({"x": [1.0, 2.0, 4.0], "c": ["a", "b", "a"]}))


@pytest.mark.parametrize(
    "clone",
    [
        copy.deepcopy,
        copy.copy,
        lambda f: pickle.loads(pickle.dumps(f)),
        lambda f: pickle.loads(pickle.dumps(f, protocol=0)),
    ],
    ids=["deepcopy", "copy", "pickle", "pickle-protocol-0"],
)
def test_a_fitted_transform_copies_and_pickles_by_rebuilding(fitted, clone):
    twin = clone(fitted)
    assert twin is not fitted and twin.fingerprint == fitted.fingerprint
    assert twin.transform_row is not fitted.transform_row and twin.row_source == fitted.row_source
    assert twin.state_ == fitted.state_ and twin.state_ is not fitted.state_
    assert twin.baseline_ == fitted.baseline_ and twin.fit_info_ == fitted.fit_info_
    row = {"x": 3.0, "c": "b"}
    assert twin.transform_row(row) == fitted.transform_row(row)
    frame = pd.DataFrame({"x": [3.0, None], "c": ["b", "zz"]})
    pd.testing.assert_frame_equal(twin.transform(frame), fitted.transform(frame))


def test_unpickling_checks_the_state_like_loading_does(fitted):
    rebuild, args = fitted.__reduce__()  # what pickle stores: a call that rebuilds from the parts
    key = fitted.spec.graph.features["z"].key
    edited = {**fitted.state_, key: {**fitted.state_[key], "std": 0.0}}
    with pytest.raises(fk.ArtifactError, match="field 'std' must be a non-zero float"):
        rebuild(args[0], edited, *args[2:])


# ------------------------------------------------------------------ 21: linecache lifetime


def test_the_linecache_entry_goes_with_the_row_function():
    spec = fk.spec_from_yaml(SPEC)
    first = spec.fit(pd.DataFrame({"x": [1.0, 2.0], "c": ["a", "b"]}))
    second = spec.fit(pd.DataFrame({"x": [1.0, 2.0], "c": ["a", "b"]}))
    assert first.fingerprint == second.fingerprint
    names = [f.transform_row.__code__.co_filename for f in (first, second)]
    assert names[0] != names[1] and all(name in linecache.cache for name in names)
    assert linecache.getline(names[0], 1).startswith("def transform_row(")
    first.trace_row({"x": 1.0, "c": "a"})
    trace_name = first._trace_fn.__code__.co_filename
    assert trace_name in linecache.cache
    serve = first.transform_row  # a caller may keep only the function: its lines must stay
    del first
    gc.collect()
    assert names[0] in linecache.cache and trace_name not in linecache.cache
    del serve
    gc.collect()
    assert names[0] not in linecache.cache and names[1] in linecache.cache
    del second
    gc.collect()
    assert names[1] not in linecache.cache


def test_fitting_many_transforms_does_not_grow_linecache():
    spec = fk.spec_from_yaml(SPEC)
    frame = pd.DataFrame({"x": [1.0, 2.0], "c": ["a", "b"]})
    gc.collect()
    before = sum(1 for name in linecache.cache if str(name).startswith("<featurekit row"))
    for i in range(50):  # 50 different fitted states: 50 fingerprints, 50 row functions
        spec.fit(frame.assign(x=frame["x"] + i), baseline=False).transform_row({"x": 1.0, "c": "a"})
    gc.collect()
    after = sum(1 for name in linecache.cache if str(name).startswith("<featurekit row"))
    assert after <= before
