"""The Spark engine on a real local SparkSession (``local[2]``, ``tests/engines/conftest.py``).

* ``aggregate`` gives the pandas fit's state for the analyzer passes of every spec in
  ``specs/`` (churn at 1/3/7 partitions, fraud at 3, listings at 7; churn and fraud also in
  ``approx``/``bounded`` mode), and the pandas fit's baseline through ``accumulate_at``;
* ``map_frames`` of the pandas batch path equals the pandas transform exactly;
* every conversion the engine relies on survives Spark: tz-aware timestamps under a non-UTC
  session time zone, int64 / bool / str nulls, NaN;
* featurekit errors raised on workers come back with their own type and message;
* core featurekit never imports pyspark.

Fits and transforms go through the public API (``spec.fit(sdf)``, ``fitted.transform(sdf)``),
which picks the Spark engine by the frame's type; the fraud spec's UDF reaches the workers as
the module that defines it, imported there before the spec is rebuilt.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.engines.conftest import _spark_missing
from tests.engines.test_engine_parity import CASES
from tests.engines.test_engine_parity import case as parity_case

if _spark_missing():
    pytest.skip(f"Spark tests need PySpark and Java 17: {_spark_missing()}", allow_module_level=True)

import featurekit as fk  # noqa: E402
from featurekit.engines.spark import SparkEngine, spark_schema, spark_type_name, worker_errors  # noqa: E402

pytestmark = pytest.mark.filterwarnings(
    "ignore:PySpark does not yet fully support pandas:FutureWarning",
    "ignore::featurekit.errors.ApproximationWarning",  # the approx variants use small bounded= on purpose
)

ROOT = Path(__file__).resolve().parents[2]

# the workers cannot import this test module: ship its classes (the adapter's jobs) by value
from pyspark import cloudpickle as _spark_cloudpickle  # noqa: E402
from pyspark.sql import functions as F  # noqa: E402

_spark_cloudpickle.register_pickle_by_value(sys.modules[__name__])
ROWS = {"churn": 6_000, "fraud": 4_000, "listings": 4_000}
ENGINE = SparkEngine()


# -- data -------------------------------------------------------------------------------------


class _Rows:
    def empty(self):
        return 0

    def accumulate(self, chunk):
        return len(chunk)

    def merge(self, parts):
        return sum(parts)


def fit_on_spark(spec: fk.Spec, sdf) -> fk.FittedTransform:
    """``spec`` fitted on ``sdf``: the public API, which runs the Spark engine for a Spark frame."""
    fitted = spec.fit(sdf)
    assert fitted.fit_info_["engine"] == "spark"
    return fitted


def transform_on_spark(fitted: fk.FittedTransform, sdf):
    """``fitted`` applied to ``sdf`` (lazy, a Spark DataFrame)."""
    return fitted.transform(sdf)


# -- data --------------------------------------------------------------------------------------


def _spark_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """The same values in types Spark stores: categories as strings, mixed-zone timestamps as UTC."""
    out = {}
    for name, col in frame.items():
        if isinstance(col.dtype, pd.CategoricalDtype):
            col = col.astype("str")
        elif col.dtype == object and col.dropna().map(lambda v: isinstance(v, pd.Timestamp)).all():
            col = pd.to_datetime(col, utc=True)
        out[name] = col
    return pd.DataFrame(out, index=frame.index)


def to_spark(spark, frame: pd.DataFrame, partitions: int):
    """``frame`` as a Spark DataFrame of exactly ``partitions`` partitions, rows in order.

    Naive timestamp columns (wall-clock times: UTC, or the input's declared ``timezone``) become
    ``TimestampNTZType``, Spark's type for them; tz-aware ones ``TimestampType`` (instants).
    """
    ready = _spark_ready(frame)
    naive = [c for c, dtype in ready.dtypes.items() if dtype.kind == "M" and getattr(dtype, "tz", None) is None]
    sdf = spark.createDataFrame(ready.assign(__pos=np.arange(len(frame), dtype=np.int64)))
    assert spark.conf.get("spark.sql.session.timeZone") == "UTC"  # naive values were read as UTC: cast back exactly
    sdf = sdf.select(*[F.col(c).cast("timestamp_ntz").alias(c) if c in naive else F.col(c) for c in sdf.columns])
    sdf = sdf.repartitionByRange(partitions, "__pos").sortWithinPartitions("__pos").drop("__pos")
    assert sdf.rdd.getNumPartitions() == partitions
    return sdf


def collect(sdf, meta: pd.DataFrame) -> pd.DataFrame:
    """A Spark DataFrame's rows as pandas in ``meta``'s dtypes (through Arrow: nulls kept)."""
    table = sdf.toArrow()
    assert table.column_names == list(meta.columns)
    return pd.DataFrame(
        {c: pd.Series(table.column(c).to_pylist(), dtype=meta[c].dtype) for c in meta.columns}, copy=False
    )


def case(name: str, mode: str):
    """(spec, frame, pandas fit) of the engine parity suite, at this module's smaller sizes."""
    return parity_case(name, mode, rows=ROWS[name])


def _same_baseline(got: dict, want: dict) -> None:
    """Baselines agree exactly, except mean/std, which chunking may change in the last bits."""
    for part in ("inputs", "outputs"):
        assert got[part].keys() == want[part].keys()
        for col, stats in want[part].items():
            for key, value in stats.items():
                if key in ("mean", "std") and value is not None:
                    assert got[part][col][key] == pytest.approx(value, rel=1e-12, abs=1e-12), (col, key)
                else:
                    assert got[part][col][key] == value, (col, key)
    assert {k: v for k, v in got.items() if k not in ("inputs", "outputs")} == {
        k: v for k, v in want.items() if k not in ("inputs", "outputs")
    }


# -- aggregate ---------------------------------------------------------------------------------


@pytest.mark.parametrize("partitions", [1, 3, 7])
def test_churn_fit_passes_and_baseline_identical_to_pandas(spark, partitions):
    spec, frame, whole = case("churn", "exact")
    sdf = to_spark(spark, frame, partitions)
    fitted = fit_on_spark(spec, sdf)
    assert fitted.state_ == whole.state_
    assert fitted.fingerprint == whole.fingerprint
    _same_baseline(fitted.baseline_, whole.baseline_)


@pytest.mark.parametrize("name,mode", [("churn", "approx"), ("fraud", "exact"), ("fraud", "approx")])
@pytest.mark.parametrize("partitions", [3])
def test_other_specs_and_modes_fit_identical_to_pandas(spark, name, mode, partitions):
    spec, frame, whole = case(name, mode)
    fitted = fit_on_spark(spec, to_spark(spark, frame, partitions))
    assert fitted.state_ == whole.state_
    assert fitted.fingerprint == whole.fingerprint


def test_listings_fit_identical_to_pandas(spark):
    spec, frame, whole = case("listings", "exact")
    fitted = fit_on_spark(spec, to_spark(spark, frame, 7))
    assert fitted.state_ == whole.state_
    assert fitted.fingerprint == whole.fingerprint


SPARK_SUBSET = {("churn", "exact", 1), ("churn", "exact", 3), ("churn", "exact", 7), ("churn", "approx", 3)}
SPARK_SUBSET |= {("fraud", "exact", 3), ("fraud", "approx", 3), ("listings", "exact", 7)}


@pytest.mark.slow
@pytest.mark.parametrize("partitions", [1, 3, 7])
@pytest.mark.parametrize("name,mode", CASES)
def test_every_spec_and_mode_at_every_partitioning(spark, name, mode, partitions):
    """The engine parity suite's whole matrix on Spark (``--run-slow``); ``make test`` runs the
    cases above (``SPARK_SUBSET``), which cover each spec, each mode and each partitioning."""
    if (name, mode, partitions) in SPARK_SUBSET:
        pytest.skip("runs in make test above")
    spec, frame, whole = case(name, mode)
    sdf = to_spark(spark, frame, partitions)
    fitted = fit_on_spark(spec, sdf)
    assert fitted.state_ == whole.state_
    assert fitted.fingerprint == whole.fingerprint
    want = whole.transform(frame)
    got = collect(transform_on_spark(fitted, sdf), want)
    pd.testing.assert_frame_equal(got, want.reset_index(drop=True), check_exact=True)


def test_aggregate_merges_in_partition_order_for_any_fan_in(spark):
    """Chunks (Arrow batches of 100 rows joined up to ``chunk_rows``) reach ``merge`` in row order
    within and across partitions (what an order-sensitive job, such as the training sample,
    relies on), for every fan-in of the merge trees."""

    class Chunks:
        def empty(self):
            return []

        def accumulate(self, chunk):
            return [(int(chunk["x"].iloc[0]), len(chunk))]

        def merge(self, parts):
            return [x for p in parts for x in p]

    frame = pd.DataFrame({"x": np.arange(5_000, dtype=np.int64)})
    sdf = to_spark(spark, frame, 7)
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "100")
    try:
        for fan_in in (2, 3, 8):
            got = SparkEngine(fan_in=fan_in, chunk_rows=250).aggregate(sdf, Chunks())
            assert [s for s, _ in got] == [0] + list(np.cumsum([n for _, n in got])[:-1])
            assert sum(n for _, n in got) == 5_000 and len(got) > 14
            assert sum(n < 250 for _, n in got) <= 7  # only a partition's last chunk is short
    finally:
        spark.conf.unset("spark.sql.execution.arrow.maxRecordsPerBatch")


