"""Property tests: every string kernel equals its pure-Python row-path expression."""

from __future__ import annotations

import doctest
import re
import sys
import unicodedata
import zlib

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from featurekit._kernels import strings as K

SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --------------------------------------------------------------------------- strategies

WHITESPACE = list(K.PY_WHITESPACE)
SPECIAL_CHARS = WHITESPACE + [
    "\u200b",  # zero width space: NOT whitespace
    "ß",
    "ẞ",
    "İ",
    "ı",
    "ﬃ",
    "ŉ",
    "Σ",
    "σ",
    "ς",
    "ǅ",
    "K",  # Kelvin sign
    "Å",  # Angstrom sign
    "\u0301",  # combining acute
    "\u0323",  # combining dot below
    "\u0345",  # ypogegrammeni (casefold/upper special)
    "é",
    "e",
    "É",
    "\u1100",  # Hangul L
    "\u1161",  # Hangul V
    "\u11a8",  # Hangul T
    "가",
    "\u0bc6",  # Tamil vowel sign E
    "\u0bbe",  # Tamil vowel sign AA (composes with the previous one)
    "\u0958",  # composition exclusion
    "²",
    "½",
    "\u00a0",
    "😀",
    "👩\u200d💻",
    "中",
    "文",
    "\U0001d400",  # mathematical bold A (NFKC -> A)
    "Ⱥ",  # lower() grows from 2 to 3 UTF-8 bytes
    "\ua7cb",  # newer Unicode than CPython 3.11's database
    "a",
    "B",
    "1",
    "٣",
    "-",
    "'",
    ".",
    "\x00",
]
SPECIAL_STRINGS = [
    "",
    "word  café\tword",
    "e\u0301",
    "ΟΔΟΣ",
    "ΟΔΟΣ ΟΔΟΣ.",
    "Σ",
    "AΣ",
    "ΑΣ Β",
    "İstanbul",
    "straße",
    "ﬃ ligature",
    "\u3000全角\u3000",
    "a\u200bb",
    "\x1c\x1d\x1e\x1f",
    " \t\n ",
    "\u1100\u1161\u11a8",
    "가\u11a8",
    "\u0bc6\u0bbe",
    "😀 😀",
]

special_text = st.lists(st.sampled_from(SPECIAL_CHARS), max_size=12).map("".join)
long_text = st.builds(
    lambda unit, k: unit * k,
    st.sampled_from(["a", "é", " ", "\u3000", "ab ", "😀", "Σ", "ß "]),
    st.integers(200, 3000),
)
element = st.one_of(
    st.none(),
    st.text(max_size=20),
    special_text,
    st.sampled_from(SPECIAL_STRINGS),
    st.text(alphabet=st.characters(codec="ascii"), max_size=20),
    long_text,
)
values_lists = st.lists(element, max_size=25)
string_types = st.sampled_from([pa.string(), pa.large_string()])
# "plain": as built; "slice": arr.slice(1); "inner": arr.slice(1, len - 2);
# "garbage": nulls whose slots still hold non-empty data.
layouts = st.sampled_from(["plain", "slice", "inner", "garbage"])


def _validity_buffer(valid: list[bool]) -> pa.Buffer:
    bits = np.packbits(np.array(valid, dtype=bool), bitorder="little")
    return pa.py_buffer(bits.tobytes())


def build(values: list[str | None], typ: pa.DataType, layout: str) -> tuple[pa.Array, list]:
    """The Arrow array under test and the Python values it holds."""
    if layout == "garbage":
        filled = ["" if v is None else v for v in values]
        base = pa.array(filled, type=typ)
        valid = [v is not None and i % 3 != 1 for i, v in enumerate(values)]
        bufs = base.buffers()
        arr = pa.Array.from_buffers(typ, len(base), [_validity_buffer(valid), bufs[1], bufs[2]])
        arr.validate(full=True)
        return arr, [v if ok else None for v, ok in zip(values, valid)]
    arr = pa.array(values, type=typ)
    if layout == "slice" and len(values) >= 1:
        return arr.slice(1), values[1:]
    if layout == "inner" and len(values) >= 3:
        return arr.slice(1, len(values) - 2), values[1:-1]
    return arr, values


