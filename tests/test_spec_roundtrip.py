"""Spec round trip and fingerprint stability.

``spec_from_yaml(spec.to_yaml())`` gives an equal spec with the same fingerprints; the
fingerprint ignores formatting (key order, whitespace, comments, ``0`` vs ``0.0`` params,
param order) and changes with any change of logic, and only for the features affected.
``tests/snapshots/churn_fingerprint.txt`` pins the reference spec's fingerprint
(``FEATUREKIT_UPDATE_SNAPSHOTS=1`` rewrites it; review the diff).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from featurekit.spec.load_yaml import load_spec, spec_from_yaml

ROOT = Path(__file__).resolve().parent.parent
GOOD = sorted((ROOT / "tests" / "specs" / "good").glob("*.yaml"))
CHURN = ROOT / "specs" / "churn.yaml"
CHURN_SNAPSHOT = ROOT / "tests" / "snapshots" / "churn_fingerprint.txt"
UPDATE = os.environ.get("FEATUREKIT_UPDATE_SNAPSHOTS") == "1"
ALL_SPECS = GOOD + [CHURN]


def test_there_are_good_specs() -> None:
    assert len(GOOD) >= 3


@pytest.mark.parametrize("path", ALL_SPECS, ids=lambda p: p.stem)
def test_round_trip_gives_equal_spec(path: Path) -> None:
    spec = load_spec(path)
    text = spec.to_yaml()
    again = spec_from_yaml(text)
    assert again == spec
    assert again.fingerprint == spec.fingerprint
    assert again.feature_fingerprints == spec.feature_fingerprints
    assert again.output_features == spec.output_features
    assert again.to_dict() == spec.to_dict()
    assert [f.source for f in again.features] == [f.source for f in spec.features]
    assert again.inputs == spec.inputs and again.constants == spec.constants
    assert again.to_yaml() == text  # writing is a fixed point after one round


@pytest.mark.parametrize("path", ALL_SPECS, ids=lambda p: p.stem)
def test_every_output_has_a_fingerprint(path: Path) -> None:
    spec = load_spec(path)
    fps = spec.feature_fingerprints
    assert list(fps) == spec.output_features
    assert len(set(fps.values())) == len(fps)  # names are part of each feature's fingerprint
    assert len(spec.fingerprint) == 64


def test_churn_fingerprint_snapshot() -> None:
    fp = load_spec(CHURN).fingerprint
    if UPDATE:
        CHURN_SNAPSHOT.write_text(fp + "\n", encoding="utf-8")
    assert CHURN_SNAPSHOT.read_text(encoding="utf-8").strip() == fp, (
        "the churn spec fingerprint changed: if intended, rerun with FEATUREKIT_UPDATE_SNAPSHOTS=1 "
        "and commit the reviewed snapshot"
    )


BASE = """\
featurekit: 1
name: fp
version: 1.0.0
constants:
  K: 50
inputs:
  x: {type: float, min: 0, max: 100, on_violation: clip}
  y: {type: float}
  n: {type: int}
  z: {type: str}
features:
  a: clip(x, lower=0, upper=10)
  b: log1p(a) + K
  c: zscore(y)
  d: n * 2
  e: round(y, decimals=1)
outputs: [a, b, c, d, e]
"""

# the same logic, written differently: key order, flow/block style, whitespace, comments,
# quoted version, 0 vs 0.0 params and bounds, parameter order
SAME = """\
# a comment before everything
version: "1.0.0"   # quoted
name: fp
featurekit: 1

inputs:
  z:
    type: str
  n:
    type: int        # an int
  y: {type: float}
  x: {on_violation: clip, max: 100.0, type: float, min: 0.0}
constants: {K: 50}
features:
  e: round( y , decimals = 1 )
  d:   n*2
  c: zscore(   y)
  b: "log1p(a)   +   K"
  a: clip(x, upper=10.0, lower=0.0)

outputs:
  - a
  - b
  - c
  - d
  - e
