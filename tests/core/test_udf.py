"""Custom Python functions: parity, fingerprints, and artifacts that load code only with trust."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pandas as pd
import pytest

import featurekit as fk
from featurekit.parity import check_paths
from featurekit.udf import SlowBatchWarning

SPEC = """featurekit: 1
name: u
version: 1.0.0
inputs: {a: {type: float}, b: {type: float}, s: {type: str}}
features:
  r: udf(a, b, fn="safe_ratio")
  n: udf(s, fn="shout")
"""


def safe_ratio(a, b):
    return a / b if b else 0.0


def safe_ratio_vec(a, b):
    with np.errstate(all="ignore"):
        return np.where(b != 0, a / np.where(b != 0, b, 1.0), 0.0)


def shout(s):
    return None if s == "" else s.upper() + "!"


@pytest.fixture(autouse=True)
def registered():
    fk.register_udf(safe_ratio, dtype="float", args=["float", "float"], vectorized=safe_ratio_vec)
    fk.register_udf(shout, dtype="str", args=["str"])


FRAME = pd.DataFrame({"a": [1.0, 2.0, None, 4.0], "b": [2.0, 0.0, 1.0, -0.5], "s": ["x", "", None, "ß"]})
ROWS = [{k: (None if isinstance(v, float) and v != v else v) for k, v in r.items()} for r in FRAME.to_dict("records")]


def test_udf_paths_agree_and_nulls_propagate():
    fitted = fk.spec_from_yaml(SPEC).fit(FRAME)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SlowBatchWarning)
        result = check_paths(fitted, FRAME, ROWS)
    assert result.ok, result.summary()
    assert fitted.transform_rows(ROWS)[1]["n"] is None  # "" -> None from the function
    assert fitted.transform_row({"a": 1.0, "b": 4.0, "s": "ß"}) == {"r": 0.25, "n": "SS!"}


def test_scalar_only_udf_warns_that_the_batch_path_is_slow():
    fitted = fk.spec_from_yaml(SPEC).fit(FRAME)
    with pytest.warns(SlowBatchWarning, match="shout"):
        fitted.transform(FRAME)


def test_changing_the_function_changes_the_fingerprint():
    before = fk.spec_from_yaml(SPEC).feature_fingerprints

    def safe_ratio(a, b):  # same name, different logic
        return a / b if b else -1.0

    fk.register_udf(safe_ratio, dtype="float", args=["float", "float"])
    after = fk.spec_from_yaml(SPEC).feature_fingerprints
    assert before["r"] != after["r"] and before["n"] == after["n"]


def test_unregistered_udf_is_a_spec_error():
    with pytest.raises(fk.SpecError, match="udf 'nope' is not registered"):
        fk.spec_from_yaml(SPEC.replace('fn="shout"', 'fn="nope"'))


def test_artifact_with_code_needs_trust_in_a_fresh_process(tmp_path):
    fitted = fk.spec_from_yaml(SPEC).fit(FRAME)
    path = fitted.save(tmp_path / "art")
    code = textwrap.dedent(f"""
        import featurekit as fk
        try:
            fk.load({str(path)!r})
        except fk.UntrustedCodeError as exc:
            print("refused:", exc.udfs)
        f = fk.load({str(path)!r}, trust_code=True)
        print(f.transform_row({{"a": 1.0, "b": 0.0, "s": "a"}}))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "refused: ['safe_ratio', 'shout']" in done.stdout
    assert "{'r': 0.0, 'n': 'A!'}" in done.stdout


def test_artifact_loads_without_unpickling_when_the_same_code_is_registered(tmp_path, monkeypatch):
    fitted = fk.spec_from_yaml(SPEC).fit(FRAME)
    path = fitted.save(tmp_path / "art")
    import cloudpickle

    monkeypatch.setattr(cloudpickle, "loads", lambda *a, **k: pytest.fail("unpickled without need"))
    assert fk.load(path).fingerprint == fitted.fingerprint
