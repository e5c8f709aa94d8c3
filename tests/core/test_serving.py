"""Serving hygiene: no pandas/numpy on the row path, no mutation, thread safety, pinning."""

from __future__ import annotations

import copy
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import featurekit as fk
from featurekit.datasets import make_churn, to_rows

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def artifact(tmp_path_factory):
    spec = fk.load_spec(ROOT / "specs" / "churn.yaml")
    fitted = spec.fit(make_churn(5_000, seed=3))
    return fitted, fitted.save(tmp_path_factory.mktemp("art") / "churn")


def test_loading_and_serving_import_neither_pandas_nor_numpy(artifact):
    _, path = artifact
    code = textwrap.dedent(f"""
        import datetime, sys
        import featurekit as fk
        f = fk.load({str(path)!r})
        out = f.transform_row({{"monthly_spend": 3.0, "plan": "basic", "tenure_days": 4,
                               "num_support_tickets": 1, "avg_session_minutes": 2.0, "is_promo": False,
                               "description": "a  b", "signup_ts": datetime.datetime(2025, 1, 1)}})
        assert len(out) == 30, out
        heavy = [m for m in ("pandas", "numpy", "pyarrow") if m in sys.modules]
        print(",".join(heavy) or "clean")
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "clean"


def test_row_input_is_not_mutated_and_state_is_unchanged(artifact):
    fitted, _ = artifact
    rows = to_rows(make_churn(300, seed=4, evaluation=True))
    state_before = fitted.state_fingerprint
    for row in rows:
        snapshot = copy.deepcopy(row)
        fitted.transform_row(row)
        assert row == snapshot
    assert fitted.state_fingerprint == state_before


def test_eight_threads_give_the_single_thread_results(artifact):
    fitted, _ = artifact
    rows = to_rows(make_churn(2_000, seed=5, evaluation=True))
    expected = fitted.transform_rows(rows)
    results: list[list[dict]] = [[] for _ in range(8)]

    def work(i: int) -> None:
        results[i] = [fitted.transform_row(r) for r in rows]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got in results:
        assert repr(got) == repr(expected)


def test_pin_refuses_another_version_or_fingerprint(artifact):
    fitted, path = artifact
    assert fk.load(path, expect=fitted.pin).fingerprint == fitted.fingerprint
    with pytest.raises(fk.ArtifactError, match="version '1.0.0' != expected '2.0.0'"):
        fk.load(path, expect="churn_features@2.0.0")
    with pytest.raises(fk.ArtifactError, match="fingerprint"):
        fk.load(path, expect="churn_features@1.0.0#deadbeefdead")


def test_generated_row_source_is_readable_and_in_tracebacks(artifact):
    fitted, _ = artifact
    assert "def transform_row(row, /, log=None):" in fitted.row_source
    with pytest.raises(fk.ContractError) as info:
        fitted.transform_row({"monthly_spend": "12.5"})
    assert "monthly_spend" in str(info.value) and "'12.5'" in str(info.value)
    import traceback

    text = "".join(traceback.format_tb(info.value.__traceback__))
    assert "<featurekit row churn_features@1.0.0" in text
    with pytest.raises(fk.ContractError, match="expected a dict"):
        fitted.transform_row([1, 2])


def test_every_kind_of_mapping_reads_the_same_inputs_and_is_left_untouched(artifact):
    """Plain dicts take a one-call fast read; absent keys, other mappings and dict subclasses
    (whose ``__missing__`` could insert keys) take ``.get``: all give the same features."""
    import collections
    import types

    fitted, _ = artifact
    rows = to_rows(make_churn(50, seed=6, evaluation=True))
    for row in rows:
        expected = fitted.transform_row(dict(row))
        assert fitted.transform_row(types.MappingProxyType(row)) == expected
        inserting = collections.defaultdict(lambda: "inserted", row)
        assert fitted.transform_row(inserting) == expected
        assert dict(inserting) == row
        partial = {k: v for k, v in row.items() if k not in ("device", "monthly_spend")}
        assert fitted.transform_row(partial) == fitted.transform_row({**partial, "device": None, "monthly_spend": None})
    with pytest.raises(fk.ContractError, match="tenure_days"):
        fitted.transform_row({k: v for k, v in rows[0].items() if k != "tenure_days"})
    with pytest.raises(fk.ContractError, match="expected a dict"):
        fitted.transform_row("not a row")


def test_non_ascii_and_invalid_text_take_the_contract_rules(artifact):
    fitted, _ = artifact
    row = to_rows(make_churn(1, seed=7))[0]
    accented = fitted.transform_row({**row, "description": "café  naïve\u3000end"})
    assert accented["desc_token_count"] == 3 and accented["desc_char_len"] == len("café  naïve\u3000end")
    with pytest.raises(fk.ContractError, match="description"):
        fitted.transform_row({**row, "description": "lone \ud800 surrogate"})


def test_calendar_fields_beyond_year_9999_in_utc_agree_with_the_batch_path():
    """A timestamp input read as a datetime is also kept as one for .hour/.weekday(); an offset
    can push a valid input past datetime's range (year 10000 in UTC): microseconds take over."""
    import pandas as pd

    spec = fk.spec_from_yaml("""
featurekit: 1
name: far
version: 1.0.0
inputs: {t: {type: timestamp}}
features:
  h: hour(t)
  d: day_of_week(t)
  w: is_weekend(t)
  m: month(t)
  y: year(t)
  dom: day_of_month(t)
""")
    fitted = spec.fit([{"t": "2020-01-01T00:00:00Z"}])
    rows = [
        {"t": "9999-12-31T23:59:59-23:59"},
        {"t": "0001-01-01T00:00:00"},
        {"t": None},
        {"t": __import__("datetime").datetime(2024, 2, 29, 23, 30)},
    ]
    batch = fitted.transform(pd.DataFrame({"t": pd.Series([r["t"] for r in rows], dtype=object)}))
    for i, row in enumerate(rows):
        got = fitted.transform_row(row)
        want = {k: (None if pd.isna(v) else int(v)) for k, v in batch.iloc[i].to_dict().items()}
        got = {k: (None if v is None else int(v)) for k, v in got.items()}
        assert got == want, (row, got, want)
    assert fitted.transform_row(rows[0])["y"] == 10000


def test_null_fills_and_one_hot_lowerings_agree_with_the_batch_path():
    """``coalesce``/``impute`` over a value that is null only through its arguments test that
    argument's null condition directly; ``one_hot`` sets its column with one lookup. Both
    paths must still agree everywhere, including values used twice (not rewritten), several
    fallbacks, int and bool categories, nulls and unseen values."""
    from featurekit import parity

    spec = fk.spec_from_yaml("""
featurekit: 1
name: lowerings
version: 1.0.0
inputs:
  x: {type: float}
  y: {type: float}
  n: {type: int}
  t: {type: timestamp}
  s: {type: str}
  flag: {type: bool}
features:
  z: coalesce(zscore(x), 0.0)
  shared: abs(x)
  shared_filled: coalesce(shared, -1.0)
  chain: coalesce(log1p(x), sqrt(y), y, 2.5)
  hour_filled: impute(hour(t), value=-1)
  len_mean: impute(length(s), strategy="mean")
  next_n: coalesce(n + 1, 0)
  by_n: one_hot(n, prefix="n")
  by_flag: one_hot(flag, prefix="f")
  by_s: one_hot(s, prefix="s", top_k=3)
""")
    train = [
        {
            "x": float(i % 7) - 2.0,
            "y": float(i % 5),
            "n": i % 4,
            "t": f"2024-01-0{1 + i % 5}T0{i % 9}:00:00Z",
            "s": "abcde"[i % 5] * (1 + i % 3),
            "flag": bool(i % 2),
        }
        for i in range(60)
    ]
    train[3].update(x=None, s=None, t=None, n=None, flag=None)
    fitted = spec.fit(train)
    report = parity.check(fitted, train, fuzz=600, seed=1)
    assert report.ok, report.to_text(color=False)
    out = fitted.transform_row({"x": None, "y": None, "n": 99, "t": None, "s": "zzz", "flag": None})
    assert (out["z"], out["chain"], out["hour_filled"], out["next_n"]) == (0.0, 2.5, -1, 100)
    assert [out[c] for c in fitted.output_columns if c.startswith(("n_", "f_", "s_"))] == [0] * sum(
        c.startswith(("n_", "f_", "s_")) for c in fitted.output_columns
    )
    shared = fitted.transform_row({"x": -3.0, "y": 1.0, "n": 1, "t": None, "s": None, "flag": True})
    assert (shared["shared"], shared["shared_filled"], shared["n_1"], shared["f_True"]) == (3.0, 3.0, 1, 1)


@given(
    literals=st.lists(st.text() | st.floats(allow_nan=False, allow_infinity=False) | st.integers(), max_size=4),
    names=st.lists(st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True), min_size=1, max_size=4),
)
@settings(max_examples=300, deadline=None)
def test_the_row_compilers_name_scanner_agrees_with_pythons_tokenizer(literals, names):
    """Values move between generated expressions by name; the scanner must see exactly the
    identifiers Python's tokenizer sees, at the bracket depth the tokenizer sees, whatever text
    the string constants hold."""
    import io
    import keyword
    import tokenize

    from featurekit.compile.row import RowContext, _scan

    names = [n for n in names if not keyword.iskeyword(n)] or ["v_1"]
    ctx = RowContext()
    parts = [f"{names[i % len(names)]}.get({ctx.lit(v)}, {names[-1 - i % len(names)]})" for i, v in enumerate(literals)]
    expr = " + ".join(parts + [f"({names[0]} if {names[-1]} is None else x.{names[0]})"])
    tokens = list(tokenize.generate_tokens(io.StringIO(expr).readline))
    expected, depth, deepest = [], 0, 0
    for i, t in enumerate(tokens):
        if t.type == tokenize.NAME and not (i and tokens[i - 1].string == "."):
            expected.append((t.start[1], t.end[1], t.string, depth))
        elif t.type == tokenize.OP and t.string in "([{":
            depth += 1
            deepest = max(deepest, depth)
        elif t.type == tokenize.OP and t.string in ")]}":
            depth -= 1
    assert _scan(expr) == (expected, deepest)
