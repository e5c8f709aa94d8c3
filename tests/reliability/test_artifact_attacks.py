"""Artifact attacks not covered by tests/core/test_artifact.py and tests/artifact/.

Truncation of every file, pickles smuggled into the JSON slots, a manifest that claims trust
or lists code.pkl, a ``__reduce__`` payload in code.pkl loaded without trust (no side effect),
symlinked entries (the directory itself, a manifest), and huge files.
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
from pathlib import Path

import pytest

import featurekit as fk
from featurekit.artifact.manifest import manifest_digest
from featurekit.values.hashing import sha256_hex

from ._common import COUNTS, churn_fitted

MARKER_NAME = "pwned-by-code-pkl"


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    return Path(churn_fitted().save(tmp_path_factory.mktemp("a") / "churn"))


@pytest.fixture
def copy(saved, tmp_path):
    target = tmp_path / "copy"
    shutil.copytree(saved, target)
    return target


def _files(path: Path) -> list[str]:
    return sorted(p.name for p in path.iterdir())


def _rehash(path: Path, **changes) -> None:
    """An attacker who can write the directory: rewrite files, then every hash to match."""
    manifest = json.loads((path / "manifest.json").read_text())
    manifest.update(changes)
    manifest["files"] = {n: sha256_hex((path / n).read_bytes()) for n in manifest["files"]}
    manifest["manifest_sha256"] = manifest_digest(manifest)
    (path / "manifest.json").write_text(json.dumps(manifest))


class Payload:
    """Unpickling this creates a marker file: the side effect we must never see."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (Path.write_text, (Path(self.marker), "pwned"))


def _load_refused(path: Path, **kw) -> fk.ArtifactError:
    COUNTS["artifact attacks"] += 1
    with pytest.raises(fk.ArtifactError) as info:
        fk.load(path, **kw)
    assert "Fix:" in str(info.value) or isinstance(info.value, fk.UntrustedCodeError)
    return info.value


@pytest.mark.parametrize("keep", [0, 1, 0.5, 0.99, -1])
def test_every_file_truncated_is_refused_naming_it(saved, tmp_path, keep):
    for name in _files(saved):
        target = tmp_path / f"{name}-{keep}"
        shutil.copytree(saved, target)
        data = (target / name).read_bytes()
        n = (
            keep
            if isinstance(keep, int) and keep >= 0
            else len(data) + keep
            if isinstance(keep, int)
            else int(len(data) * keep)
        )
        (target / name).write_bytes(data[:n])
        err = _load_refused(target)
        assert name in str(err) or "manifest.json" in str(err), str(err)


@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, -1])
def test_a_truncated_archive_is_refused(saved, tmp_path, keep):
    archive = Path(churn_fitted().save(tmp_path / "churn.fkit"))
    data = archive.read_bytes()
    archive.write_bytes(data[: int(len(data) * keep) if keep > 0 else len(data) + keep])
    _load_refused(archive)


@pytest.mark.parametrize("slot", ["state.json", "spec.json", "baseline.json"])
@pytest.mark.parametrize("protocol", [0, 2, 5])
def test_a_pickle_smuggled_into_a_json_slot_is_refused_and_never_run(copy, tmp_path, slot, protocol):
    marker = tmp_path / MARKER_NAME
    if not (copy / slot).exists():
        pytest.skip(f"no {slot}")
    (copy / slot).write_bytes(pickle.dumps(Payload(str(marker)), protocol=protocol))
    _rehash(copy)  # hashes now match: only parsing can refuse it
    err = _load_refused(copy)
    assert slot in str(err), str(err)
    assert not marker.exists()


def test_json_that_looks_like_a_pickled_state_is_refused(copy):
    (copy / "state.json").write_text(json.dumps({"__pickle__": "gASVAAAAAAAAAAAu", "py/reduce": ["os.system", "id"]}))
    _rehash(copy)
    err = _load_refused(copy)
    assert "state.json" in str(err) or "fingerprint" in str(err)