def test_offsets_hold_when_partitions_change_between_jobs_and_a_cache_is_kept(spark):
    """repartitionByRange gives other partition sizes in each job: the offsets job is checked
    against the accumulating one and rerun on persisted data; a frame the caller cached stays
    cached."""
    frame = pd.DataFrame({"x": np.arange(3_000, dtype=np.int64)})
    sdf = to_spark(spark, frame, 5)
    for data in (sdf, sdf.cache()):
        got = pd.concat(ENGINE.aggregate(data, _Concat())).sort_index()
        assert got.index.tolist() == got["x"].tolist() == list(range(3_000))
    assert sdf.is_cached
    sdf.unpersist()


def test_aggregate_of_no_rows_is_the_empty_state(spark):
    sdf = to_spark(spark, pd.DataFrame({"x": np.arange(10, dtype=np.int64)}), 2).limit(0)
    assert ENGINE.aggregate(sdf, _Rows()) == 0


# -- map_frames --------------------------------------------------------------------------------


@pytest.mark.parametrize("name,partitions", [("churn", 1), ("churn", 7), ("fraud", 3), ("listings", 3)])
def test_transform_equals_the_pandas_batch_path(spark, name, partitions):
    _, frame, whole = case(name, "exact")
    sdf = to_spark(spark, frame, partitions)
    want = whole.transform(frame)
    out = transform_on_spark(whole, sdf)
    assert ENGINE.accepts(out) and out.schema == spark_schema(want)
    pd.testing.assert_frame_equal(collect(out, want), want.reset_index(drop=True), check_exact=True)


