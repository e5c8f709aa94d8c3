"""The single-file ``.fkit`` archive: round trip, and tampering refused with the entry named."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

import featurekit as fk
from featurekit.datasets import make_churn, to_rows

ROOT = Path(__file__).resolve().parents[2]
ENTRIES = ("manifest.json", "spec.json", "state.json", "baseline.json", "golden.json")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    fitted = fk.load_spec(ROOT / "specs" / "churn.yaml").fit(make_churn(2_000, seed=11))
    path = fitted.save(tmp_path_factory.mktemp("a") / "churn.fkit")
    return fitted, Path(path)


def _entries(path: Path) -> list[tuple[zipfile.ZipInfo, bytes]]:
    with zipfile.ZipFile(path) as zf:
        return [(info, zf.read(info)) for info in zf.infolist()]


def _write(path: Path, entries, compression=zipfile.ZIP_STORED) -> Path:
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for name, data in entries:
            if isinstance(name, zipfile.ZipInfo):
                zf.writestr(name, data)
            else:
                zf.writestr(name, data)
    return path


def _named(saved) -> list[tuple[str, bytes]]:
    return [(info.filename, data) for info, data in _entries(saved[1])]


def test_archive_round_trip(saved):
    fitted, path = saved
    assert path.is_file() and zipfile.is_zipfile(path)
    infos = [info for info, _ in _entries(path)]
    assert sorted(i.filename for i in infos) == sorted(ENTRIES)
    assert all(i.compress_type == zipfile.ZIP_STORED for i in infos)
    loaded = fk.load(path, expect=fitted.pin)
    assert loaded.fingerprint == fitted.fingerprint and loaded.baseline_ == fitted.baseline_
    rows = to_rows(make_churn(200, seed=3, evaluation=True))
    assert repr(loaded.transform_rows(rows)) == repr(fitted.transform_rows(rows))


def test_archive_and_directory_hold_the_same_files(saved, tmp_path):
    fitted, path = saved
    d = Path(fitted.save(tmp_path / "dir"))
    archived = dict(_named(saved))
    for name in ENTRIES:
        if name != "manifest.json":  # creation time differs
            assert (d / name).read_bytes() == archived[name]


def test_saving_an_archive_twice_replaces_it(saved, tmp_path):
    fitted, _ = saved
    p = tmp_path / "x.fkit"
    fitted.save(p)
    fitted.save(p)
    assert fk.load(p).fingerprint == fitted.fingerprint
    (tmp_path / "other.fkit").write_text("precious")
    with pytest.raises(fk.ArtifactError, match="not a featurekit archive"):
        fitted.save(tmp_path / "other.fkit")
    assert (tmp_path / "other.fkit").read_text() == "precious"


@pytest.mark.parametrize("name", ENTRIES)
def test_a_flipped_byte_in_an_entry_is_refused_naming_it(saved, tmp_path, name):
    """Flip one byte inside the entry's data in the zip file itself (the CRC or hash catches it)."""
    _, path = saved
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(name)
    # local header: 30 bytes + name + extra, then the (stored) data
    n_len = int.from_bytes(raw[info.header_offset + 26 : info.header_offset + 28], "little")
    e_len = int.from_bytes(raw[info.header_offset + 28 : info.header_offset + 30], "little")
    start = info.header_offset + 30 + n_len + e_len
    raw[start + info.file_size // 2] ^= 0x01
    bad = tmp_path / "bad.fkit"
    bad.write_bytes(bytes(raw))
    with pytest.raises(fk.ArtifactError, match=name.replace(".", r"\.")):
        fk.load(bad)


@pytest.mark.parametrize("name", ENTRIES)
def test_altered_content_with_a_valid_crc_is_refused_naming_it(saved, tmp_path, name):
    entries = _named(saved)
    entries = [(n, d.replace(b"1", b"2", 1) if n == name else d) for n, d in entries]
    bad = _write(tmp_path / "bad.fkit", entries)
    with pytest.raises(fk.ArtifactError, match=name.replace(".", r"\.")):
        fk.load(bad)


@pytest.mark.parametrize("name", ENTRIES)
def test_a_missing_entry_is_refused_naming_it(saved, tmp_path, name):
    bad = _write(tmp_path / "bad.fkit", [(n, d) for n, d in _named(saved) if n != name])
    with pytest.raises(fk.ArtifactError, match=name.replace(".", r"\.")):
        fk.load(bad)


def test_an_added_entry_is_refused_naming_it(saved, tmp_path):
    bad = _write(tmp_path / "bad.fkit", _named(saved) + [("code.pkl", b"\x80\x04cos\nsystem\n.")])
    with pytest.raises(fk.ArtifactError, match=r"unexpected file\(s\) \['code.pkl'\]"):
        fk.load(bad)


@pytest.mark.parametrize(
    "evil",
    [
        "../x",
        "../state.json",
        "/etc/passwd",
        "sub/state.json",
        "sub\\state.json",
        "sub/",
        "./state.json",
        "C:state.json",
    ],
)
def test_an_entry_with_a_path_is_refused_naming_it(saved, tmp_path, evil):
    bad = _write(tmp_path / "bad.fkit", _named(saved) + [(evil, b"{}")])
    with pytest.raises(fk.ArtifactError, match="archive entry") as info:
        fk.load(bad)
    # zipfile normalises some names when writing; the refused entry is named as stored
    with zipfile.ZipFile(bad) as zf:
        stored = zf.infolist()[-1].filename
    assert repr(stored) in str(info.value)


def test_a_renamed_entry_is_refused(saved, tmp_path):
    entries = [("state2.json" if n == "state.json" else n, d) for n, d in _named(saved)]
    bad = _write(tmp_path / "bad.fkit", entries)
    with pytest.raises(fk.ArtifactError, match="state"):
        fk.load(bad)


def test_a_duplicate_entry_is_refused_naming_it(saved, tmp_path):
    entries = _named(saved)
    state = dict(entries)["state.json"]
    bad = tmp_path / "bad.fkit"
    with pytest.warns(UserWarning, match="Duplicate name"):
        _write(bad, entries + [("state.json", state)])
    with pytest.raises(fk.ArtifactError, match="archive entry 'state.json' appears more than once"):
        fk.load(bad)


def test_a_symlink_entry_is_refused_naming_it(saved, tmp_path):
    entries = [(n, d) for n, d in _named(saved) if n != "state.json"]
    link = zipfile.ZipInfo("state.json")
    link.external_attr = 0o120777 << 16
    bad = _write(tmp_path / "bad.fkit", entries + [(link, b"/etc/passwd")])
    with pytest.raises(fk.ArtifactError, match="archive entry 'state.json' is a link"):
        fk.load(bad)


@pytest.fixture
def reads(monkeypatch):
    """Counts every read of entry data (``ZipFile.read`` goes through ``ZipFile.open``)."""
    calls: list[str] = []
    real = zipfile.ZipFile.open

    def counting_open(self, name, *args, **kwargs):
        calls.append(getattr(name, "filename", name))
        return real(self, name, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", counting_open)
    return calls


def _refused_unread(path: Path, reads: list[str], match: str) -> str:
    reads.clear()  # the test's own set-up may have read entries
    with pytest.raises(fk.ArtifactError, match=match) as info:
        fk.load(path)
    assert reads == [], f"entry data was read before the refusal: {reads}"
    assert "Fix:" in str(info.value)
    return str(info.value)


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA])
def test_a_compressed_archive_is_refused_before_any_entry_is_read(saved, tmp_path, reads, method):
    """eb81d53 inflated every entry first (a 3 MB archive cost 4.2 GiB of RSS): only stored entries load."""
    bad = _write(tmp_path / "compressed.fkit", _named(saved), compression=method)
    _refused_unread(bad, reads, rf"archive entry 'manifest\.json' is compressed \(zip method {method}\)")


