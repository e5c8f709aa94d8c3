"""Golden vectors: recorded by every save, replayed by ``featurekit verify`` / ``load(verify=True)``,
exported by ``featurekit golden`` in a documented, schema-checked format.

Environment skew is simulated, never depended on: a subprocess patches ``math.log1p`` to be
1 ULP off before featurekit is imported, so these tests pass or fail the same on every CPU.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import featurekit as fk
from featurekit.artifact.golden import GoldenVectors, decode_row, decode_value, same_cell
from featurekit.artifact.manifest import manifest_digest
from featurekit.cli import main
from featurekit.datasets import make_churn
from featurekit.values import codec
from featurekit.values.hashing import sha256_hex

ROOT = Path(__file__).resolve().parents[2]
OLD = ROOT / "tests" / "artifact" / "golden" / "churn_v1"  # saved before golden vectors existed

PATCHED_LOG1P = """\
import math
import sys

_log1p = math.log1p
math.log1p = lambda x: math.nextafter(_log1p(x), math.inf)  # 1 ULP up: before featurekit binds it
from featurekit.cli import main  # noqa: E402

sys.exit(main(sys.argv[1:]))
"""


@pytest.fixture(scope="module")
def churn():
    fitted = fk.load_spec(ROOT / "specs" / "churn.yaml").fit(make_churn(3_000, seed=5))
    return fitted


@pytest.fixture(scope="module")
def saved(churn, tmp_path_factory):
    return Path(churn.save(tmp_path_factory.mktemp("g") / "churn"))


@pytest.fixture
def copy(saved, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(saved, target)
    return target


def _vectors(path: Path) -> list[dict]:
    return codec.loads((path / "golden.json").read_bytes())["vectors"]


def _rehash(path: Path) -> None:
    manifest = json.loads((path / "manifest.json").read_text())
    manifest["files"] = {n: sha256_hex((path / n).read_bytes()) for n in manifest["files"]}
    manifest["manifest_sha256"] = manifest_digest(manifest)
    (path / "manifest.json").write_text(json.dumps(manifest))


def _cli(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


# ------------------------------------------------------------------------------ recording


def test_every_artifact_holds_hashed_golden_vectors_and_its_environment(saved):
    manifest = json.loads((saved / "manifest.json").read_text())
    assert manifest["files"]["golden.json"] == sha256_hex((saved / "golden.json").read_bytes())
    env = manifest["environment"]
    assert {"python", "platform", "machine", "libc", "cpu_flags", "featurekit", "numpy"} <= set(env)
    vectors = _vectors(saved)
    assert len(vectors) == 256
    sources = [v["source"] for v in vectors]
    assert 100 <= sources.count("sample") <= 128 and sources[: sources.count("sample")] == ["sample"] * sources.count(
        "sample"
    )


def test_the_edge_rows_cover_every_input_null_form_and_extra_keys(churn, saved):
    vectors = [v for v in _vectors(saved) if v["source"] == "edge"]
    base = decode_row(_vectors(saved)[0]["input"])  # the background row: the first training row
    for inp in churn.spec.inputs:
        rows = [decode_row(v["input"]) for v in vectors]
        others_as_base = [
            r for r in rows if all(r.get(k, "<absent>") == base.get(k, "<absent>") for k in base if k != inp.name)
        ]
        assert any(inp.name in r and r[inp.name] is None for r in others_as_base), inp.name
        assert any(isinstance(r.get(inp.name), float) and math.isnan(r[inp.name]) for r in others_as_base), inp.name
        assert any(inp.name not in r for r in others_as_base), inp.name
    assert any("__unexpected_key__" in v["input"] for v in vectors)


def test_a_refused_row_is_recorded_as_the_error_it_raises(churn, saved):
    refused = [v for v in _vectors(saved) if "error" in v]
    names = {v["error"]["input"] for v in refused}
    assert {"tenure_days", "num_support_tickets"} <= names  # required ints: None, NaN and missing raise
    for v in refused:
        with pytest.raises(Exception) as info:
            churn.transform_row(decode_row(v["input"]))
        assert (type(info.value).__name__, str(info.value)) == (v["error"]["type"], v["error"]["message"])


def test_recorded_outputs_are_the_row_path_outputs_bit_for_bit(churn, saved):
    columns = churn.output_columns
    for v in _vectors(saved):
        if "output" in v:
            got = churn.transform_row(decode_row(v["input"]))
            assert all(same_cell(e, got[c]) for c, e in zip(columns, v["output"])), v


def test_special_floats_round_trip_exactly(tmp_path):
    """-0.0, NaN, +-inf, subnormals and the largest double come back with the same bits."""
    fitted = fk.spec_from_yaml("""
