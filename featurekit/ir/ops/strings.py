"""String ops. Each equals its Python ``str`` method exactly, code point for code point.

The batch path uses ``featurekit._kernels.strings``: pyarrow/numpy kernels where they are
provably identical to Python (e.g. ASCII rows), and Python itself over the distinct values or
the rare rows that need full Unicode semantics. So ``lower`` follows Python's full case
mapping (``"İ".lower()`` is two code points) and ``token_count`` uses ``str.split()``'s
whitespace set, in both paths.
"""

from __future__ import annotations

import re

from featurekit._lazy import lazy
from featurekit.ir.ops._util import bounded, fixed
from featurekit.registry import Op, Param, ParamError, Params, register
from featurekit.types import DType

ks = lazy("featurekit._kernels.strings")

STR = frozenset({DType.STR})


def _str_to_str(name: str, kernel: str, method: str, what: str) -> None:
    register(
        Op(
            name=name,
            doc=f"""``{name}(s)``: {what}, exactly Python's ``s.{method}()``.

        Null rule: propagate. Tolerance: exact.""",
            args=(STR,),
            dtype_rule=fixed(DType.STR),
            batch=lambda args, p, s: getattr(ks, kernel)(args[0].values),
            row=lambda ctx, a, p, s, t: f"{a[0]}.{method}()",
        )
    )


_str_to_str("lower", "lower", "lower", "lower case (full Unicode case mapping)")
_str_to_str("upper", "upper", "upper", "upper case (full Unicode case mapping)")
_str_to_str("casefold", "casefold", "casefold", "case-folded for caseless matching (``ß`` -> ``ss``)")
_str_to_str("strip", "strip", "strip", "leading and trailing whitespace removed (``str.isspace`` set)")

_FORMS = ("NFC", "NFD", "NFKC", "NFKD")
register(
    Op(
        name="normalize",
        doc="""``normalize(s, form="NFC")``: Unicode normalization, ``unicodedata.normalize(form, s)``.

    Null rule: propagate. Tolerance: exact.""",
        args=(STR,),
        dtype_rule=fixed(DType.STR),
        params={"form": Param("str", default="NFC", choices=_FORMS)},
        batch=lambda args, p, s: ks.normalize(args[0].values, p.form),
        row=lambda ctx, a, p, s, t: f"_normalize({p.form!r}, {a[0]})",
        test_params=({}, {"form": "NFKC"}),
    )
)

register(
    Op(
        name="length",
        doc="""``length(s)``: number of Unicode code points, ``len(s)`` (not bytes).

    Null rule: propagate. Tolerance: exact.""",
        args=(STR,),
        dtype_rule=fixed(DType.INT),
        int_range=bounded(0, 2**40),  # no str has 2**40 code points: keeps length + 1 non-null
        batch=lambda args, p, s: ks.char_length(args[0].values),
        row=lambda ctx, a, p, s, t: f"len({a[0]})",
    )
)

register(
    Op(
        name="token_count",
        doc="""``token_count(s)``: number of maximal runs of non-whitespace, ``len(s.split())``.

    Whitespace is Python's ``str.isspace()`` set (29 code points, including U+00A0 and
    U+3000; U+200B is not whitespace). Null rule: propagate. Tolerance: exact.""",
        args=(STR,),
        dtype_rule=fixed(DType.INT),
        int_range=bounded(0, 2**40),
        batch=lambda args, p, s: ks.token_count(args[0].values),
        row=lambda ctx, a, p, s, t: f"len({a[0]}.split())",
    )
)


def _check_regex(p: Params) -> None:
    if p.regex:
        try:
            re.compile(p.pattern)
        except re.error as exc:
            raise ValueError(f"pattern {p.pattern!r} is not a valid Python regex: {exc}") from None


def _check_fullmatch(p: Params) -> None:
    if not p.regex:
        raise ParamError(
            "regex=false is not supported: matches always reads pattern as a regular expression",
            fix="drop regex=false; for literal text compare with ==, e.g. s == 'text'",
        )
    _check_regex(p)


register(
    Op(
        name="contains",
        doc="""``contains(s, pattern, regex=false)``: ``pattern in s``, or with ``regex=true``
    ``re.search(pattern, s) is not None`` (Python's ``re`` in both paths). Null rule:
    propagate. Tolerance: exact.""",
        args=(STR,),
        dtype_rule=fixed(DType.BOOL),
        params={"pattern": Param("str"), "regex": Param("bool", default=False)},
        check_params=_check_regex,
        batch=lambda args, p, s: (
            ks.regex_search(args[0].values, p.pattern) if p.regex else ks.contains(args[0].values, p.pattern)
        ),
        row=lambda ctx, a, p, s, t: (
            f"({ctx.const(re.compile(p.pattern))}.search({a[0]}) is not None)"
            if p.regex
            else f"({p.pattern!r} in {a[0]})"
        ),
        test_params=({"pattern": "a"}, {"pattern": "^[a-z]+$", "regex": True}),
    )
)

register(
    Op(
        name="matches",
        doc="""``matches(s, pattern)``: the whole string matches the regex,
    ``re.fullmatch(pattern, s) is not None`` (Python's ``re`` in both paths). ``pattern`` is
    always a regular expression, checked when the spec loads: ``regex`` accepts only its default
    ``true`` (it stays so that saved specs keep their fingerprints); for literal text compare
    with ``==``. Null rule: propagate. Tolerance: exact.""",
        args=(STR,),
        dtype_rule=fixed(DType.BOOL),
        params={
            "pattern": Param("str"),
            "regex": Param("bool", default=True, doc="always true: the pattern is a regular expression"),
        },
        check_params=_check_fullmatch,
        batch=lambda args, p, s: ks.regex_fullmatch(args[0].values, p.pattern),
        row=lambda ctx, a, p, s, t: f"({ctx.const(re.compile(p.pattern))}.fullmatch({a[0]}) is not None)",
        test_params=({"pattern": "[A-Z]{3}[0-9]*"},),
    )
)

register(
    Op(
        name="concat",
        symbol="+",
        doc="""``a + b`` on strings: concatenation. Null rule: propagate (use ``coalesce(a, "")``
    to treat a missing part as empty). Tolerance: exact.""",
        args=(STR, STR),
        dtype_rule=fixed(DType.STR),
        batch=lambda args, p, s: ks.concat([args[0].values, args[1].values]),
        row=lambda ctx, a, p, s, t: f"({a[0]} + {a[1]})",
    )
)
