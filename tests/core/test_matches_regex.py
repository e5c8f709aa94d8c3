"""``matches(s, pattern, regex=)``: the pattern is always a regular expression.

``regex`` stays declared (with its default ``true``) so that saved specs keep their
fingerprints; ``regex=false`` is refused with a fix instead of being silently ignored.
"""

from __future__ import annotations

import pytest

import featurekit as fk
from featurekit.errors import SpecError


def _spec(expr: str) -> fk.Spec:
    return fk.spec_from_yaml(
        f"""
featurekit: 1
name: m
version: 1.0.0
inputs: {{code: {{type: str}}}}
features:
  ok: {expr}
"""
    )


def test_regex_true_is_the_default_and_keeps_the_fingerprint() -> None:
    default = _spec("matches(code, pattern='[A-Z]{2}[0-9]+')")
    explicit = _spec("matches(code, pattern='[A-Z]{2}[0-9]+', regex=true)")
    assert default.fingerprint == explicit.fingerprint
    fitted = explicit.fit([{"code": "AB12"}])
    rows = [{"code": "AB12"}, {"code": "AB12x"}, {"code": "a.b"}, {"code": None}]
    assert fitted.transform_rows(rows) == [{"ok": True}, {"ok": False}, {"ok": False}, {"ok": None}]
    batch = fitted.transform(rows)["ok"]
    assert batch.iloc[:3].tolist() == [True, False, False] and batch.isna().tolist() == [False, False, False, True]


def test_regex_false_is_refused_with_a_fix() -> None:
    with pytest.raises(SpecError) as info:
        _spec("matches(code, pattern='a.b', regex=false)")
    message = str(info.value)
    assert "regex=false is not supported" in message
    assert "Fix: drop regex=false; for literal text compare with ==" in message


def test_an_invalid_pattern_is_refused_when_the_spec_loads() -> None:
    with pytest.raises(SpecError, match="is not a valid Python regex"):
        _spec("matches(code, pattern='[unclosed')")