arrays = st.builds(build, values_lists, string_types, layouts)


def check_numeric(got: np.ndarray, py: list, func, dtype) -> None:
    assert isinstance(got, np.ndarray)
    assert got.dtype == dtype
    assert len(got) == len(py)
    for i, s in enumerate(py):
        if s is not None:
            assert got[i] == func(s), (i, s, got[i], func(s))


def check_strings(got: pa.Array, py: list, func) -> None:
    assert isinstance(got, pa.Array)
    assert got.type == pa.large_string()
    assert len(got) == len(py)
    out = got.to_pylist()
    for i, s in enumerate(py):
        if s is not None:
            assert out[i] == func(s), (i, s, out[i], func(s))


# --------------------------------------------------------------------------- numeric kernels


@SETTINGS
@given(arrays)
def test_crc32_char_length_token_count(built):
    arr, py = built
    check_numeric(K.crc32(arr), py, lambda s: zlib.crc32(s.encode("utf-8")), np.uint32)
    check_numeric(K.char_length(arr), py, len, np.int64)
    check_numeric(K.token_count(arr), py, lambda s: len(s.split()), np.int64)


@SETTINGS
@given(arrays)
def test_crc32_small_limits(built):
    """Exercise the chunking, long-row and tail paths of crc32 on small inputs."""
    arr, py = built
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(K, "_CRC_CHUNK_BYTES", 64)
        mp.setattr(K, "_CRC_LONG_ROW", 40)
        mp.setattr(K, "_CRC_TAIL_ROWS", 2)
        got = K.crc32(arr)
    check_numeric(got, py, lambda s: zlib.crc32(s.encode("utf-8")), np.uint32)


@pytest.mark.parametrize("typ", [pa.string(), pa.large_string()])
def test_crc32_all_lengths(typ):
    rng = np.random.default_rng(0)
    alphabet = "abcXYZ09 é中😀"
    values = ["".join(rng.choice(list(alphabet), size=k)) for k in range(301)]
    values += ["x" * 100_000]
    rng.shuffle(values)
    arr = pa.array(values, type=typ)
    expected = [zlib.crc32(s.encode("utf-8")) for s in values]
    assert K.crc32(arr).tolist() == expected
    assert K.crc32(arr.slice(7)).tolist() == expected[7:]
    # Byte length 0..300 exactly (ASCII), one huge row among short ones.
    ascii_values = ["q" * k for k in range(301)] + ["y" * 100_000] + ["ab"] * 50
    assert K.crc32(pa.array(ascii_values, type=typ)).tolist() == [zlib.crc32(s.encode()) for s in ascii_values]


def test_crc32_many_equal_and_mixed_lengths():
    rng = np.random.default_rng(1)
    equal = ["".join(rng.choice(list("abcdef"), size=14)) for _ in range(2000)]
    mixed = [s[: 1 + i % 14] for i, s in enumerate(equal)] + ["z" * 5000, "w" * 4095, "v" * 4096]
    for values in (equal, mixed):
        got = K.crc32(pa.array(values))
        assert got.tolist() == [zlib.crc32(s.encode()) for s in values]


def test_crc32_tables():
    for b in range(256):
        reg = int(K._CRC_T8[b ^ 0xFF]) ^ 0x00FFFFFF  # one step from 0xFFFFFFFF
        assert reg ^ 0xFFFFFFFF == zlib.crc32(bytes([b]))
    for x in (0, 1, 0x1234, 0xFFFF, 0xA55A):
        for prev in (0, 0xDEADBEEF):
            reg = prev ^ 0xFFFFFFFF
            reg = int(K._CRC_T16[(reg ^ x) & 0xFFFF]) ^ (reg >> 16)
            assert reg ^ 0xFFFFFFFF == zlib.crc32(x.to_bytes(2, "little"), prev)