@pytest.mark.parametrize("claim", [{"trusted": True}, {"trust_code": True}, {"signed_by": "featurekit"}])
def test_a_manifest_claiming_trust_with_code_pkl_is_refused_without_unpickling(copy, tmp_path, claim):
    marker = tmp_path / MARKER_NAME
    (copy / "code.pkl").write_bytes(pickle.dumps({"evil": Payload(str(marker))}))
    manifest = json.loads((copy / "manifest.json").read_text())
    files = dict(manifest["files"], **{"code.pkl": ""})
    _rehash(copy, files=files, udfs={"evil": "0" * 64}, **claim)
    err = _load_refused(copy)  # trust_code defaults to False
    assert isinstance(err, fk.UntrustedCodeError) and "trust_code=True" in str(err)
    assert not marker.exists()


def test_code_pkl_listed_without_udfs_is_refused_without_unpickling(copy, tmp_path):
    marker = tmp_path / MARKER_NAME
    (copy / "code.pkl").write_bytes(pickle.dumps(Payload(str(marker))))
    manifest = json.loads((copy / "manifest.json").read_text())
    _rehash(copy, files=dict(manifest["files"], **{"code.pkl": ""}), trusted=True)
    err = _load_refused(copy, trust_code=True)  # even a trusting caller: nothing asks for code
    assert "manifest lists files" in str(err)
    assert not marker.exists()


def test_a_reduce_payload_in_code_pkl_never_runs_without_trust(copy, tmp_path, monkeypatch):
    marker = tmp_path / MARKER_NAME
    calls = []
    import cloudpickle

    real = cloudpickle.loads
    monkeypatch.setattr(cloudpickle, "loads", lambda *a, **k: calls.append(1) or real(*a, **k))
    monkeypatch.setattr(pickle, "loads", lambda *a, **k: calls.append(1) or real(*a, **k))
    (copy / "code.pkl").write_bytes(cloudpickle.dumps({"evil": (Payload(str(marker)), None, "float", None)}))
    manifest = json.loads((copy / "manifest.json").read_text())
    _rehash(copy, files=dict(manifest["files"], **{"code.pkl": ""}), udfs={"evil": "f" * 64})
    for _ in range(3):
        _load_refused(copy)
    assert calls == [] and not marker.exists()


def test_a_symlinked_artifact_directory_entry_is_refused(saved, tmp_path):
    """Every entry replaced by a link to an identical file elsewhere: each is refused by name."""
    for name in _files(saved):
        target = tmp_path / f"link-{name}"
        shutil.copytree(saved, target)
        real = tmp_path / f"real-{name}"
        shutil.copy(target / name, real)
        (target / name).unlink()
        (target / name).symlink_to(real)
        err = _load_refused(target)
        assert name in str(err) and "link" in str(err), str(err)


def test_a_symlink_to_a_directory_or_a_fifo_inside_the_artifact_is_refused(copy, tmp_path):
    (copy / "extra").symlink_to(tmp_path)
    assert "unexpected file" in str(_load_refused(copy))
    (copy / "extra").unlink()
    (copy / "state.json").unlink()
    os.mkfifo(copy / "state.json")  # reading it would block forever
    assert "state.json" in str(_load_refused(copy))


def test_a_symlinked_artifact_root_loads_the_same_verified_files(saved, tmp_path):
    """A link to the whole directory (a common deploy layout) is followed, still hash-checked."""
    link = tmp_path / "current"
    link.symlink_to(saved, target_is_directory=True)
    assert fk.load(link).fingerprint == churn_fitted().fingerprint


@pytest.mark.parametrize("name", ["state.json", "spec.json"])
def test_a_huge_file_is_refused_unread(copy, name, monkeypatch):
    """Refused from its size before its bytes are read (no timing asserted)."""
    with open(copy / name, "ab") as fh:  # sparse: 1 GiB of zeros appended (over the cap)
        fh.truncate((copy / name).stat().st_size + (1 << 30) + 1)
    read, real = [], Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda self: read.append(self.name) or real(self))
    err = _load_refused(copy)
    assert name in str(err) and "too large" in str(err)
    assert name not in read


def test_huge_json_with_a_matching_hash_is_refused_without_hanging(copy):
    """Deeply nested / huge-number JSON with valid hashes: an ArtifactError, never a crash."""
    for text in ["[" * 200_000 + "]" * 200_000, '{"x": ' + "9" * 100_000 + "}", '{"x": 1e999999}']:
        (copy / "state.json").write_text(text)
        _rehash(copy)
        _load_refused(copy)
