"""Unicode probes scanned from the Unicode data (issue 16 item 6): the scan is exhaustive for
its classes, the picks are small and deterministic, and the probes find case-mapping and
whitespace skews when placed in the data's own strings."""

from __future__ import annotations

import unicodedata
from typing import Any

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

import featurekit as fk
from featurekit import parity
from featurekit.parity.generation import PROBE_WORDS, UNICODE_CAP
from featurekit.values.codec import decode_row
from featurekit.values.unicode_probes import DEFAULT_WORD, PER_CLASS, _classes, probe_chars, probe_strings, scan

SPEC = fk.spec_from_yaml(
    "featurekit: 1\nname: up\nversion: 1.0.0\ninputs:\n  name: {type: str, nullable: false}\n"
    "features:\n  f: is_null(name)\n"
)
ROWS = [{"name": n} for n in ["pro"] * 6 + ["free"] * 4 + ["basic plan"] * 2]


def _probe_inputs(report: parity.ParityReport) -> set[str]:
    probes = set(probe_strings(["pro", "free"], cap=UNICODE_CAP))
    failing = {decode_row(ex.input).get("name") for col in report.failing for ex in col.examples}
    return failing & probes


def test_the_classic_members_are_found_by_the_scan():
    found = scan()
    assert {"ß", "İ", "ŉ", "ǰ"} <= set(found["case_length"])
    assert found["context_case"] == ("Σ",)
    assert {"µ", "ß", "ſ"} <= set(found["casefold"])
    assert set(found["dotted_i"]) == {"İ", "ı"}
    assert {"\u00a0", "\u3000", "\u2028", "\x1c"} <= set(found["whitespace"]) and " " not in found["whitespace"]
    assert "\u200b" in found["format"]
    assert "٣" in found["digit_decimal"] and int("٣") == 3
    assert "²" in found["digit_only"] and "½" in found["numeric_only"]
    assert "é" in found["combining"]


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 0xFFFF).filter(lambda cp: not 0xD800 <= cp <= 0xDFFF))
def test_the_scan_is_exhaustive_over_the_bmp(cp):
    c = chr(cp)
    for name, members in scan().items():
        assert (c in members) == (name in _classes(c))
    if len(c.upper()) != 1 or len(c.lower()) != 1:
        assert c in scan()["case_length"]
    if c.isspace() and c not in " \t":
        assert c in scan()["whitespace"]


def test_each_pick_has_its_property_and_the_picks_are_few():
    picks = probe_chars()
    assert set(picks) == set(scan())
    for name, chars in picks.items():
        singles = [c for c in chars if len(c) == 1]
        assert 1 <= len(singles) <= PER_CLASS
        assert all(name in _classes(c) for c in singles)
    for composed, decomposed in zip(picks["combining"][::2], picks["combining"][1::2], strict=True):
        assert unicodedata.normalize("NFD", composed) == decomposed and len(decomposed) == 2
        assert unicodedata.combining(decomposed[1])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.text(min_size=1, max_size=8), max_size=4), st.integers(0, 120))
def test_probe_strings_are_capped_deterministic_and_placed_in_the_words(words, cap):
    strings = probe_strings(words, cap=cap)
    assert len(strings) <= cap and len(set(strings)) == len(strings)
    assert strings == probe_strings(list(words), cap=cap)
    bases = [w for w in words if w.strip()] or [DEFAULT_WORD]
    for s in strings:
        assert any(len(s) in (len(w) + 1, len(w) + 2) for w in bases)


def test_each_probe_sits_word_initial_medial_and_final():
    strings = set(probe_strings(["pro"], cap=1000))
    for c in ("µ", "ß", "İ", "\n", "٠", "²"):
        assert {c + "pro", "p" + c + "ro", "pro" + c} <= strings
    assert {"ΣPRO", "PΣRO", "PROΣ"} <= strings  # final sigma needs the cased word
    assert len(probe_strings(["pro"])) <= 48 and len(probe_strings(["pro"], cap=1000)) > 48


def test_probes_in_the_datas_frequent_strings_reach_the_serving_side():
    received: list[dict[str, Any]] = []

    def serve(row: dict[str, Any]) -> dict[str, Any]:
        received.append(dict(row))
        return {"n": len(row["name"])}

    parity.compare(
        lambda df: pd.DataFrame({"n": df["name"].str.len()}), serve, ROWS, contract=SPEC, fuzz=0, shrink=False
    )
    assert PROBE_WORDS == 2
    want = set(probe_strings(["pro", "free"], cap=UNICODE_CAP))
    assert want <= {r.get("name") for r in received}


def test_lower_vs_casefold_is_found_on_the_probes():
    report = parity.compare(
        lambda df: pd.DataFrame({"key": df["name"].str.casefold()}),
        lambda row: {"key": row["name"].lower()},
        ROWS,
        contract=SPEC,
        invalid=False,
        fuzz=0,
        shrink=False,
        max_examples=10**6,
    )
    assert not report.ok
    assert {"proµ", "PROΣ"} & _probe_inputs(report), _probe_inputs(report)


def test_split_on_space_vs_split_is_found_on_the_probes():
    report = parity.compare(
        lambda df: pd.DataFrame({"words": df["name"].map(lambda s: len(s.split()))}),
        lambda row: {"words": len([t for t in row["name"].split(" ") if t])},
        ROWS,
        contract=SPEC,
        invalid=False,
        fuzz=0,
        shrink=False,
        max_examples=10**6,
    )
    assert not report.ok
    whitespace = set(probe_chars()["whitespace"])
    assert any(set(s) & whitespace for s in _probe_inputs(report)), _probe_inputs(report)