@SETTINGS
@given(st.text(), st.text(alphabet=st.characters(codec="ascii"), max_size=3))
def test_nonascii_codepoints(s, pad):
    data = np.frombuffer((pad + s).encode("utf-8"), np.uint8)
    pos, cps = K._nonascii_codepoints(data)
    assert cps.tolist() == [ord(c) for c in s if ord(c) >= 0x80]
    assert [data[p] >= 0xC0 for p in pos] == [True] * len(pos)


@pytest.mark.parametrize(
    "s, n",
    [
        ("", 0),
        ("   ", 0),
        ("word  café\tword", 3),
        ("word\u00a0café\tword", 3),
        ("a\u200bb", 1),
        ("a\x1cb\x1dc\x1ed\x1fe", 5),
        ("\u3000a\u3000", 1),
        ("a\u2028b\u2029c\u0085d", 4),
        ("a\u180eb", 1),  # Mongolian vowel separator: not whitespace since Unicode 6.3
    ],
)
def test_token_count_named(s, n):
    assert len(s.split()) == n
    assert K.token_count(pa.array([s, None, s])).tolist() == [n, 0, n]


def test_whitespace_set_is_pythons():
    scan = "".join(c for c in map(chr, range(sys.maxunicode + 1)) if c.isspace())
    assert K.PY_WHITESPACE == scan
    assert "\u200b" not in K.PY_WHITESPACE


def test_arrow_trim_whitespace_is_isspace():
    """The fact strip()/lstrip()/rstrip() rely on, checked on every code point."""
    chars = [chr(c) for c in range(sys.maxunicode + 1) if not 0xD800 <= c <= 0xDFFF]
    trimmed = pc.utf8_trim_whitespace(pa.array(chars, pa.large_string()))
    is_ws = pc.equal(trimmed, "").to_numpy(zero_copy_only=False)
    arrow_ws = {c for c, w in zip(chars, is_ws) if w}
    assert arrow_ws == set(K.PY_WHITESPACE)
    # ...while the ASCII variant misses U+001C..U+001F.
    ascii_trimmed = pc.ascii_trim_whitespace(pa.array(["\x1c", " "])).to_pylist()
    assert ascii_trimmed == ["\x1c", ""]


# --------------------------------------------------------------------------- string transforms

TRANSFORMS = [
    (K.lower, str.lower),
    (K.upper, str.upper),
    (K.casefold, str.casefold),
    (K.strip, str.strip),
    (K.lstrip, str.lstrip),
    (K.rstrip, str.rstrip),
]


@SETTINGS
@given(arrays)
def test_case_and_strip(built):
    arr, py = built
    for kernel, func in TRANSFORMS:
        check_strings(kernel(arr), py, func)


@SETTINGS
@given(arrays)
def test_normalize(built):
    arr, py = built
    for form in ("NFC", "NFD", "NFKC", "NFKD"):
        check_strings(K.normalize(arr, form), py, lambda s, form=form: unicodedata.normalize(form, s))


@pytest.mark.parametrize(
    "kernel, func, s",
    [
        (K.lower, str.lower, "İ"),
        (K.lower, str.lower, "ΟΔΟΣ"),
        (K.lower, str.lower, "ΟΔΟΣ ΟΔΟΣ."),
        (K.lower, str.lower, "Σ"),
        (K.lower, str.lower, "AΣb"),
        (K.lower, str.lower, "Ⱥ"),
        (K.lower, str.lower, "\ua7cb"),
        (K.lower, str.lower, "\U00010400"),  # Deseret: 4-byte UTF-8 with a case pair
        (K.upper, str.upper, "\U00010428"),
        (K.upper, str.upper, "straße"),
        (K.upper, str.upper, "ﬃ"),
        (K.upper, str.upper, "ŉ"),
        (K.upper, str.upper, "\u0345"),
        (K.casefold, str.casefold, "Straße"),
        (K.casefold, str.casefold, "ΣΊΣΥΦΟΣ ς"),
        (K.casefold, str.casefold, "K"),
        (K.strip, str.strip, "\x1c a \u3000"),
        (K.strip, str.strip, "\u200b a \u200b"),
        (K.lstrip, str.lstrip, "\u00a0\u2000x "),
        (K.rstrip, str.rstrip, " x\u2029\u0085"),
    ],
)
def test_transform_named(kernel, func, s):
    values = [s, "plain ascii", None, s]
    assert kernel(pa.array(values)).to_pylist() == [None if v is None else func(v) for v in values]


