"""Unicode probes scanned from Python's own Unicode data, not written by hand.

Each class below is found by scanning the Basic Multilingual Plane once (on first use, then
cached) with :mod:`unicodedata` and the ``str`` methods, so the probes follow the Unicode
version of the running Python:

* ``case_length``: case mappings that change length (``"ß".upper() == "SS"``, ``"İ".lower()``
  is two code points, ``ŉ``, ``ǰ``);
* ``context_case``: case mappings that depend on the neighbours (final sigma: ``"AΣ".lower()``
  ends in ``ς``, a lone ``Σ`` lowers to ``σ``);
* ``casefold``: ``casefold()`` differs from ``lower()`` (``µ``, ``ß``, ``ſ``);
* ``dotted_i``: the dotted and dotless i (``İ``, ``ı``), whose case pairs leave ASCII;
* ``whitespace``: ``str.split()`` / ``strip()`` / ``\\s`` treat them as whitespace,
  ``split(" ")`` and ``[ \\t]`` do not;
* ``format``: invisible format characters (category Cf, e.g. zero-width space) that
  ``isspace`` does *not* count, so ``strip()`` keeps them;
* ``digit_decimal`` (``int()`` reads them, ``[0-9]`` does not: ``"٣"``), ``digit_only``
  (``isdigit`` but not ``isdecimal``, ``int()`` refuses: ``"²"``), ``numeric_only``
  (``isnumeric`` but not ``isdigit``: ``"½"``);
* ``combining``: precomposed letters that decompose into a base letter and a combining mark
  (``"é"`` and ``"e\\u0301"``); both forms are probes.

:func:`probe_chars` picks a few per class, deterministically (in code point order, the first of
each script or name family); :func:`probe_strings` places each in word-initial, medial and
final position in the given words, at most ``cap`` strings.

>>> "ß" in probe_chars()["case_length"] and "Σ" in probe_chars()["context_case"]
True
>>> all(c.isspace() and c not in " \\t" for c in probe_chars()["whitespace"])
True
>>> probe_strings(["pro", "free"], cap=9)
['µpro', 'pµro', 'proµ', 'ßfree', 'frßee', 'freeß', 'ΣPRO', 'PΣRO', 'PROΣ']
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence

_SCAN_END = 0x10000
"""The scan covers the Basic Multilingual Plane (every class above has members there)."""

PER_CLASS = 3
"""Characters picked per class."""
DEFAULT_WORD = "word"
"""The word probes are placed in when the data has no strings."""


def _classes(c: str) -> list[str]:
    """The probe classes character ``c`` belongs to."""
    out = []
    if c.lower() != c.casefold():
        out.append("casefold")
    if len(c.upper()) != 1 or len(c.lower()) != 1:
        out.append("case_length")
    if c.isupper() and ("A" + c).lower()[1:] != c.lower():
        out.append("context_case")
    if c.isalpha() and (c.lower().startswith("i") or c.upper().startswith("I")) and c not in "iI":
        out.append("dotted_i")
    if c.isspace() and c not in " \t":
        out.append("whitespace")
    if unicodedata.category(c) == "Cf":
        out.append("format")
    if c.isdecimal() and not c.isascii():
        out.append("digit_decimal")
    elif c.isdigit() and not c.isdecimal():
        out.append("digit_only")
    elif c.isnumeric() and not c.isdigit():
        out.append("numeric_only")
    decomposed = unicodedata.normalize("NFD", c)
    if len(decomposed) == 2 and decomposed[0].isascii() and decomposed[0].isalpha():
        if unicodedata.combining(decomposed[1]):
            out.append("combining")
    return out


@functools.cache
def scan() -> dict[str, tuple[str, ...]]:
    """Every BMP character of each probe class, by code point (surrogates skipped); cached."""
    found: dict[str, list[str]] = {}
    for cp in range(_SCAN_END):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        for name in _classes(chr(cp)):
            found.setdefault(name, []).append(chr(cp))
    return {name: tuple(chars) for name, chars in found.items()}


def _family(c: str) -> str:
    """The first word of the character's Unicode name (its script or kind: LATIN, GREEK...)."""
    return unicodedata.name(c, unicodedata.category(c)).split()[0]


def _pick(chars: Sequence[str], k: int) -> list[str]:
    """``k`` of ``chars`` (in code point order): the first of each name family (LATIN, GREEK,
    ARABIC-INDIC...) until there are ``k``, so the picks spread over scripts (deterministic);
    all of them when there are no more than ``k``."""
    if len(chars) <= k:
        return list(chars)
    out: list[str] = []
    families: set[str] = set()
    for c in chars:
        if _family(c) not in families:
            families.add(_family(c))
            out.append(c)
            if len(out) == k:
                break
    return out


@functools.cache
def probe_chars(per_class: int = PER_CLASS) -> dict[str, tuple[str, ...]]:
    """A few characters per class (see the module docstring); a combining pick comes with its
    decomposed form (base letter + combining mark) right after it."""
    out: dict[str, tuple[str, ...]] = {}
    for name, chars in scan().items():
        picked = _pick(chars, per_class)
        if name == "combining":
            picked = [form for c in picked for form in (c, unicodedata.normalize("NFD", c))]
        out[name] = tuple(picked)
    return out


_ORDER = (
    "casefold",
    "case_length",
    "context_case",
    "dotted_i",
    "whitespace",
    "combining",
    "digit_decimal",
    "digit_only",
    "numeric_only",
    "format",
)
"""Class order of :func:`probe_strings`: one character of each class in turn."""


def _interleaved() -> list[str]:
    chars = probe_chars()
    columns = [chars.get(name, ()) for name in _ORDER]
    return [col[i] for i in range(max(map(len, columns), default=0)) for col in columns if i < len(col)]


def probe_strings(words: Sequence[str] = (), *, cap: int = 48) -> list[str]:
    """Probe characters placed word-initial, medial and final in ``words`` (the data's frequent
    strings, taken in turn; :data:`DEFAULT_WORD` when empty), cycling through the classes so a
    small ``cap`` still covers each; the context-sensitive probes go into the word in upper case
    (final sigma needs a cased letter before it). Duplicates removed, at most ``cap``."""
    bases = [w for w in words if w.strip()] or [DEFAULT_WORD]
    context = set(probe_chars().get("context_case", ()))
    out: dict[str, None] = {}
    for n, c in enumerate(_interleaved()):
        word = bases[n % len(bases)]
        w = word.upper() if c in context else word
        mid = len(w) // 2
        for s in (c + w, w[:mid] + c + w[mid:], w + c):
            if len(out) >= cap:
                return list(out)
            out.setdefault(s, None)
    return list(out)