def test_output_types_round_trip_with_nulls(spark):
    """Every featurekit output dtype (with nulls where it can hold them) leaves mapInPandas as the
    declared Spark type and comes back unchanged, under a non-UTC session time zone."""
    frame = pd.DataFrame(
        {
            "f": pd.Series([0.5, np.nan, -0.0], dtype="float64"),
            "i": pd.Series([1, None, -(2**62)], dtype="Int64"),
            "j": pd.Series([3, 4, 5], dtype="int64"),
            "b": pd.Series([True, None, False], dtype="boolean"),
            "s": pd.Series(["a", None, ""], dtype="str"),
            "t": pd.Series(
                [pd.Timestamp("2026-03-08T07:30:00.123456Z"), None, pd.Timestamp("1969-12-31T23:59:59Z")],
                dtype="datetime64[us, UTC]",
            ),
        }
    )
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        sdf = spark.createDataFrame(pd.DataFrame({"k": [0, 1, 2]})).coalesce(1)
        out = ENGINE.map_frames(sdf, lambda batch: frame.iloc[batch["k"].to_numpy()].reset_index(drop=True), frame)
        assert [f.dataType.simpleString() for f in out.schema.fields] == [
            "double",
            "bigint",
            "bigint",
            "boolean",
            "string",
            "timestamp",
        ]
        pd.testing.assert_frame_equal(collect(out, frame), frame, check_exact=True)
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")