@pytest.mark.parametrize("form", ["NFC", "NFD", "NFKC", "NFKD"])
@pytest.mark.parametrize(
    "s",
    [
        "e\u0301",
        "é",
        "\u1100\u1161",  # L + V composes
        "가\u11a8",  # LV + T composes
        "\u0bc6\u0bbe",  # starter + starter composes (Tamil)
        "\u0b47\u0b3e",  # Oriya
        "a\u0323\u0301",
        "a\u0301\u0323",  # needs canonical reordering
        "\u0301\u0323",
        "\U0001d400",  # 4-byte UTF-8, NFKC -> "A"
        "\u0958",
        "ﬃ²½\U0001d400",
        "Å",
        "\u0f73",
        "café",
        "",
    ],
)
def test_normalize_named(form, s):
    values = [s, "abc", s + s, None]
    got = K.normalize(pa.array(values), form).to_pylist()
    assert got == [None if v is None else unicodedata.normalize(form, v) for v in values]


def test_composition_seconds_superset():
    """Every code point that composes with a preceding starter is in the set."""
    seconds = K._composition_seconds()
    starters = ["e", "a", "\u1100", "가", "\u0bc6", "\u0b47", "\u0dd9", "\u1025"]
    for c in range(sys.maxunicode + 1):
        ch = chr(c)
        if unicodedata.category(ch) in ("Cn", "Cs") or unicodedata.combining(ch):
            continue
        for st_ in starters:
            if unicodedata.normalize("NFC", st_ + ch) != unicodedata.normalize("NFC", st_) + ch:
                if unicodedata.normalize("NFC", ch) == ch:
                    assert c in seconds, hex(c)


def test_normalize_bad_form():
    with pytest.raises(ValueError):
        K.normalize(pa.array(["a"]), "NFX")


# --------------------------------------------------------------------------- regex

PATTERNS = [
    r"\s",
    r"\w+",
    r"^\d",
    r"\d+$",
    r"(?i)straße",
    r"(?i)ss",
    r"ß",
    r"[à-ÿ]",
    r"\bword\b",
    r"^$",
    r".",
    r"(?s).+",
    r"\S+\s+\S+",
    r"[\u2000-\u200a]",
    r"İ",
    r"(?i)i",
    r"Σ|ς",
    r"e\u0301",
    r"\u200b",
]


@SETTINGS
@given(arrays, st.sampled_from(PATTERNS), st.booleans())
def test_regex(built, pattern, precompile):
    arr, py = built
    pat = re.compile(pattern) if precompile else pattern
    check_numeric(K.regex_search(arr, pat), py, lambda s: re.search(pattern, s) is not None, bool)
    check_numeric(K.regex_fullmatch(arr, pat), py, lambda s: re.fullmatch(pattern, s) is not None, bool)


def test_regex_bad_pattern_type():
    with pytest.raises(TypeError):
        K.regex_search(pa.array(["a"]), re.compile(b"a"))
    with pytest.raises(TypeError):
        K.regex_search(pa.array(["a"]), 1)


# --------------------------------------------------------------------------- literal matching

needles = st.one_of(
    st.text(max_size=3),
    st.sampled_from(["", "é", "e", "\u0301", "ß", "ss", " ", "\u00a0", "Σ", "😀", "ab", "word"]),
    special_text.map(lambda s: s[:3]),
)


