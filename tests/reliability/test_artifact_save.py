"""Issue 17 item 1: ``save(dir)`` never deletes what is not its own and swaps atomically.

At eb81d53 a folder holding any ``manifest.json`` lost every file, and re-saving over an
artifact with a sub-folder deleted manifest/spec/state, raised ``IsADirectoryError`` and left a
``.fk-save-*`` folder. Crashes are simulated in a real subprocess (``os._exit``) at each step.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import featurekit as fk
from featurekit.artifact import save as save_mod

from ._common import ROOT, churn_fitted


@pytest.fixture(scope="module")
def fitted():
    return churn_fitted()


@pytest.fixture(scope="module")
def other(fitted):
    """A second transform (other state) to re-save over the first."""
    from featurekit.datasets import make_churn

    return fitted.spec.fit(make_churn(500, seed=5))


def _listing(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): (p.read_bytes() if p.is_file() else b"<dir>") for p in sorted(folder.rglob("*"))
    }


def _save_refused(fitted, target: Path, *named: str) -> str:
    before = _listing(target.parent)
    with pytest.raises(fk.ArtifactError) as info:
        fitted.save(target)
    message = str(info.value)
    assert "Fix:" in message and all(repr(n) in message for n in named), message
    assert _listing(target.parent) == before  # nothing deleted, nothing left behind
    return message


@pytest.mark.parametrize(
    "manifest",
    [
        '{"metadata": {"dbt_schema_version": "v12"}, "nodes": {}}',  # dbt target/
        '{"name": "My App", "start_url": "/", "icons": []}',  # a web app manifest
        '{"format": "featurekit-artifact"}',  # looks like ours but lists no files
        "not json",
        "",
    ],
)
def test_a_folder_with_a_foreign_manifest_is_refused_and_kept(fitted, tmp_path, manifest):
    target = tmp_path / "target"
    target.mkdir()
    (target / "manifest.json").write_text(manifest)
    (target / "run_results.json").write_text("{}")
    message = _save_refused(fitted, target, "manifest.json", "run_results.json")
    assert "not a featurekit artifact" in message


def test_a_non_empty_folder_without_a_manifest_and_a_file_are_refused(fitted, tmp_path):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "train.csv").write_text("a,b\n")
    _save_refused(fitted, tmp_path / "data", "train.csv")
    (tmp_path / "plain").write_text("x")
    assert "not a directory" in _save_refused(fitted, tmp_path / "plain")


@pytest.mark.parametrize("extra", ["sub", "notes.txt", "link"])
def test_an_artifact_holding_anything_unlisted_is_refused_naming_it(fitted, tmp_path, extra):
    target = Path(fitted.save(tmp_path / "a"))
    if extra == "sub":
        (target / "sub").mkdir()
        (target / "sub" / "keep.txt").write_text("mine")
    elif extra == "link":
        (target / "link").symlink_to(tmp_path)
    else:
        (target / extra).write_text("mine")
    _save_refused(fitted, target, extra)
    assert (target / "manifest.json").is_file() and (target / "state.json").is_file()


def test_a_listed_name_that_is_a_folder_is_refused(fitted, tmp_path):
    target = Path(fitted.save(tmp_path / "a"))
    (target / "state.json").unlink()
    (target / "state.json").mkdir()
    _save_refused(fitted, target, "state.json")


def test_resaving_replaces_the_artifact_and_leaves_nothing_beside(fitted, other, tmp_path):
    target = tmp_path / "a"
    fitted.save(target)
    other.save(target)
    assert fk.load(target).fingerprint == other.fingerprint
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]
    (tmp_path / "empty").mkdir()
    fitted.save(tmp_path / "empty")
    assert fk.load(tmp_path / "empty").fingerprint == fitted.fingerprint


@pytest.mark.parametrize("fail", ["exchange", "first-rename", "second-rename"])
def test_a_failing_rename_leaves_the_old_artifact_and_no_staging(fitted, other, tmp_path, monkeypatch, fail):
    """The exchange, or either rename of the fallback (a kernel without renameat2), fails."""
    target = Path(fitted.save(tmp_path / "a"))
    if fail == "exchange":

        def exchange(a, b):
            raise OSError(5, "I/O error (injected)")
    else:

        def exchange(a, b):
            return False

        real, calls = save_mod.os.replace, []

        def replace(src, dst):
            calls.append(src)
            if len(calls) == ("first-rename", "second-rename").index(fail) + 1:
                raise OSError(5, "I/O error (injected)")
            real(src, dst)

        monkeypatch.setattr(save_mod.os, "replace", replace)
    monkeypatch.setattr(save_mod, "_rename_exchange", exchange)
    with pytest.raises(OSError, match="injected"):
        other.save(target)
    monkeypatch.undo()
    assert fk.load(target).fingerprint == fitted.fingerprint
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a"]


CRASH = """
import os, sys
import featurekit as fk
from featurekit.artifact import save as s
from tests.reliability._common import churn_fitted
from featurekit.datasets import make_churn
point, target = sys.argv[1], sys.argv[2]
other = churn_fitted().spec.fit(make_churn(500, seed=5))
print(other.fingerprint, flush=True)
if point == "writing":
    s.os.fsync = lambda fd: os._exit(9)
elif point == "swapped":
    s._remove_artifact = lambda path: os._exit(9)
other.save(target)
"""


@pytest.mark.parametrize("point", ["writing", "swapped"])
def test_a_crash_at_any_point_leaves_a_loadable_artifact(fitted, tmp_path, point):
    target = Path(fitted.save(tmp_path / "a"))
    proc = subprocess.run(
        [sys.executable, "-c", CRASH, point, str(target)], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 9, proc.stderr
    new = proc.stdout.split()[0]
    loaded = fk.load(target).fingerprint
    assert loaded == (fitted.fingerprint if point == "writing" else new)
    # a killed process cannot clean up: its staging folder (new or old files) stays beside, never inside
    assert all(p.name == "a" or p.name.startswith(".fk-save-") for p in tmp_path.iterdir())
    assert json.loads((target / "manifest.json").read_text())["format"] == "featurekit-artifact"


def test_the_swap_is_one_exchange_on_linux(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "x").write_text("a")
    (b / "x").write_text("b")
    if not save_mod._rename_exchange(a, b):
        pytest.skip("this kernel or file system has no renameat2(RENAME_EXCHANGE)")
    assert (a / "x").read_text() == "b" and (b / "x").read_text() == "a"
