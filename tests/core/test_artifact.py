"""Artifacts: round trip, and every kind of tampering refused with the file named."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import featurekit as fk
from featurekit.datasets import make_churn, to_rows

ROOT = Path(__file__).resolve().parents[2]
FILES = ("manifest.json", "spec.json", "state.json")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    fitted = fk.load_spec(ROOT / "specs" / "churn.yaml").fit(make_churn(3_000, seed=8))
    path = fitted.save(tmp_path_factory.mktemp("a") / "churn")
    return fitted, Path(path)


@pytest.fixture
def copy(saved, tmp_path):
    _, path = saved
    target = tmp_path / "copy"
    shutil.copytree(path, target)
    return target


def test_round_trip_gives_the_same_transform(saved):
    fitted, path = saved
    loaded = fk.load(path)
    assert loaded.fingerprint == fitted.fingerprint
    assert loaded.row_source == fitted.row_source
    rows = to_rows(make_churn(500, seed=9, evaluation=True))
    assert repr(loaded.transform_rows(rows)) == repr(fitted.transform_rows(rows))


def test_state_is_strict_json(saved):
    _, path = saved
    text = (path / "state.json").read_text()
    json.loads(text, parse_constant=lambda name: pytest.fail(f"bare {name} in state.json"))


@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("where", [0.1, 0.5, 0.9])
def test_a_flipped_byte_in_any_file_is_refused_naming_it(copy, name, where):
    path = copy / name
    data = bytearray(path.read_bytes())
    i = int(len(data) * where)
    data[i] = (data[i] + 1) % 256 if chr(data[i]) not in '"{}' else data[i] ^ 0x20
    path.write_bytes(bytes(data))
    with pytest.raises(fk.ArtifactError) as info:
        fk.load(copy)
    assert "manifest.json" in str(info.value) or name in str(info.value)


@pytest.mark.parametrize("name", FILES)
def test_a_missing_file_is_refused(copy, name):
    (copy / name).unlink()
    with pytest.raises(fk.ArtifactError, match=name.replace(".", r"\.")):
        fk.load(copy)


def test_an_extra_file_is_refused(copy):
    (copy / "code.pkl").write_bytes(b"\x80\x04cos\nsystem\n.")
    with pytest.raises(fk.ArtifactError, match="unexpected file"):
        fk.load(copy)


def test_a_renamed_file_is_refused(copy):
    os.rename(copy / "state.json", copy / "state2.json")
    with pytest.raises(fk.ArtifactError):
        fk.load(copy)


def test_a_symlinked_file_is_refused(copy, tmp_path):
    outside = tmp_path / "outside.json"
    outside.write_bytes((copy / "state.json").read_bytes())
    (copy / "state.json").unlink()
    (copy / "state.json").symlink_to(outside)
    with pytest.raises(fk.ArtifactError, match="state.json is missing \\(or is a link\\)"):
        fk.load(copy)


def _rewrite_manifest(path: Path, **changes) -> None:
    from featurekit.artifact.manifest import manifest_digest

    manifest = json.loads((path / "manifest.json").read_text())
    manifest.update(changes)
    manifest["manifest_sha256"] = manifest_digest(manifest)
    (path / "manifest.json").write_text(json.dumps(manifest))


def test_a_manifest_claiming_trust_or_path_traversal_has_no_effect(copy):
    _rewrite_manifest(copy, trusted=True, files={"../../etc/passwd": "0" * 64})
    with pytest.raises(fk.ArtifactError, match="manifest lists files"):
        fk.load(copy)


def test_an_unknown_future_format_names_both_versions(copy):
    _rewrite_manifest(copy, format_version=99)
    with pytest.raises(fk.ArtifactError, match=r"format version 99 is not supported .*\(reads 1\)"):
        fk.load(copy)


def test_another_major_featurekit_version_is_refused(copy):
    _rewrite_manifest(copy, libraries={"featurekit": "7.0.0"})
    with pytest.raises(fk.ArtifactError, match="featurekit 7.0.0"):
        fk.load(copy)


def test_loading_never_unpickles(copy, monkeypatch):
    import pickle

    def refuse(*args, **kwargs):
        raise AssertionError("pickle used on load")

    monkeypatch.setattr(pickle, "loads", refuse)
    monkeypatch.setattr(pickle, "load", refuse)
    fk.load(copy)


def test_saving_over_an_unrelated_directory_is_refused(saved, tmp_path):
    fitted, _ = saved
    (tmp_path / "mine.txt").write_text("precious")
    with pytest.raises(fk.ArtifactError, match="not a featurekit artifact"):
        fitted.save(tmp_path)
    assert (tmp_path / "mine.txt").read_text() == "precious"