@SETTINGS
@given(arrays, needles, st.data())
def test_literal_matching(built, needle, data):
    arr, py = built
    present = [s for s in py if s]
    if present and data.draw(st.booleans()):
        s = data.draw(st.sampled_from(present))
        i = data.draw(st.integers(0, len(s)))
        j = data.draw(st.integers(i, min(len(s), i + 5)))
        needle = s[i:j]
    check_numeric(K.contains(arr, needle), py, lambda s: needle in s, bool)
    check_numeric(K.startswith(arr, needle), py, lambda s: s.startswith(needle), bool)
    check_numeric(K.endswith(arr, needle), py, lambda s: s.endswith(needle), bool)
    check_numeric(K.equals(arr, needle), py, lambda s: s == needle, bool)


@SETTINGS
@given(arrays, st.lists(st.one_of(st.text(max_size=4), st.sampled_from(SPECIAL_STRINGS)), max_size=6), st.data())
def test_membership(built, values, data):
    arr, py = built
    present = [s for s in py if s is not None]
    if present:
        values = values + data.draw(st.lists(st.sampled_from(present), max_size=4))
        values = data.draw(st.permutations(values))
    check_numeric(K.is_in(arr, values), py, lambda s: s in set(values), bool)
    check_numeric(K.index_in(arr, values), py, lambda s: values.index(s) if s in values else -1, np.int64)


def test_membership_named():
    arr = pa.array(["b", "a", "z", None, "é", "e\u0301"])
    assert K.index_in(arr, ["a", "b", "a", "b", "é"]).tolist() == [1, 0, -1, -1, 4, -1]
    assert K.is_in(arr, []).tolist() == [False] * 6
    assert K.index_in(arr, []).tolist() == [-1] * 6
    assert K.equals(arr, "\ud800").tolist() == [False] * 6
    assert K.contains(arr, "\ud800").tolist() == [False] * 6
    assert K.is_in(arr, ["\ud800", "z"]).tolist() == [False, False, True, False, False, False]
    with pytest.raises(TypeError):
        K.is_in(arr, "ab")
    with pytest.raises(TypeError):
        K.index_in(arr, ["a", 1])
    with pytest.raises(TypeError):
        K.contains(arr, 1)


# --------------------------------------------------------------------------- concat


@SETTINGS
@given(st.lists(st.tuples(element, element, element), max_size=20), string_types, layouts, st.integers(1, 3))
def test_concat(rows, typ, layout, k):
    columns = []
    py_columns = []
    for c in range(k):
        arr, py = build([r[c] for r in rows], typ if c % 2 == 0 else pa.large_string(), layout)
        columns.append(arr)
        py_columns.append(py)
    got = K.concat(columns)
    assert got.type == pa.large_string()
    out = got.to_pylist()
    for i, parts in enumerate(zip(*py_columns)):
        if all(p is not None for p in parts):
            assert out[i] == "".join(parts)


def test_concat_errors():
    with pytest.raises(ValueError):
        K.concat([])
    with pytest.raises(ValueError):
        K.concat([pa.array(["a"]), pa.array(["a", "b"])])
    with pytest.raises(TypeError):
        K.concat([pa.array([1])])


# --------------------------------------------------------------------------- inputs


def test_rejects_non_string_arrays():
    for func in (K.crc32, K.char_length, K.token_count, K.lower, K.strip):
        with pytest.raises(TypeError):
            func(pa.array([1, 2]))
        with pytest.raises(TypeError):
            func(["a"])