def test_spark_types_of_output_dtypes():
    assert [spark_type_name(d) for d in ("float64", "int64", "Int64", "bool", "boolean", "str", "object")] == [
        "double",
        "long",
        "long",
        "boolean",
        "boolean",
        "string",
        "string",
    ]
    assert spark_type_name(pd.DatetimeTZDtype("us", "UTC")) == "timestamp"
    for refused in ("int32", "float32", "datetime64[us]", pd.DatetimeTZDtype("us", "Europe/Oslo")):
        with pytest.raises(TypeError, match="spark engine"):
            spark_type_name(refused)


# -- input conversions -------------------------------------------------------------------------


class _Concat:
    """Collects every batch the workers see, tagged with its global position."""

    def empty(self):
        return []

    def accumulate(self, chunk):
        raise AssertionError("accumulate_at expected")

    def accumulate_at(self, chunk, start):
        return [chunk.set_axis(pd.RangeIndex(start, start + len(chunk)))]

    def merge(self, parts):
        return [x for p in parts for x in p]


def test_inputs_reach_the_workers_with_nulls_and_instants_intact(spark):
    frame = pd.DataFrame(
        {
            "i": pd.Series([1, None, 2**60, 0] * 250, dtype="Int64"),
            "b": pd.Series([True, None, False, True] * 250, dtype="boolean"),
            "s": pd.Series(["x", None, "", "ü"] * 250, dtype="str"),
            "f": pd.Series([1.5, np.nan, -0.0, np.inf] * 250, dtype="float64"),
            "t": pd.Series(
                [
                    pd.Timestamp("2026-11-01T05:30:00.000001Z"),
                    None,
                    pd.Timestamp("1900-01-01T00:00Z"),
                    pd.Timestamp("2026-03-29T01:00Z"),
                ]
                * 250,
                dtype="datetime64[us, UTC]",
            ),
            "w": pd.Series(
                [
                    pd.Timestamp("2026-11-01T01:30:00.5"),
                    pd.Timestamp("2026-03-08T02:30"),
                    None,
                    pd.Timestamp("1960-01-01"),
                ]
                * 250,
                dtype="datetime64[us]",
            ),
        }
    )
    sdf = to_spark(spark, frame, 3)
    assert [f.dataType.simpleString() for f in sdf.schema.fields][-2:] == ["timestamp", "timestamp_ntz"]
    # the conversion runs with the session time zone of the job: one with an ambiguous hour on
    # 2026-11-01 and a missing one on 2026-03-08 (which "w" holds as wall-clock times)
    spark.conf.set("spark.sql.session.timeZone", "America/New_York")
    try:
        got = pd.concat(ENGINE.aggregate(sdf, _Concat())).sort_index()
    finally:
        spark.conf.set("spark.sql.session.timeZone", "UTC")
    assert got.index.tolist() == list(range(len(frame)))
    assert got["t"].dtype == "datetime64[us, UTC]"
    pd.testing.assert_series_equal(got["t"], frame["t"], check_exact=True)
    assert got["w"].dtype.kind == "M" and got["w"].dt.tz is None
    pd.testing.assert_series_equal(got["w"].astype("datetime64[us]"), frame["w"], check_exact=True)
    assert got["i"].astype("Int64").equals(frame["i"])
    assert got["b"].astype("boolean").equals(frame["b"])
    assert got["s"].isna().equals(frame["s"].isna()) and got["s"].dropna().tolist() == frame["s"].dropna().tolist()
    assert got["f"].equals(frame["f"])  # NaN and null both arrive as NaN, as pandas holds them