"""


def test_formatting_does_not_change_fingerprints() -> None:
    base, same = spec_from_yaml(BASE), spec_from_yaml(SAME)
    assert same.fingerprint == base.fingerprint
    assert same.feature_fingerprints == base.feature_fingerprints
    assert same == base


@pytest.mark.parametrize(
    "old,new",
    [
        ("lower=0, upper=10", "upper=10, lower=0"),
        ("lower=0, upper=10", "lower=0.0, upper=10.0"),
        ("lower=0, upper=10", "lower=0, upper=1e1"),
        # K only meets floats (log1p(a) + K), so it is promoted to 50.0 either way
        ("K: 50", "K: 50.0"),
        ("n * 2", "(n) * (2)"),
        ("n * 2", "+n * 2"),
        ("log1p(a) + K", "log1p(a)+K  # trailing comment"),
        ("min: 0, max: 100", "max: 100, min: 0"),
    ],
)
def test_equivalent_edits_keep_fingerprints(old: str, new: str) -> None:
    base = spec_from_yaml(BASE)
    assert old in BASE
    other = spec_from_yaml(BASE.replace(old, new, 1))
    assert other.fingerprint == base.fingerprint
    assert other.feature_fingerprints == base.feature_fingerprints


# (old, new, the features whose fingerprint must change); every edit changes the spec fingerprint
CHANGES = [
    pytest.param("log1p(a)", "log(a)", {"b"}, id="op"),
    pytest.param("upper=10", "upper=11", {"a", "b"}, id="param-feeds-referencing-feature"),
    pytest.param("decimals=1", "decimals=2", {"e"}, id="param"),
    pytest.param("lower=0,", "lower_pct=0,", {"a", "b"}, id="param-name"),
    pytest.param("K: 50", "K: 51", {"b"}, id="constant"),
    pytest.param("lower=0,", "lower=-0.0,", {"a", "b"}, id="negative-zero-param"),
    pytest.param("n * 2", "n * 3", {"d"}, id="literal"),
    pytest.param("n * 2", "2 * n", {"d"}, id="operand-order"),
    pytest.param("n: {type: int}", "n: {type: float}", {"d"}, id="input-type"),
    pytest.param("y: {type: float}", "y: {type: float, nullable: false}", {"c", "e"}, id="input-nullable"),
    pytest.param("min: 0,", "min: 1,", {"a", "b"}, id="input-min"),
    pytest.param("max: 100,", "max: 99,", {"a", "b"}, id="input-max"),
    pytest.param("on_violation: clip", "on_violation: 'null'", {"a", "b"}, id="input-on-violation"),
    pytest.param("on_violation: clip", "on_violation: default, default: 0", {"a", "b"}, id="input-default"),
    pytest.param("z: {type: str}", "z: {type: str, nullable: false}", set(), id="unused-input-contract"),
    pytest.param("z: {type: str}", "z: {type: str, values: ['a']}", set(), id="unused-input-values"),
    pytest.param("a: clip(x,", "a: clip(y,", {"a", "b"}, id="referenced-input"),
    pytest.param("b: log1p(a) + K", "b: log1p(c) + K", {"b"}, id="referenced-feature"),
    pytest.param("c: zscore(y)", "c: minmax(y)", {"c"}, id="analyzer-op"),
]


@pytest.mark.parametrize("old,new,changed", CHANGES)
def test_logic_changes_change_exactly_the_affected_fingerprints(old: str, new: str, changed: set) -> None:
    assert old in BASE
    base = spec_from_yaml(BASE)
    other = spec_from_yaml(BASE.replace(old, new, 1))
    assert other.fingerprint != base.fingerprint
    assert other != base
    before, after = base.feature_fingerprints, other.feature_fingerprints
    assert set(before) == set(after)
    differ = {name for name in before if before[name] != after[name]}
    assert differ == changed


def test_output_order_changes_only_the_spec_fingerprint() -> None:
    base = spec_from_yaml(BASE)
    other = spec_from_yaml(BASE.replace("outputs: [a, b, c, d, e]", "outputs: [e, d, c, b, a]"))
    assert other.fingerprint != base.fingerprint
    assert other.feature_fingerprints == base.feature_fingerprints


def test_dropping_an_output_drops_only_its_fingerprint() -> None:
    base = spec_from_yaml(BASE)
    other = spec_from_yaml(BASE.replace("outputs: [a, b, c, d, e]", "outputs: [a, b, c, d]"))
    assert other.fingerprint != base.fingerprint
    expected = dict(base.feature_fingerprints)
    del expected["e"]
    assert other.feature_fingerprints == expected


def test_name_and_version_are_not_logic() -> None:
    """The fingerprint hashes logic only; name/version are checked by Spec equality instead."""
    base = spec_from_yaml(BASE)
    other = spec_from_yaml(BASE.replace("version: 1.0.0", "version: 1.0.1"))
    assert other.fingerprint == base.fingerprint
    assert other != base


def test_and_or_round_trip() -> None:
    spec = spec_from_yaml(BASE.replace("d: n * 2", "d: (n > 2) and (y < 1) or not (x > 3)"))
    again = spec_from_yaml(spec.to_yaml())
    assert again.feature_fingerprints == spec.feature_fingerprints