def test_a_compression_bomb_entry_is_refused_unread(saved, tmp_path, reads):
    """A 64 MiB state.json deflated to ~64 KiB, after the real entries."""
    entries = [(n, d) for n, d in _named(saved) if n != "state.json"]
    bad = _write(tmp_path / "bomb.fkit", entries)
    with zipfile.ZipFile(bad, "a") as zf:
        zf.writestr(zipfile.ZipInfo("state.json"), bytes(64 << 20), compress_type=zipfile.ZIP_DEFLATED)
    assert bad.stat().st_size < 1 << 20
    _refused_unread(bad, reads, r"archive entry 'state\.json' is compressed")


@pytest.mark.parametrize("method", [zipfile.ZIP_DEFLATED, zipfile.ZIP_LZMA])
def test_a_corrupt_compressed_entry_is_an_artifact_error(saved, tmp_path, method):
    """eb81d53 let a raw zlib.error / LZMAError escape."""
    good = _write(tmp_path / "good.fkit", _named(saved), compression=method)
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo("state.json")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start : start + 64] = bytes(range(64))  # garbage where the compressed stream starts
    bad = tmp_path / "bad.fkit"
    bad.write_bytes(bytes(data))
    with pytest.raises(fk.ArtifactError, match="is compressed"):
        fk.load(bad)