featurekit: 1
name: floats
version: 1.0.0
inputs: {x: {type: float}}
features: {y: x * 1.0, z: x}
""").fit([{"x": 1.0}])
    path = Path(fitted.save(tmp_path / "f", golden=64))
    vectors = _vectors(path)
    seen = set()
    for v in vectors:
        if "output" in v:
            y = v["output"][0]
            assert same_cell(y, fitted.transform_row(decode_row(v["input"]))["y"])
            seen.add(y.hex() if y == y else "nan")
    assert {(-0.0).hex(), math.inf.hex(), (-math.inf).hex(), (5e-324).hex(), "nan"} <= seen
    assert fk.verify(path).ok


def test_a_transform_not_produced_by_fit_still_gets_edge_rows(tmp_path):
    """The artifact saved before golden vectors existed: re-saved, it records edge rows only,
    around a background row of accepted values (so most rows compute instead of raising)."""
    old = fk.load(OLD)
    assert old.golden_ is None and old.sample_ is None
    path = Path(old.save(tmp_path / "resaved"))
    vectors = _vectors(path)
    assert len(vectors) == 256 and {v["source"] for v in vectors} == {"edge"}
    assert sum("output" in v for v in vectors) > 200
    assert fk.verify(path).ok


def test_resaving_a_loaded_artifact_keeps_its_training_rows(saved, tmp_path):
    loaded = fk.load(saved)
    again = Path(loaded.save(tmp_path / "again"))
    first = [v for v in _vectors(saved) if v["source"] == "sample"]
    assert [v for v in _vectors(again) if v["source"] == "sample"] == first


def test_golden_count_and_leaving_training_rows_out(churn, tmp_path):
    small = Path(churn.save(tmp_path / "small", golden=50))
    assert len(_vectors(small)) == 50
    private = Path(churn.save(tmp_path / "private", golden_sample=False))
    assert {v["source"] for v in _vectors(private)} == {"edge"}
    with pytest.raises(fk.ArtifactError, match="golden must be an int >= 1"):
        churn.save(tmp_path / "none", golden=0)


def test_an_altered_golden_file_does_not_load(copy):
    (copy / "golden.json").write_bytes((copy / "golden.json").read_bytes().replace(b"sample", b"sampl3", 1))
    with pytest.raises(fk.ArtifactError, match="golden.json was altered after saving"):
        fk.load(copy)


def test_old_artifacts_load_and_verify_says_they_have_no_vectors(capsys):
    assert fk.load(OLD).golden_ is None
    code, out, err = _cli(capsys, "verify", str(OLD))
    assert code == 2 and "has no golden vectors" in err and "Fix: re-save it" in err


def test_describe_shows_the_golden_vectors(saved, capsys):
    code, out, _ = _cli(capsys, "describe", str(saved))
    assert code == 0 and "golden vectors: 256 (" in out and "featurekit verify" in out


# ------------------------------------------------------------------------------ verify


def test_verify_passes_on_a_fresh_artifact(saved, capsys):
    code, out, _ = _cli(capsys, "verify", str(saved))
    assert code == 0, out
    assert "256 golden vectors" in out and "all identical on this host" in out
    assert "saved on:  Python" in out and "this host: Python" in out
    code, out, _ = _cli(capsys, "verify", str(saved), "--format", "json")
    report = json.loads(out)
    assert code == 0 and report["ok"] and report["differences"] == 0 and report["environment"]["differs"] == []
    assert fk.load(saved, verify=True).fingerprint == fk.load(saved).fingerprint


def test_verify_of_an_archive(churn, tmp_path, capsys):
    path = churn.save(tmp_path / "churn.fkit")
    code, out, _ = _cli(capsys, "verify", path)
    assert code == 0 and "all identical" in out


def _run_patched(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess:
    driver = tmp_path / "patched_log1p.py"
    driver.write_text(PATCHED_LOG1P)
    return subprocess.run(
        [sys.executable, str(driver), *argv],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_verify_fails_naming_the_column_when_log1p_is_one_ulp_off(saved, tmp_path):
    """The required test: the serving process's math.log1p is 1 ULP off; verify exits 1 and
    names the column, both values with their bits, and both environments."""
    done = subprocess.run(
        [sys.executable, "-m", "featurekit.cli", "verify", str(saved)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    done = _run_patched(tmp_path, "verify", str(saved))
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert "column 'spend_log1p'" in out and "column 'tickets_log1p'" in out
    assert "spend_log1p (" in out.splitlines()[0]
    assert "(1 ULP apart)" in out and "bits 0x" in out and "hex 0x" in out
    assert "saved on:  Python" in out and "this host: Python" in out and "Fix:" in out
    touched = {line.split("'")[1] for line in out.splitlines() if line.startswith("  column '")}
    assert touched == {"spend_log1p", "tickets_log1p"}  # nothing else calls log1p


def test_verify_json_report_when_log1p_is_one_ulp_off(saved, tmp_path):
    done = _run_patched(tmp_path, "verify", str(saved), "--format", "json", "--max-examples", "1000")
    assert done.returncode == 1, done.stderr
    report = codec.loads(done.stdout)
    assert not report["ok"] and set(report["by_column"]) == {"spend_log1p", "tickets_log1p"}
    first = report["examples"][0]
    assert first["column"] == "spend_log1p" and first["recorded"]["value"] != first["here"]["value"]
    assert first["recorded"]["text"].startswith(repr(first["recorded"]["value"]))
    assert report["differences"] == len(report["examples"])


def test_load_with_verify_raises_naming_column_values_and_environments(saved, tmp_path):
    code = textwrap.dedent(f"""
        import math, sys
        _log1p = math.log1p
        math.log1p = lambda x: math.nextafter(_log1p(x), math.inf)
        import featurekit as fk
        fk.load({str(saved)!r})  # without verify: loads
        try:
            fk.load({str(saved)!r}, verify=True)
        except fk.VerificationError as exc:
            print(exc.column, exc.vector, exc.differences, repr(exc.recorded), repr(exc.here))
            print(exc)
        heavy = [m for m in ("numpy", "pandas") if m in sys.modules]
        print("heavy:", heavy)
    """)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    column, vector, count, recorded, here = lines[0].split()
    assert column == "spend_log1p" and int(count) > 100
    assert math.nextafter(float(recorded), math.inf) == float(here)
    text = "\n".join(lines[1:])
    assert "this host computes other features than the host that saved the artifact" in text
    assert "saved on:  Python" in text and "this host: Python" in text and "Fix: serve on a host" in text
    assert lines[-1] == "heavy: []"  # verifying needs neither numpy nor pandas


def test_a_recorded_value_changed_by_one_ulp_is_a_difference(copy, capsys):
    """The comparison itself, without patching anything: one recorded float moved by 1 ULP."""
    doc = codec.loads((copy / "golden.json").read_bytes())
    columns = doc["columns"]
    at = columns.index("spend_z")
    doc["vectors"][5]["output"][at] = math.nextafter(doc["vectors"][5]["output"][at], math.inf)
    (copy / "golden.json").write_bytes(codec.dumps(doc, ascii=True).encode("ascii"))
    _rehash(copy)
    code, out, _ = _cli(capsys, "verify", str(copy))
    assert code == 1 and "1 cell(s) differ on this host, in: spend_z (1)" in out
    assert "column 'spend_z', vector 5 (training sample)" in out


@pytest.mark.parametrize(
    "change, kind",
    [
        (lambda v: v.__setitem__("output", v["output"][:-1] + [float(v["output"][-1])]), "int vs float"),
        (
            lambda v: v.__setitem__("output", [-0.0 if x == 0.0 and isinstance(x, float) else x for x in v["output"]]),
            "-0.0 vs 0.0",
        ),
    ],
)
def test_types_and_signed_zero_are_compared_exactly(copy, capsys, change, kind):
    doc = codec.loads((copy / "golden.json").read_bytes())
    vector = next(
        v
        for v in doc["vectors"]
        if "output" in v
        and isinstance(v["output"][-1], int)
        and any(isinstance(x, float) and x == 0.0 for x in v["output"])
    )
    change(vector)
    (copy / "golden.json").write_bytes(codec.dumps(doc, ascii=True).encode("ascii"))
    _rehash(copy)
    code, out, _ = _cli(capsys, "verify", str(copy))
    assert code == 1, kind


def test_an_error_that_changed_is_a_difference(copy, capsys):
    doc = codec.loads((copy / "golden.json").read_bytes())
    vector = next(v for v in doc["vectors"] if "error" in v)
    vector["error"]["message"] += " (reworded)"
    (copy / "golden.json").write_bytes(codec.dumps(doc, ascii=True).encode("ascii"))
    _rehash(copy)
    code, out, _ = _cli(capsys, "verify", str(copy))
    assert code == 1 and "column '(error)'" in out and "raises ContractError" in out


def test_the_environment_difference_is_named(copy, capsys):
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["environment"]["cpu_flags"] = ["sse4_2"]
    manifest["environment"]["libc"] = "musl 1.2.4"
    manifest["manifest_sha256"] = manifest_digest(manifest)
    (copy / "manifest.json").write_text(json.dumps(manifest))
    code, out, _ = _cli(capsys, "verify", str(copy))
    assert code == 0 and "differs:   libc, cpu_flags" in out  # recorded on another host, same results here


def test_a_malformed_golden_file_is_a_bad_artifact(copy, capsys):
    (copy / "golden.json").write_text(
        '{"format": "featurekit-golden", "format_version": 1, "columns": [], "vectors": [{"source": "edge"}]}'
    )
    _rehash(copy)
    code, _, err = _cli(capsys, "verify", str(copy))
    assert code == 2 and "golden.json vector 0 is malformed" in err


def test_golden_vectors_parse_lazily():
    """Loading keeps the bytes; parsing (and its errors) waits for verify, describe or re-save."""
    lazy = GoldenVectors(b"not json", "x")
    with pytest.raises(fk.ArtifactError, match="golden.json is not valid strict JSON"):
        len(lazy)


# ------------------------------------------------------------------------------ export


def _read_portable(value):
    """The documented decoding of a portable value, written independently of featurekit."""
    import base64
    import datetime as dt

    if isinstance(value, dict):
        if "$int" in value:
            return int(value["$int"])
        if "$float" in value:
            return float(value["$float"])
        if "$datetime" in value:
            return dt.datetime.fromisoformat(value["$datetime"])
        if "$bytes" in value:
            return base64.b64decode(value["$bytes"])
    return value


def test_exported_vectors_follow_the_schema_and_lose_nothing(churn, tmp_path, capsys):
    jsonschema = pytest.importorskip("jsonschema")
    from featurekit.artifact.export import SCHEMA_PATH

    path = Path(churn.save(tmp_path / "big", golden=1500))  # every edge value of every input
    out = tmp_path / "vectors.jsonl"
    code, printed, _ = _cli(capsys, "golden", str(path), "--out", str(out))
    assert code == 0 and "wrote" in printed
    schema = json.loads(SCHEMA_PATH.read_text())
    validator = jsonschema.Draft7Validator(schema)
    text = out.read_text(encoding="ascii")
    lines = [
        json.loads(line, parse_constant=lambda c: pytest.fail(f"bare {c} in the file")) for line in text.splitlines()
    ]
    for line in lines:
        validator.validate(line)
    header, vectors = lines[0], lines[1:]
    assert header["kind"] == "header" and header["vectors"] == len(vectors) and header["pin"] == churn.pin
    assert header["outputs"]["spend_log1p"] == "float" and header["inputs"]["tenure_days"]["nullable"] is False
    golden = fk.load(path).golden_
    for line, recorded in zip(vectors, golden.vectors):
        row, want = {k: _read_portable(v) for k, v in line["input"].items()}, decode_row(recorded["input"])
        assert row.keys() == want.keys() and all(same_cell(row[k], want[k]) for k in row), line["id"]
        if "output" in recorded:
            assert list(line["output"]) == golden.columns
            assert all(
                same_cell(_read_portable(line["output"][c]), decode_value(v))
                for c, v in zip(golden.columns, recorded["output"])
            ), line["id"]
        else:
            assert line["error"] == recorded["error"]
    tags = text.count('{"$int":'), text.count('{"$float":"-0.0"}'), text.count('{"$float":"nan"}')
    assert all(tags), tags
    big = [v for line in vectors for v in line["input"].values() if isinstance(v, int) and not isinstance(v, bool)]
    assert max(abs(v) for v in big) <= 2**53 - 1  # larger ints are tagged
    floats = [line.split('"output":')[1] for line in text.splitlines()[1:] if '"output":' in line]
    assert not any("Infinity" in f or "NaN" in f for f in floats)


def test_golden_to_stdout_and_without_vectors(saved, capsys):
    code, out, _ = _cli(capsys, "golden", str(saved), "--out", "-")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 257 and json.loads(lines[0])["kind"] == "header"
    code, _, err = _cli(capsys, "golden", str(OLD), "--out", "-")
    assert code == 2 and "has no golden vectors" in err


def test_every_input_keeps_its_null_forms_when_the_count_is_small(churn, tmp_path):
    path = Path(churn.save(tmp_path / "tiny", golden=5))
    vectors = _vectors(path)
    assert len(vectors) == 3 * len(churn.spec.inputs) + 1 and {v["source"] for v in vectors} == {"edge"}