def test_accepts_chunked_and_view_and_empty():
    chunked = pa.chunked_array([["a b", None], ["ß c"]], type=pa.string())
    assert K.token_count(chunked).tolist() == [2, 0, 2]
    assert K.upper(chunked).to_pylist() == ["A B", None, "SS C"]
    view = pa.array(["a", "bb", None], type=pa.string_view())
    assert K.char_length(view).tolist() == [1, 2, 0]
    for typ in (pa.string(), pa.large_string()):
        empty = pa.array([], type=typ)
        assert K.crc32(empty).tolist() == []
        assert K.token_count(empty).tolist() == []
        assert K.lower(empty).to_pylist() == []
        assert K.regex_search(empty, "a").tolist() == []
        allnull = pa.array([None, None], type=typ)
        assert K.crc32(allnull).tolist() == [0, 0]
        assert K.regex_search(allnull, "a").tolist() == [False, False]
        assert K.normalize(allnull, "NFC").to_pylist() == [None, None]


def test_to_string_array_pandas_str_zero_copy():
    s = pd.Series(["a", None, "ccc", "é"])
    out = K.to_string_array(s)
    assert out.type == pa.large_string()
    assert out.to_pylist() == ["a", None, "ccc", "é"]
    if isinstance(s.array, pd.arrays.ArrowStringArray):
        source = pa.array(s.array)
        if isinstance(source, pa.ChunkedArray):
            source = source.chunk(0)
        assert out.buffers()[2].address == source.buffers()[2].address
        assert out.buffers()[1].address == source.buffers()[1].address


def test_to_string_array_variants():
    expected = ["a", None, "b"]
    variants = [
        pd.Series(["a", None, "b"], dtype="string"),
        pd.Series(["a", None, "b"], dtype=pd.StringDtype("python")),
        pd.Series(["a", None, "b"], dtype=pd.ArrowDtype(pa.string())),
        pd.Series(["a", None, "b"], dtype=pd.ArrowDtype(pa.large_string())),
        pd.Series(["a", np.nan, "b"], dtype=object),
        pd.Series(["a", pd.NA, "b"], dtype=object),
        pd.Series(["x", "a", None, "b"]).iloc[1:],
        np.array(["a", None, "b"], dtype=object),
        np.array(["a", float("nan"), "b"], dtype=object),
        ["a", None, "b"],
        pa.array(["a", None, "b"], type=pa.string()),
        pa.chunked_array([["a"], [None, "b"]]),
        pd.Index(["a", None, "b"]),
    ]
    for v in variants:
        out = K.to_string_array(v)
        assert out.type == pa.large_string(), type(v)
        assert out.to_pylist() == expected, v
    assert K.to_string_array(np.array(["a", "bc"])).to_pylist() == ["a", "bc"]
    assert K.to_string_array(pd.Series([], dtype=object)).to_pylist() == []
    assert K.to_string_array(pd.Series([None, None], dtype=object)).to_pylist() == [None, None]
    assert K.to_string_array(pd.Series(["a", "b"], dtype="category")).to_pylist() == ["a", "b"]


@pytest.mark.parametrize(
    "values, position, bad",
    [
        (["a", None, b"x"], 2, b"x"),
        (["a", 1, "b"], 1, 1),
        ([3.5, "a"], 0, 3.5),
        (["a", "b", True], 2, True),
        (["a", pd.NaT], 1, pd.NaT),
    ],
)
def test_to_string_array_rejects_non_str(values, position, bad):
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    for x in (arr, pd.Series(arr, dtype=object), list(values)):
        with pytest.raises(TypeError) as info:
            K.to_string_array(x)
        assert info.value.position == position
        assert info.value.value is bad or info.value.value == bad
        assert f"position {position}" in str(info.value)


def test_to_string_array_rejects_numeric_and_surrogates():
    with pytest.raises(TypeError, match="position 0"):
        K.to_string_array(pd.Series([1, 2]))
    with pytest.raises(TypeError, match="position 0"):
        K.to_string_array(np.array([1.5]))
    with pytest.raises(ValueError, match="position 1"):
        K.to_string_array(pd.Series(["a", "\ud800"], dtype=object))


def test_doctests():
    result = doctest.testmod(K, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 20
    assert result.failed == 0