def test_an_unknown_entry_is_refused_before_the_others_are_read(saved, tmp_path, reads):
    bad = _write(tmp_path / "bad.fkit", _named(saved) + [("payload.bin", bytes(1000))])
    _refused_unread(bad, reads, r"archive entry 'payload\.bin' is an unexpected file")


def test_declared_sizes_over_the_total_cap_are_refused_unread(saved, tmp_path, reads, monkeypatch):
    """The cap is on all entries together: each one under it is not enough."""
    from featurekit.artifact import load as load_mod

    sizes = {n: len(d) for n, d in _named(saved)}
    monkeypatch.setattr(load_mod, "MAX_ARCHIVE_BYTES", sum(sizes.values()) - 1)
    assert max(sizes.values()) < load_mod.MAX_ARCHIVE_BYTES
    message = _refused_unread(saved[1], reads, "over the .*-byte cap")
    assert repr(list(sizes)[-1]) in message


def _patch_central_record(path: Path, name: str, offset: int, value: bytes) -> Path:
    """Overwrite bytes of ``name``'s central-directory record (the listing checked before reading)."""
    data = bytearray(path.read_bytes())
    at = data.index(b"PK\x01\x02")
    while data[at + 46 : at + 46 + len(name)] != name.encode():
        at = data.index(b"PK\x01\x02", at + 4)
    data[at + offset : at + offset + len(value)] = value
    out = path.with_name(f"patched-{offset}.fkit")
    out.write_bytes(bytes(data))
    return out


def test_a_size_mismatch_or_an_encrypted_entry_is_refused_unread(saved, tmp_path, reads):
    good = _write(tmp_path / "good.fkit", _named(saved))
    with zipfile.ZipFile(good) as zf:
        size = zf.getinfo("state.json").file_size
    bigger = _patch_central_record(good, "state.json", 24, (size + 10**9).to_bytes(4, "little"))
    _refused_unread(bigger, reads, rf"archive entry 'state\.json' declares {size + 10**9} bytes but stores {size}")
    encrypted = _patch_central_record(good, "spec.json", 8, b"\x01")
    _refused_unread(encrypted, reads, r"archive entry 'spec\.json' is encrypted")


def test_not_a_zip_is_refused(tmp_path):
    bad = tmp_path / "junk.fkit"
    bad.write_bytes(b"not a zip")
    with pytest.raises(fk.ArtifactError, match="not a readable .fkit archive"):
        fk.load(bad)
    with pytest.raises(fk.ArtifactError, match="no such artifact archive"):
        fk.load(tmp_path / "missing.fkit")


def test_loading_an_archive_imports_neither_numpy_nor_pandas(saved):
    import subprocess
    import sys

    code = (
        "import sys, featurekit as fk; f = fk.load(sys.argv[1]); assert f.baseline_; "
        "bad = [m for m in ('numpy', 'pandas') if m in sys.modules]; assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code, str(saved[1])], check=True, cwd=ROOT)