def test_featurekit_contract_holds_on_converted_batches(spark):
    """The inputs as Spark hands them over (Int64 / object-bool batches, timestamps rebuilt) read
    the same as the pandas frame: state, baseline (over 20,004 rows its output sample takes every
    second row by global position, so the partitions' offsets matter) and transform match pandas."""
    spec = fk.spec_from_dict(
        {
            "featurekit": 1,
            "name": "nulls",
            "version": "1.0.0",
            "inputs": {"n": {"type": "int"}, "flag": {"type": "bool"}, "when": {"type": "timestamp"}},
            "features": {
                "n_z": "coalesce(zscore(n), 0.0)",
                "n_med": 'impute(n, strategy="median")',
                "flag_int": "to_int(coalesce(flag, false))",
                "hour": "coalesce(hour(when), -1)",
            },
        }
    )
    frame = pd.DataFrame(
        {
            "n": pd.Series(np.arange(20_004) % 997, dtype="Int64").mask(np.arange(20_004) % 4 == 1),
            "flag": pd.Series([True, None, False, False] * 5_001, dtype="boolean"),
            "when": pd.Series([pd.Timestamp("2026-01-01T23:00Z"), None] * 10_002, dtype="datetime64[us, UTC]"),
        }
    )
    whole = spec.fit(frame)
    assert whole.baseline_["sample"]["stride"] == 2
    sdf = to_spark(spark, frame, 3)
    fitted = fit_on_spark(spec, sdf)
    assert fitted.state_ == whole.state_
    _same_baseline(fitted.baseline_, whole.baseline_)
    want = whole.transform(frame)
    pd.testing.assert_frame_equal(collect(transform_on_spark(whole, sdf), want), want, check_exact=True)


# -- errors ------------------------------------------------------------------------------------


def test_contract_violation_on_a_worker_is_raised_as_a_contract_error(spark):
    """Same type, message and fields as the pandas path (positions count within a Spark batch:
    with one partition of fewer rows than a batch they are the frame's positions)."""
    _, frame, whole = case("churn", "exact")
    bad = frame.head(200).copy()
    bad["tenure_days"] = bad["tenure_days"].astype("Int64")
    bad.loc[150, "tenure_days"] = None  # tenure_days is nullable: false
    with pytest.raises(fk.ContractError) as expected:
        whole.transform(bad)
    out = transform_on_spark(whole, to_spark(spark, bad, 1))
    with pytest.raises(fk.ContractError) as raised, worker_errors():
        out.collect()
    assert type(raised.value) is type(expected.value)
    assert raised.value.message == expected.value.message
    assert (raised.value.input, raised.value.rule, raised.value.rows) == ("tenure_days", expected.value.rule, [150])
    assert raised.value.__cause__ is None and raised.value.__suppress_context__


def test_fit_error_on_a_worker_keeps_its_type_message_and_fields(spark):
    spec, frame, _ = case("churn", "exact")
    sdf = to_spark(spark, frame.drop(columns=["plan"]).head(100), 2)
    with pytest.raises(fk.FitError) as expected:
        spec.fit(frame.drop(columns=["plan"]).head(100))
    with pytest.raises(fk.FitError) as raised:
        fit_on_spark(spec, sdf)
    assert raised.value.message == expected.value.message
    assert raised.value.input == "plan"
    assert "Py4J" not in str(raised.value) and "Traceback" not in str(raised.value)


def test_other_worker_errors_pass_through_unchanged(spark):
    class Broken(_Rows):
        def accumulate(self, chunk):
            raise KeyError("not a featurekit error")

    sdf = to_spark(spark, pd.DataFrame({"x": np.arange(10, dtype=np.int64)}), 2)
    with pytest.raises(Exception, match="not a featurekit error") as raised:
        ENGINE.aggregate(sdf, Broken())
    assert not isinstance(raised.value, fk.FeaturekitError)


# -- the engine object -------------------------------------------------------------------------


