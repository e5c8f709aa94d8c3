"""Training data that used to fit silently into wrong values (issue 17 items 11 and 19).

* a declared column the data lacks (also a nullable one, also renamed ``Credit_Score``) is a
  FitError at fit and a ContractError at batch transform, naming it with a did-you-mean hint;
* an analyzer that saw no non-null value on data with rows is a FitError naming the feature,
  the op and the input, unless the feature declares ``on_empty_fit: fallback``; fitting on
  zero rows stays the declared empty fit;
* a violation rate above ``max_violation_rate`` is a FitWarning with the counts, and the
  counts are kept in ``fit_info_``;
* MultiIndex columns are a clear error, not an AttributeError.

Each rule holds for a DataFrame, a list of row dicts, DataFrame chunks and Dask partitions.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

import featurekit as fk

SPEC = """
featurekit: 1
name: credit
version: 1.0.0
inputs:
  credit_score: {type: float, min: 300, max: 850, on_violation: 'null'}
  region: {type: category}
features:
  score_filled: impute(credit_score, strategy="median")
  region_idx: vocab(region)
"""
FALLBACK = SPEC.replace(
    '  score_filled: impute(credit_score, strategy="median")',
    "  score_filled: {expr: 'impute(credit_score, strategy=\"median\")', on_empty_fit: fallback}",
)

GOOD = pd.DataFrame({"credit_score": [600.0, 700.0, None, 810.0], "region": ["n", "s", "n", None]})


def sources(frame: pd.DataFrame):
    """The same training data as a frame, row dicts, two chunks and two Dask partitions."""
    import dask.dataframe as dd

    rows = [{k: (None if pd.isna(v) else v) for k, v in r.items()} for r in frame.to_dict("records")]
    half = len(frame) // 2
    return {
        "frame": frame,
        "rows": rows,
        "chunks": [frame.iloc[:half], frame.iloc[half:]],
        "dask": dd.from_pandas(frame, npartitions=2),
    }


@pytest.mark.parametrize("kind", ["frame", "chunks", "dask"])
def test_a_renamed_nullable_column_is_refused_at_fit_with_a_hint(kind):
    data = sources(GOOD.rename(columns={"credit_score": "Credit_Score"}))[kind]
    with pytest.raises(
        fk.FitError,
        match=r"lacks input column\(s\) \['credit_score'\](.|\n)*Fix:(.|\n)*did you mean "
        r"'Credit_Score'",
    ) as info:
        fk.spec_from_yaml(SPEC).fit(data)
    assert info.value.input == "credit_score"


def test_a_missing_column_is_refused_at_batch_transform_but_a_missing_key_is_null_on_the_row_path():
    fitted = fk.spec_from_yaml(SPEC).fit(GOOD)
    with pytest.raises(
        fk.ContractError,
        match=r"transform: input column 'credit_score' is missing(.|\n)*Hint: did "
        r"you mean 'Credit_Score'",
    ):
        fitted.transform(GOOD.rename(columns={"credit_score": "Credit_Score"}))
    assert fitted.transform_row({"region": "n"})["score_filled"] == 700.0  # a row may omit a nullable key


@pytest.mark.parametrize("kind", ["frame", "rows", "chunks", "dask"])
@pytest.mark.parametrize(
    "column",
    [
        [None, None, None, None],  # all null
        [10.0, 20.0, 5000.0, None],  # every value breaks the contract (on_violation: null)
    ],
)
def test_an_analyzer_that_saw_no_value_is_refused_naming_feature_op_and_input(kind, column):
    data = sources(GOOD.assign(credit_score=pd.Series(column, dtype=object)))[kind]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", fk.FitWarning)
        with pytest.raises(fk.FitError) as info:
            fk.spec_from_yaml(SPEC).fit(data)
    text = str(info.value)
    assert "feature 'score_filled': op 'impute' (strategy='median') saw no non-null value of 'credit_score'" in text
    assert "on_empty_fit: fallback" in text
    assert (info.value.feature, info.value.op, info.value.input) == ("score_filled", "impute", "credit_score")


@pytest.mark.parametrize("kind", ["frame", "rows", "chunks", "dask"])
def test_a_declared_fallback_fits_like_the_empty_fit_and_both_paths_agree(kind):
    data = sources(GOOD.assign(credit_score=pd.Series([None] * 4, dtype=object)))[kind]
    fitted = fk.spec_from_yaml(FALLBACK).fit(data)
    empty = fk.spec_from_yaml(FALLBACK).fit(GOOD.iloc[:0])
    key = fitted.spec.graph.features["score_filled"].key
    assert fitted.state_[key] == empty.state_[key] == {"fill": None, "count": 0}
    assert fitted.transform_row({"credit_score": None, "region": "n"})["score_filled"] == 0.0
    assert fitted.transform(pd.DataFrame({"credit_score": [None], "region": ["n"]}))["score_filled"].tolist() == [0.0]


def test_fitting_on_zero_rows_is_the_declared_empty_fit():
    fitted = fk.spec_from_yaml(SPEC).fit(GOOD.iloc[:0])
    assert fitted.fit_info_["rows"] == 0
    assert fitted.transform_row({"credit_score": None, "region": "x"}) == {"score_filled": 0.0, "region_idx": 0}


@pytest.mark.parametrize("kind", ["frame", "chunks", "dask"])
def test_a_high_violation_rate_is_reported_with_counts(kind):
    frame = pd.DataFrame({"credit_score": [600.0, 10.0, 20.0, 700.0, 9999.0], "region": ["n"] * 5})
    with pytest.warns(
        fk.FitWarning,
        match=r"input 'credit_score': 3 of 5 training value\(s\) \(60\.0%\) broke the "
        r"contract and were replaced as declared \(range: 3\)(.|\n)*Fix:",
    ):
        fitted = fk.spec_from_yaml(SPEC).fit(sources(frame)[kind])
    assert fitted.fit_info_["violations"] == {"credit_score": {"range": 3}}
    with warnings.catch_warnings():
        warnings.simplefilter("error", fk.FitWarning)
        fk.spec_from_yaml(SPEC).fit(sources(frame)[kind], max_violation_rate=0.75)  # under the threshold: silent


def test_violation_counts_travel_with_the_artifact(tmp_path):
    frame = pd.DataFrame({"credit_score": [600.0, 10.0, 700.0, 710.0, 720.0], "region": ["n"] * 5})
    with warnings.catch_warnings():
        warnings.simplefilter("error", fk.FitWarning)  # 20% > 10%: must warn
        with pytest.raises(fk.FitWarning):
            fk.spec_from_yaml(SPEC).fit(frame)
    fitted = fk.spec_from_yaml(SPEC).fit(frame, max_violation_rate=0.5)
    assert fk.load(fitted.save(tmp_path / "a")).fit_info_["violations"] == {"credit_score": {"range": 1}}


@pytest.mark.parametrize("where", ["fit", "transform"])
def test_multiindex_columns_are_a_clear_error(where):
    wide = pd.DataFrame({("credit_score", "v"): [600.0], ("region", "v"): ["n"]})
    if where == "fit":
        with pytest.raises(fk.FitError, match=r"MultiIndex columns(.|\n)*Fix: flatten them"):
            fk.spec_from_yaml(SPEC).fit(wide)
    else:
        with pytest.raises(fk.ContractError, match=r"transform: the frame has MultiIndex columns(.|\n)*Fix:"):
            fk.spec_from_yaml(SPEC).fit(GOOD).transform(wide)
