"""The engine registry: engines chosen by ``accepts`` in registration order, pandas last,
imported by ``module:Class`` strings, and a new engine is one ``register`` call."""

from __future__ import annotations

import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest

import featurekit as fk
from featurekit import engines
from featurekit.engines.dask import DaskEngine
from featurekit.engines.pandas import PandasEngine
from featurekit.engines.protocol import Aggregation, Engine, PositionalAggregation
from featurekit.fit import AnalyzerPass, BaselinePass, FirstPass, InputReader
from featurekit.spec.ref import SpecRef

SPEC = fk.spec_from_yaml("""
featurekit: 1
name: reg
version: 1.0.0
inputs: {x: {type: float}, c: {type: category}}
features:
  x_z: coalesce(zscore(clip(x, lower_pct=5, upper_pct=95)), 0.0)
  c_idx: vocab(c, top_k=3)
""")


def _frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n).round(3)
    x[rng.random(n) < 0.1] = np.nan
    return pd.DataFrame({"x": x, "c": rng.choice(list("abcde"), n)})


def test_pandas_is_the_fallback_and_dask_is_registered():
    assert engines.names()[-1] == "pandas" and "dask" in engines.names()
    assert engines.engine_for(_frame(3)).name == "pandas"
    assert engines.engine_for([_frame(3), _frame(2)]).name == "pandas"
    assert engines.get("dask", split_every=3).split_every == 3


def test_engines_implement_the_protocol_and_jobs_are_aggregations():
    assert isinstance(PandasEngine(), Engine) and isinstance(DaskEngine(), Engine)
    ref, reader = SpecRef(SPEC), InputReader()
    first = FirstPass(ref, [], {}, {}, reader)
    assert isinstance(first, PositionalAggregation)
    assert isinstance(AnalyzerPass(ref, [], {}, {}, reader), Aggregation)
    assert not isinstance(AnalyzerPass(ref, [], {}, {}, reader), PositionalAggregation)
    assert isinstance(BaselinePass(ref, {}, 1, reader), PositionalAggregation)
    shipped = pickle.loads(pickle.dumps(first))  # what the Dask engine sends to its workers
    assert shipped.accumulate_at(_frame(10), 0).rows == 10


def test_an_unknown_frame_type_names_the_registered_engines():
    with pytest.raises(TypeError, match=r"no registered engine accepts data of type set; registered: dask \(.*pandas"):
        engines.engine_for({1})
    with pytest.raises(fk.FitError, match=r"cannot read training data of type set(.|\n)*dask \(a Dask DataFrame\)"):
        SPEC.fit({1})
    with pytest.raises(ValueError, match=r"unknown engine 'nope'; registered: \['dask', 'spark', 'pandas'\]"):
        engines.get("nope")
    with pytest.raises(ValueError, match="module:Class"):
        engines.register("bad", "no_colon")


def test_choosing_an_engine_imports_no_engine_library():
    code = (
        "import sys, pandas as pd, featurekit as fk\n"
        "from featurekit.engines import engine_for\n"
        "assert engine_for(pd.DataFrame({'x': [1.0]})).name == 'pandas'\n"
        "assert not any(m == 'dask' or m.startswith('dask.') for m in sys.modules), 'dask imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_new_engine_is_one_register_call(tmp_path, monkeypatch):
    """A toy engine over a frame wrapper: it merges its chunks in reverse tree order, and the
    fit driver gives the same state, sample and baseline as pandas (every job merges exactly)."""
    (tmp_path / "toy_engine.py").write_text(
        textwrap.dedent("""
        import pandas as pd

        class Parts:
            def __init__(self, frames):
                self.frames = frames

        class ToyEngine:
            name = "toy"
            kinds = "a toy_engine.Parts"

            @staticmethod
            def accepts(data):
                return type(data).__name__ == "Parts" and type(data).__module__ == "toy_engine"

            def aggregate(self, data, job, *, progress=None):
                starts, total = [], 0
                for f in data.frames:
                    starts.append(total)
                    total += len(f)
                at = getattr(job, "accumulate_at", None)
                parts = [at(f, s) if at else job.accumulate(f) for f, s in zip(data.frames, starts)]
                if not parts:
                    return job.empty()
                return job.merge(parts[::-1])

            def map_frames(self, data, fn, meta):
                return Parts([fn(f) for f in data.frames])
        """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    saved = dict(engines._ENGINES)
    try:
        engines.register("toy", "toy_engine:ToyEngine")
        assert engines.names()[-2:] == ["toy", "pandas"]
        import toy_engine

        df = _frame(2_000, seed=3)
        data = toy_engine.Parts([df.iloc[:700], df.iloc[700:701], df.iloc[701:]])
        fitted, expected = SPEC.fit(data), SPEC.fit(df)
        assert fitted.fit_info_["engine"] == "toy"
        assert fitted.state_ == expected.state_ and fitted.fingerprint == expected.fingerprint
        assert fitted.sample_ == expected.sample_
        assert fitted.baseline_["inputs"]["c"] == expected.baseline_["inputs"]["c"]
        out = fitted.transform(data)
        assert isinstance(out, toy_engine.Parts)
        pd.testing.assert_frame_equal(pd.concat(out.frames), expected.transform(df), check_exact=True)
    finally:
        engines._ENGINES.clear()
        engines._ENGINES.update(saved)