def test_accepts_only_spark_frames(spark):
    sdf = spark.createDataFrame(pd.DataFrame({"x": [1]}))
    assert ENGINE.accepts(sdf)
    assert not ENGINE.accepts(pd.DataFrame({"x": [1]}))
    assert not ENGINE.accepts([{"x": 1}])
    with pytest.raises(ValueError, match="fan_in"):
        SparkEngine(fan_in=1)
    with pytest.raises(ValueError, match="chunk_rows"):
        SparkEngine(chunk_rows=0)


def test_docstring_examples_run():
    import doctest

    import featurekit.engines.spark

    assert doctest.testmod(featurekit.engines.spark).failed == 0


def test_core_featurekit_never_imports_pyspark():
    code = textwrap.dedent(
        """
        import sys
        import featurekit as fk
        from featurekit.datasets import make_churn
        spec = fk.load_spec("specs/churn.yaml")
        frame = make_churn(500, seed=1)
        fitted = spec.fit(frame)
        fitted.transform(frame)
        fitted.transform_row(frame.iloc[0].to_dict())
        loaded = [m for m in sys.modules if m == "pyspark" or m.startswith("pyspark.")]
        assert not loaded, loaded
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_cli_fit_and_transform_with_engine_spark(spark, tmp_path, capsys):
    """``featurekit fit/transform --engine spark`` on parquet: the state and the features of pandas."""
    import pyarrow.parquet as pq

    from featurekit.cli import main

    spec, frame, whole = case("churn", "exact")
    data = tmp_path / "train.parquet"
    frame.to_parquet(data)
    art = tmp_path / "art"
    assert (
        main(["fit", str(ROOT / "specs" / "churn.yaml"), "--data", str(data), "--engine", "spark", "--out", str(art)])
        == 0
    )
    fitted = fk.load(str(art))
    assert fitted.fingerprint == whole.fingerprint and fitted.fit_info_["engine"] == "spark"
    out = tmp_path / "features"
    assert main(["transform", str(art), "--data", str(data), "--engine", "spark", "--out", str(out), "-q"]) == 0
    assert "wrote" in capsys.readouterr().out
    want = whole.transform(frame)
    table = pq.read_table(out)  # part files in order: the input's row order
    got = pd.DataFrame({c: pd.Series(table.column(c).to_pylist(), dtype=want[c].dtype) for c in want.columns})
    pd.testing.assert_frame_equal(got, want.reset_index(drop=True), check_exact=True)
    assert spark.sparkContext._jsc is not None  # the test's session was reused, not stopped

    # --keep copies input columns in front of the features, with their Spark types
    kept = tmp_path / "kept"
    keep = ["customer_id", "tenure_days", "monthly_spend", "signup_ts"]
    args = ["transform", str(art), "--data", str(data), "--engine", "spark", "--out", str(kept), "-q", "--keep", *keep]
    assert main(args) == 0
    table = pq.read_table(kept)
    assert table.column_names == keep + list(want.columns)
    types = [str(table.schema.field(c).type) for c in keep]
    assert types[:3] == ["string", "int64", "double"] and types[3].startswith("timestamp"), types
    for c in keep[:3]:
        values = [None if pd.isna(v) else v for v in table.column(c).to_pylist()]
        assert values == [None if pd.isna(v) else v for v in frame[c]], c
    # Spark's parquet writer stores timestamps as UTC instants without a zone
    instants = pd.to_datetime(pd.Series(table.column("signup_ts").to_pylist()), utc=True)
    pd.testing.assert_series_equal(
        instants, frame["signup_ts"].reset_index(drop=True), check_names=False, check_dtype=False
    )
    features = pd.DataFrame({c: pd.Series(table.column(c).to_pylist(), dtype=want[c].dtype) for c in want.columns})
    pd.testing.assert_frame_equal(features, want.reset_index(drop=True), check_exact=True)
    capsys.readouterr()
    assert (
        main(
            [
                "transform",
                str(art),
                "--data",
                str(data),
                "--engine",
                "spark",
                "--out",
                str(tmp_path / "x"),
                "--keep",
                "nope",
            ]
        )
        == 2
    )
    assert "--keep 'nope': no such column in the data" in capsys.readouterr().err
