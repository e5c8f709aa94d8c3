"""Every broken spec under tests/specs/bad fails with exactly its reviewed message.

Each ``tests/specs/bad/<name>.yaml`` starts with a comment saying why it must fail; the
expected ``str(SpecError)`` is in ``tests/snapshots/bad_specs/<name>.txt``. Run with
``FEATUREKIT_UPDATE_SNAPSHOTS=1`` to rewrite the snapshots, then review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from featurekit.errors import SpecError
from featurekit.spec.load_yaml import load_spec

ROOT = Path(__file__).resolve().parent.parent
BAD = ROOT / "tests" / "specs" / "bad"
SNAPSHOTS = ROOT / "tests" / "snapshots" / "bad_specs"
UPDATE = os.environ.get("FEATUREKIT_UPDATE_SNAPSHOTS") == "1"
BAD_SPECS = sorted(p.stem for p in BAD.glob("*.yaml"))

# specs whose error is about one feature: the error must carry that feature's name
EXPECTED_FEATURE = {
    "attribute_access": "l",
    "bad_param_choice": "a",
    "bad_param_type": "h",
    "bool_arithmetic": "b",
    "comprehension": "c",
    "deep_nesting": "deep",
    "dunder_import": "c",
    "dunder_name": "c",
    "empty_expression": "b",
    "feature_cycle": "a",
    "fstring": "c",
    "huge_expression": "big",
    "lambda": "l",
    "missing_required_param": "h",
    "multi_column_feature_ref": "q",
    "one_hot_column_clash": "p",
    "parse_timestamp_unknown_zone": "t",
    "multi_column_in_expr": "p",
    "name_clash": "x",
    "null_literal": "a",
    "param_not_literal": "a",
    "param_out_of_range": "c",
    "subscript": "c",
    "type_error_str_arith": "l",
    "unknown_input": "bad",
    "unknown_op": "bad",
    "unknown_param": "c",
    "walrus": "a",
    "wrong_arg_count": "e",
    "approx_out_of_range": "q",
    "approx_without_fitted_bounds": "c",
    "approx_with_mean_strategy": "m",
    "bounded_below_top_k": "v",
}


def _load_error(name: str, monkeypatch: pytest.MonkeyPatch) -> SpecError:
    monkeypatch.chdir(ROOT)  # messages name the file relative to the repository root
    with pytest.raises(SpecError) as info:
        load_spec(Path("tests/specs/bad") / f"{name}.yaml")
    return info.value


def test_there_are_enough_bad_specs() -> None:
    assert len(BAD_SPECS) >= 20
    assert set(EXPECTED_FEATURE) <= set(BAD_SPECS)


@pytest.mark.parametrize("name", BAD_SPECS)
def test_bad_spec_starts_with_reason(name: str) -> None:
    first = (BAD / f"{name}.yaml").read_text(encoding="utf-8").splitlines()[0]
    assert first.startswith("# must fail: ") and len(first) > 20, first


@pytest.mark.parametrize("name", BAD_SPECS)
def test_bad_spec_message_matches_snapshot(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    err = _load_error(name, monkeypatch)
    text = str(err)
    snapshot = SNAPSHOTS / f"{name}.txt"
    if UPDATE:
        snapshot.parent.mkdir(parents=True, exist_ok=True)
        snapshot.write_text(text + "\n", encoding="utf-8")
    assert snapshot.exists(), f"no snapshot for {name}; run with FEATUREKIT_UPDATE_SNAPSHOTS=1 and review"
    assert text == snapshot.read_text(encoding="utf-8").rstrip("\n")


@pytest.mark.parametrize("name", BAD_SPECS)
def test_bad_spec_error_fields(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    err = _load_error(name, monkeypatch)
    path = f"tests/specs/bad/{name}.yaml"
    assert err.spec_path == path
    assert isinstance(err.line, int) and err.line >= 1
    assert str(err).startswith(f"{path}:{err.line}: ")
    assert "\n  Fix: " in str(err) and err.fix
    assert err.feature == EXPECTED_FEATURE.get(name)
    if err.feature is not None:
        assert f"feature {err.feature!r}" in str(err)
    # the reported line is inside the file and, for feature errors, is the feature's own line
    lines = (BAD / f"{name}.yaml").read_text(encoding="utf-8").splitlines()
    assert err.line <= len(lines)
    if err.feature is not None:
        assert lines[err.line - 1].lstrip().startswith(f"{err.feature}:")


def test_every_snapshot_has_a_spec() -> None:
    orphans = sorted(p.stem for p in SNAPSHOTS.glob("*.txt") if p.stem not in BAD_SPECS)
    assert not orphans, f"snapshots without a bad spec: {orphans}"
