"""Boundary search (issue 16, item 5): thresholds that live only in code are found by bisecting
where the batch side's outputs change, and both sides are compared there."""

from __future__ import annotations

import datetime as dt
import json
import math

import pandas as pd

import featurekit as fk
from featurekit import parity
from featurekit.parity.boundaries import search_boundaries
from featurekit.parity.running import run_batch
from featurekit.spec.model import InputSpec
from featurekit.values.equality import Raised

THRESHOLD = 4321.0987  # no edge value, no given row, no spec literal: it lives only in the code


def _spec(inputs: str) -> fk.Spec:
    names = [line.split(":", 1)[0].strip() for line in inputs.strip().splitlines()]
    return fk.spec_from_yaml(
        "featurekit: 1\nname: boundaries\nversion: 0.1.0\ninputs:\n"
        + "".join(f"  {line.strip()}\n" for line in inputs.strip().splitlines())
        + "features:\n"
        + "".join(f"  {n}_null: is_null({n})\n" for n in names)
    )


AMOUNT = _spec("amount: {type: float, min: 0}")
ROWS = [{"amount": float(v)} for v in (3.5, 12.0, 80.25, 400.0, 999.99, 2500.0)]


def train(df: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame({"big": (df["amount"] >= THRESHOLD).astype(int)})


def serve(row):
    amount = row.get("amount")
    return {"big": int(amount is not None and amount > THRESHOLD)}


def _compare(batch=train, **options):
    return parity.compare(batch, serve, ROWS, contract=AMOUNT, invalid=False, fuzz=50, seed=0, shrink=False, **options)


def test_a_threshold_that_lives_only_in_code_is_found_with_boundaries_and_missed_without():
    assert _compare(boundaries=0).ok
    report = _compare()
    assert not report.ok
    (column,) = report.failing
    assert [ex.input["amount"] for ex in column.examples] == [THRESHOLD]
    assert (column.examples[0].batch, column.examples[0].served) == (1, 0)


def test_boundary_rows_count_as_generated_rows_and_edges_false_means_only_the_given_rows():
    with_search, without = _compare(), _compare(boundaries=0)
    assert with_search.given_rows == without.given_rows == len(ROWS)
    assert with_search.generated_rows > without.generated_rows
    assert with_search.generated_rows - without.generated_rows == with_search.boundary_rows > 0
    assert without.boundary_rows == 0
    assert f"{with_search.boundary_rows:,} of them at boundaries" in with_search.to_text(color=False)
    assert json.loads(with_search.to_json())["boundary_rows"] == with_search.boundary_rows
    exact = _compare(edges=False)
    assert exact.rows == exact.given_rows == len(ROWS) and exact.generated_rows == exact.boundary_rows == 0


def _runner(fn):
    """A batch runner over row dicts: fn(row) -> output dict, or Raised if it raises."""

    def run(rows):
        out = []
        for row in rows:
            try:
                out.append(fn(row))
            except Exception as exc:  # noqa: BLE001
                out.append(Raised(exc))
        return out

    return run


def test_float_search_lands_on_adjacent_doubles():
    edges = [0.1 + 0.2, 17.000001, 1e6 / 3]
    found = search_boundaries(
        _runner(lambda r: {"b": sum(r["x"] > e for e in edges)}),
        [InputSpec(name="x", type="float")],
        [{"x": 1.0}],
    )
    assert sorted(b.before for b in found.boundaries) == edges  # `x > e` changes just after e
    for b in found.boundaries:
        assert math.nextafter(b.before, math.inf) == b.after and b.columns == ("b",)
    # rows: one neighbour below, the two sides of the change, one neighbour above
    assert len(found.rows) == 4 * len(edges)


def test_int_inputs_land_on_one_integer_step():
    def batch(df):
        return pd.DataFrame({"tier": (df["n"] >= 777_777).astype(int)})

    spec = _spec("n: {type: int, nullable: false, min: 0}")
    found = search_boundaries(lambda rows: run_batch(batch, rows, spec), spec.inputs, [{"n": 5}])
    assert [(b.before, b.after) for b in found.boundaries] == [(777_776, 777_777)]
    assert [r["n"] for r in found.rows] == [777_775, 777_776, 777_777, 777_778]
    report = parity.compare(
        batch, lambda row: {"tier": int(row["n"] > 777_777)}, [{"n": 5}], contract=spec, invalid=False, fuzz=0
    )
    assert not report.ok and report.failing[0].examples[0].input["n"] == 777_777


INSTANT = dt.datetime(2026, 3, 14, 15, 9, 26, 535897, tzinfo=dt.UTC)


def test_timestamp_inputs_land_on_one_microsecond_and_keep_the_base_zone():
    zone = dt.timezone(dt.timedelta(hours=5, minutes=30))
    spec = _spec("t: {type: timestamp}")

    def batch(df):
        return pd.DataFrame({"late": (df["t"] >= pd.Timestamp(INSTANT)).astype(int)})

    base = {"t": dt.datetime(2020, 1, 1, tzinfo=zone)}
    found = search_boundaries(lambda rows: run_batch(batch, rows, spec), spec.inputs, [base])
    [b] = found.boundaries
    assert b.after == INSTANT and b.after - b.before == dt.timedelta(microseconds=1)
    assert all(r["t"].utcoffset() == zone.utcoffset(None) for r in found.rows)
    naive = search_boundaries(
        _runner(lambda r: {"late": int(r["t"] >= INSTANT.replace(tzinfo=None))}),
        spec.inputs,
        [{"t": dt.datetime(2020, 1, 1)}],
    )
    assert [(b.before.tzinfo, b.after) for b in naive.boundaries] == [(None, INSTANT.replace(tzinfo=None))]
    report = parity.compare(
        batch,
        lambda row: {"late": int(row["t"] > INSTANT)},
        [base],
        contract=spec,
        invalid=False,
        fuzz=0,
        max_examples=10**6,
    )
    values = [ex.input["t"] for ex in report.failing[0].examples if ex.kind == "value"]
    # (examples are tagged as in the codec; the serving side also raises on None and naive values)
    assert values == [{"$datetime": INSTANT.astimezone(zone).isoformat()}]


def test_the_same_seed_gives_the_same_rows():
    inputs = [InputSpec(name="x", type="float"), InputSpec(name="n", type="int")]
    fn = _runner(lambda r: {"a": int(r["x"] > 3.3), "b": r["n"] // 1000 if r["n"] is not None else None})
    runs = [search_boundaries(fn, inputs, [{"x": 1.0, "n": 4}], seed=7) for _ in range(2)]
    assert runs[0].rows == runs[1].rows and runs[0].boundaries == runs[1].boundaries
    assert runs[0].rows  # something was found


def test_a_batch_side_raising_on_part_of_the_range_does_not_stop_the_search():
    def fussy(df):  # a whole frame fails if it holds one very large amount
        if (df["amount"] > 1e7).any():
            raise ValueError("amount out of range")
        return train(df)

    report = _compare(batch=fussy, max_examples=10**6)
    values = [ex for ex in report.failing[0].examples if ex.kind == "value"]
    assert [ex.input["amount"] for ex in values] == [THRESHOLD]  # besides the rows where it raised
    assert report.batch_raised > 0
    # raised rows are no output: nothing is searched across them
    found = search_boundaries(
        _runner(lambda r: {"b": 1 / (r["x"] - 5.0)} if r["x"] < 100 else {"b": 0}),
        [InputSpec(name="x", type="float")],
        [{"x": 1.0}],
    )
    assert all(b.before != 5.0 and b.after != 5.0 for b in found.boundaries)


def test_the_budget_is_respected():
    calls = []

    def counting(rows):
        calls.append(len(rows))
        return [{"b": sum(r["x"] > e for e in (1.5, 2.5, 3.5, 7.25, 99.0))} for r in rows]

    inputs = [InputSpec(name="x", type="float")]
    found = search_boundaries(counting, inputs, [{"x": 0.0}], budget=2)
    assert len(found.boundaries) == 2 and found.calls == len(calls)
    calls.clear()
    found = search_boundaries(counting, inputs, [{"x": 0.0}], max_calls=4)
    assert len(calls) == found.calls == 4 and not found.boundaries  # 4 rounds are not enough
    calls.clear()
    found = search_boundaries(counting, inputs, [{"x": 0.0}], max_probe_rows=300)
    assert sum(calls) == found.probe_rows <= 300
    assert search_boundaries(counting, inputs, [{"x": 0.0}], budget=0).calls == 0
    # many inputs: the ladders take at most half the probe rows, the first inputs first
    many = [InputSpec(name=f"x{i}", type="float") for i in range(40)]
    wide = search_boundaries(_runner(lambda r: {"b": int(r["x0"] > 2.5)}), many, [{}], max_probe_rows=1000)
    assert wide.probe_rows <= 1000 and [b.input for b in wide.boundaries] == ["x0"]


def test_check_searches_the_fitted_batch_path_and_agrees():
    spec = fk.spec_from_yaml(
        """
featurekit: 1
name: bucketed
version: 0.1.0
inputs:
  x: {type: float}
features:
  b: bucketize(x, quantiles=[25, 50, 75])
"""
    )
    fitted = spec.fit(pd.DataFrame({"x": [float(i) for i in range(100)]}))
    rows = [{"x": 7.0}, {"x": 60.0}]
    with_search = parity.check(fitted, rows, fuzz=0)
    assert with_search.ok, with_search.to_text(color=False)
    assert with_search.generated_rows == parity.check(fitted, rows, fuzz=0, boundaries=0).generated_rows + 12


def test_cli_boundaries_flag(tmp_path):
    from featurekit import cli
    from featurekit.parity import boundaries

    assert cli.BOUNDARY_BUDGET == boundaries.BUDGET
    args = cli.build_parser().parse_args(["parity", "model", "--boundaries", "0"])
    assert args.boundaries == 0
    assert cli.build_parser().parse_args(["parity", "model"]).boundaries == boundaries.BUDGET
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        "featurekit: 1\nname: cli_boundaries\nversion: 0.1.0\ninputs:\n  x: {type: float}\n"
        "features:\n  b: bucketize(x, quantiles=[50])\n"
    )
    data = tmp_path / "data.csv"
    data.write_text("x\n" + "".join(f"{i}.5\n" for i in range(40)))
    generated = {}
    for budget in ("0", "8"):
        out = tmp_path / f"report{budget}.json"
        argv = ["parity", str(spec), "--data", str(data), "--fuzz", "0", "--format", "json", "--output", str(out)]
        assert cli.main([*argv, "--boundaries", budget]) == 0
        generated[budget] = json.loads(out.read_text())["generated_rows"]
    assert generated["8"] > generated["0"]


def test_only_the_compared_columns_are_searched():
    def batch(df):
        return pd.DataFrame({"big": (df["amount"] >= THRESHOLD).astype(int), "tiny": (df["amount"] < 0.7).astype(int)})

    found = search_boundaries(lambda rows: run_batch(batch, rows, AMOUNT), AMOUNT.inputs, ROWS, columns=["tiny"])
    assert [(b.after, b.columns) for b in found.boundaries] == [(0.7, ("tiny",))]
