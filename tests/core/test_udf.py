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
from featurekit import parity
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
        report = parity.check(fitted, ROWS, edges=False, shrink=False)
    assert report.ok, report.to_text(color=False)
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


def _write_udf_module(directory, name: str) -> None:
    """A module file with the same functions as this test module (one registered by decorator)."""
    import inspect

    (directory / f"{name}.py").write_text(
        "import numpy as np\nimport featurekit as fk\n\n\n"
        + inspect.getsource(safe_ratio_vec)
        + "\n\n"
        + '@fk.udf(dtype="float", args=["float", "float"], vectorized=safe_ratio_vec)\n'
        + inspect.getsource(safe_ratio)
        + "\n\n"
        + inspect.getsource(shout)
        + "\n\n"
        + 'fk.register_udf(shout, dtype="str", args=["str"])\n'
    )


def _run(code: str, *paths) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        cwd=str(paths[0]) if paths else None,
    )
    assert done.returncode == 0, done.stderr
    return done


def test_same_code_registered_in_a_fresh_process_loads_without_unpickling(tmp_path):
    """The functions come from a module file there (safe_ratio with a decorator, here without):
    same source, same identity, same fingerprint, and code.pkl is never unpickled."""
    fitted = fk.spec_from_yaml(SPEC).fit(FRAME)
    path = fitted.save(tmp_path / "art")
    _write_udf_module(tmp_path, "my_udfs")
    done = _run(
        f"""
        import sys
        sys.path.insert(0, {str(tmp_path)!r})
        import cloudpickle
        def refuse(*a, **k):
            raise SystemExit("code.pkl was unpickled")
        cloudpickle.loads = refuse
        import my_udfs  # registers safe_ratio and shout
        import featurekit as fk
        f = fk.load({str(path)!r})
        print(f.fingerprint)
        print(f.transform_row({{"a": 3.0, "b": 2.0, "s": "x"}}))
    """,
        tmp_path,
    )
    fingerprint, row = done.stdout.split("\n")[:2]
    assert fingerprint == fitted.fingerprint
    assert row == "{'r': 1.5, 'n': 'X!'}"


def test_a_trusted_fresh_load_keeps_the_recorded_identity(tmp_path):
    """Unpickled functions are registered under the identity the manifest recorded (their source
    is not visible there): re-saving gives the same fingerprints and records the same identity."""
    import json

    fitted = fk.spec_from_yaml(SPEC).fit(FRAME)
    path = fitted.save(tmp_path / "art")
    recorded = json.loads((tmp_path / "art" / "manifest.json").read_text())["udfs"]
    assert recorded["safe_ratio"]["identity_from"] == "source"
    done = _run(f"""
        import featurekit as fk
        from featurekit.udf import get_udf
        f = fk.load({str(path)!r}, trust_code=True)
        print(get_udf("safe_ratio").code_sha256, get_udf("shout").code_sha256, get_udf("shout").identity_from)
        f.save({str(tmp_path / "again")!r})
        print(fk.load({str(tmp_path / "again")!r}).fingerprint)
    """)
    identities, again = done.stdout.split("\n")[:2]
    assert identities.split() == [recorded["safe_ratio"]["code_sha256"], recorded["shout"]["code_sha256"], "artifact"]
    assert again == fitted.fingerprint
    resaved = json.loads((tmp_path / "again" / "manifest.json").read_text())
    assert {n: r["code_sha256"] for n, r in resaved["udfs"].items()} == {
        n: r["code_sha256"] for n, r in recorded.items()
    }
    assert fk.load(tmp_path / "again").fingerprint == fitted.fingerprint  # the same code is registered here


def test_fk_udf_is_the_decorator_whatever_was_imported_before():
    import featurekit.transform  # noqa: F401  imports the featurekit.udf submodule

    assert fk.udf.__module__ == "featurekit.udf" and callable(fk.udf(dtype="float", args=["float"]))


def test_a_decorator_does_not_change_the_identity():
    from featurekit.udf import get_udf

    before = get_udf("safe_ratio").code_sha256
    fk.udf(dtype="float", args=["float", "float"], vectorized=safe_ratio_vec)(safe_ratio)
    assert get_udf("safe_ratio").code_sha256 == before
    fk.register_udf(safe_ratio, dtype="int", args=["float", "float"], vectorized=safe_ratio_vec)
    assert get_udf("safe_ratio").code_sha256 != before  # the declared types are part of it


def test_a_different_function_under_the_same_name_is_refused_even_when_trusted(tmp_path):
    fitted = fk.spec_from_yaml(SPEC).fit(FRAME)
    path = fitted.save(tmp_path / "art")

    def safe_ratio(a, b):  # same name, other logic
        return a / b if b else -1.0

    fk.register_udf(safe_ratio, dtype="float", args=["float", "float"])
    with pytest.raises(fk.ArtifactError) as info:
        fk.load(path, trust_code=True)
    err = info.value
    assert not isinstance(err, fk.UntrustedCodeError) and err.udfs == ["safe_ratio"]
    assert "registered a different custom Python function under the name(s) ['safe_ratio']" in str(err)
    assert "Fix: register the function(s) the artifact was saved with" in str(err)
    from featurekit.udf import get_udf

    assert get_udf("safe_ratio").row is safe_ratio  # the user's registration is left as it was


def test_code_pkl_holding_other_code_than_recorded_is_refused(tmp_path, monkeypatch):
    """An artifact whose code.pkl was swapped for another function (hashes rewritten to match):
    a trusting caller still gets an error, because the bytecode is not the recorded one."""
    import importlib
    import json

    import cloudpickle

    from featurekit.artifact.manifest import manifest_digest
    from featurekit.values.hashing import sha256_hex

    fitted = fk.spec_from_yaml(SPEC).fit(FRAME)
    art = tmp_path / "art"
    fitted.save(art)

    def other(a, b):
        return a * b

    (art / "code.pkl").write_bytes(
        cloudpickle.dumps(
            {"safe_ratio": (other, None, "float", ["float", "float"]), "shout": (shout, None, "str", ["str"])}
        )
    )
    manifest = json.loads((art / "manifest.json").read_text())
    manifest["files"]["code.pkl"] = sha256_hex((art / "code.pkl").read_bytes())
    manifest["manifest_sha256"] = manifest_digest(manifest)
    (art / "manifest.json").write_text(json.dumps(manifest))
    monkeypatch.setattr(importlib.import_module("featurekit.udf"), "_UDFS", {})  # a process that registered nothing
    with pytest.raises(fk.ArtifactError, match="the function 'safe_ratio' in code.pkl is not the code recorded"):
        fk.load(art, trust_code=True)
