"""Issue 17 item 22: what each ``expect=`` pin form guarantees, and no pin that pins nothing.

At eb81d53 ``expect="name@version#"`` or a 1-character prefix passed any artifact.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from pathlib import Path

import pytest

import featurekit as fk
from featurekit.artifact.load import MIN_PIN_PREFIX
from featurekit.transform import FittedTransform

from ._common import ROOT, churn_fitted


@pytest.fixture(scope="module")
def fitted():
    return churn_fitted()


@pytest.fixture(scope="module")
def saved(fitted, tmp_path_factory):
    return Path(fitted.save(tmp_path_factory.mktemp("pin") / "churn"))


@pytest.fixture(scope="module")
def edited(fitted, tmp_path_factory):
    """Same spec, a schema-valid edited state, every hash recomputed (what someone who can write
    the directory produces)."""
    state = copy.deepcopy(fitted.state_)
    key = next(k for k, v in state.items() if "mean" in v)
    state[key]["mean"] += 1000.0
    other = FittedTransform(fitted.spec, state, fit_info=fitted.fit_info_)
    return Path(other.save(tmp_path_factory.mktemp("pin") / "edited"))


def _name_version(fitted) -> str:
    return f"{fitted.spec.name}@{fitted.spec.version}"


@pytest.mark.parametrize("prefix", ["", "a", "3f", "0" * (MIN_PIN_PREFIX - 1)])
def test_a_short_fingerprint_prefix_is_refused_naming_the_minimum(fitted, saved, prefix):
    for pin in [f"{_name_version(fitted)}#{prefix}", f"#{prefix}", f"{fitted.spec.name}#{prefix}"]:
        with pytest.raises(fk.ArtifactError, match=f"at least {MIN_PIN_PREFIX} hex characters") as info:
            fk.load(saved, expect=pin)
        assert repr(pin) in str(info.value) and "featurekit describe" in str(info.value)


@pytest.mark.parametrize("fingerprint", ["z" * 12, "0x" + "0" * 12, "g" * 64, "0" * 65])
def test_a_fingerprint_that_is_not_hex_is_refused(saved, fingerprint):
    with pytest.raises(fk.ArtifactError, match="hex characters"):
        fk.load(saved, expect=f"#{fingerprint}")


def test_an_empty_pin_is_refused(saved):
    for pin in ["", "@"]:
        with pytest.raises(fk.ArtifactError, match="names nothing"):
            fk.load(saved, expect=pin)


def test_the_minimum_prefix_and_the_full_pin_pass(fitted, saved):
    fp = fitted.fingerprint
    for pin in [fitted.pin, f"#{fp[:MIN_PIN_PREFIX]}", f"{_name_version(fitted)}#{fp[:MIN_PIN_PREFIX].upper()}"]:
        assert fk.load(saved, expect=pin).fingerprint == fp
    wrong = ("0" if fp[0] != "0" else "1") + fp[1:MIN_PIN_PREFIX]
    with pytest.raises(fk.ArtifactError, match="not the expected transform"):
        fk.load(saved, expect=f"#{wrong}")


def test_name_at_version_pins_the_declaration_only_the_full_pin_pins_the_state(fitted, edited):
    """The documented difference: ``name@version`` accepts an edited, re-hashed state."""
    assert fk.load(edited, expect=_name_version(fitted)).fingerprint != fitted.fingerprint
    with pytest.raises(fk.ArtifactError, match="fingerprint .* != expected"):
        fk.load(edited, expect=fitted.pin)


def test_the_pin_describe_prints_is_accepted(fitted, saved):
    out = subprocess.run(
        [sys.executable, "-m", "featurekit.cli", "describe", str(saved)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    pin = out.split("(pin: ", 1)[1].split(")", 1)[0]
    assert pin.startswith(_name_version(fitted) + "#")
    assert fk.load(saved, expect=pin).fingerprint == fitted.fingerprint
