"""The golden artifact saved by featurekit 0.1 must keep loading and giving the same outputs."""

from __future__ import annotations

import json
import math
import shutil
from pathlib import Path

import featurekit as fk
from featurekit.values import codec
from featurekit.values.equality import STRICT

HERE = Path(__file__).resolve().parent
GOLDEN = HERE / "golden" / "churn_v1"
EXPECTED = codec.loads((HERE / "golden" / "churn_v1_expected.json").read_text())


def _rows() -> list[dict]:
    import datetime as _dt

    return [
        {k: _dt.datetime.fromisoformat(v["$datetime"]) if isinstance(v, dict) else v for k, v in r.items()}
        for r in EXPECTED["rows"]
    ]


_same = STRICT.same


def test_golden_artifact_loads_with_its_pin():
    fitted = fk.load(GOLDEN, expect=EXPECTED["pin"])
    assert fitted.pin == EXPECTED["pin"]
    assert fitted.output_columns == EXPECTED["output_columns"]
    assert fitted.baseline_ is not None and fitted.baseline_["rows"] == 2000


def test_golden_artifact_gives_the_recorded_outputs_on_both_paths():
    fitted = fk.load(GOLDEN)
    rows = _rows()
    assert len(rows) == 20
    got = fitted.transform_rows(rows)
    for i, (g, e) in enumerate(zip(got, EXPECTED["outputs"])):
        assert list(g) == EXPECTED["output_columns"] and set(e) == set(g), i
        bad = {k: (g[k], e[k]) for k in e if not _same(g[k], e[k])}
        assert not bad, f"row {i}: {bad}"
    frame = fitted.transform(rows)
    for i, e in enumerate(EXPECTED["outputs"]):
        for k, v in e.items():
            b = frame[k].iloc[i]
            if v is None:
                assert b is None or b != b or str(b) in ("<NA>", "NaT"), (i, k, b)
            elif isinstance(v, float):
                assert (math.isnan(v) and math.isnan(b)) or float(b) == v, (i, k, b, v)
            else:
                assert b == v, (i, k, b, v)


def test_golden_artifact_as_an_archive_gives_the_same_transform(tmp_path):
    fitted = fk.load(GOLDEN)
    path = fitted.save(tmp_path / "golden.fkit")
    again = fk.load(path, expect=EXPECTED["pin"])
    assert again.fingerprint == fitted.fingerprint
    assert again.baseline_ == fitted.baseline_


def test_an_artifact_without_a_baseline_still_loads(tmp_path):
    """Artifacts saved before baseline.json existed list only spec.json and state.json."""
    from featurekit.artifact.manifest import manifest_digest

    target = tmp_path / "old"
    shutil.copytree(GOLDEN, target)
    (target / "baseline.json").unlink()
    manifest = json.loads((target / "manifest.json").read_text())
    del manifest["files"]["baseline.json"]
    manifest["manifest_sha256"] = manifest_digest(manifest)
    (target / "manifest.json").write_text(json.dumps(manifest))
    fitted = fk.load(target, expect=EXPECTED["pin"])
    assert fitted.baseline_ is None
    assert fitted.transform_rows(_rows()[:3]) == fk.load(GOLDEN).transform_rows(_rows()[:3])
