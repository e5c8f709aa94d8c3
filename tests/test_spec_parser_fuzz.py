"""The expression parser is total on hostile text: an expression or ``ExprError``, fast.

``featurekit.spec.expr_parser.parse`` must never raise anything but ``ExprError`` (no
RecursionError, MemoryError, UnicodeError, SyntaxError...) and never evaluate its input. The
timing bound (2 s per example) is only a generous sanity check against runaway work; the real
budget is ~50 ms per call and is not asserted to keep CI stable. A grep test keeps ``eval`` and
``exec`` out of the package (the row compiler's single ``exec(code, namespace)`` runs source it
generated itself).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from featurekit.ir.nodes import Call, Const, Name, to_source
from featurekit.spec.expr_parser import MAX_LENGTH, ExprError, parse

ROOT = Path(__file__).resolve().parent.parent
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

HOSTILE = [
    "__import__('os')",
    "__import__('os').system('true')",
    "().__class__.__bases__",
    "().__class__.__bases__[0].__subclasses__()",
    "lambda: 0",
    "(lambda: 0)()",
    "[x for x in y]",
    "{x: 1 for x in y}",
    "(x for x in y)",
    "x[0]",
    "x[0:1]",
    "9**9**9",
    "'a'*10**9",
    "10**10**10",
    "(" * 10_000 + "x" + ")" * 10_000,
    "[" * 10_000,
    "log1p(" * 10_000,
    "-" * 10_000 + "1",
    "+" * 10_000 + "x",
    "~" * 10_000 + "x",
    "not " * 2_500 + "x",
    "'" + "a" * 1_000_000 + "'",
    "x" * 1_000_000,
    "x\x00",
    "\x00",
    "'\x00'",
    "ñame + 1",
    "λ + ü",
    "ℌ + 1",
    "x\u200b",
    "\ud800",
    "'\\N{NO SUCH NAME}'",
    "b'x'",
    "1j",
    "...",
    "x.lower()",
    "f'{x}'",
    "f'{__import__(\"os\")}'",
    "(y := x)",
    "*x",
    "x, y",
    "{1: 2}",
    "{1}",
    "x @ y",
    "x // y",
    "x % y",
    "x << 1",
    "x is None",
    "x in y",
    "await x",
    "(yield)",
    "__builtins__",
    "__class__",
    "_",
    "None",
    "null",
    "0x" + "f" * 3_990,
    "1" * 3_999,
    "1e999",
    "-1e999",
    "nan",
    "clip(x, lower=-inf)",
    "clip(x, lower=10**30)",
    "round(x, 1, 2, 3)",
    "log1p(x, **y)",
    "log1p(*x)",
    "log1p(x, x=1, x=2)",
    "coalesce(" + "x," * 1_000 + "x)",
    "x if y else " * 300 + "z",
    "x < y < z" * 50,
    "in_set(x, values=[" + ",".join(["1"] * 1_500) + "])",
    "\n".join(["x"] * 100),
    "# comment",
    "   ",
    "",
    "\t\r\n",
    "x\n+1",
    "(x\n+1)",
    "'''x'''",
    "\\",
    "x\\\n+1",
    "\ufeffx",
    "eval('1')",
    "exec('1')",
    "open('/etc/passwd')",
    "getattr(x, 'y')",
    "globals()",
    "breakpoint()",
]

# syntax-ish fragments recombined at random
FRAGMENTS = [
    "x",
    "y",
    "log1p",
    "clip",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    ",",
    ":",
    ".",
    "+",
    "-",
    "*",
    "**",
    "/",
    "not",
    "and",
    "or",
    "if",
    "else",
    "lambda",
    "for",
    "in",
    "=",
    "==",
    "<",
    "'a'",
    '"b"',
    "0",
    "1.5",
    "1e400",
    "-0.0",
    "__import__",
    "__class__",
    "__bases__",
    "_",
    "\x00",
    "λ",
    "\u200b",
    "f'",
    "yield",
    "await",
    ":=",
    "*",
    "@",
    "~",
    "None",
    "true",
    "nan",
    "inf",
    " ",
    "\n",
    "#",
    "\\",
    "lower=",
    "num_buckets=",
    "values=",
]


def _parse_or_error(text: str) -> object:
    """Parse ``text``; fail the test on any exception other than ExprError."""
    try:
        result = parse(text)
    except ExprError as exc:
        assert str(exc)
        result = exc
    except BaseException as exc:  # noqa: BLE001 - exactly what this test forbids
        pytest.fail(f"parse raised {type(exc).__name__}: {exc!s:.200} for {text[:80]!r}")
    if not isinstance(result, ExprError):
        assert isinstance(result, (Call, Const, Name))
    return result


@pytest.mark.parametrize("text", HOSTILE, ids=range(len(HOSTILE)))
def test_hostile_fragments(text: str) -> None:
    _parse_or_error(text)


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os')",
        "().__class__.__bases__",
        "lambda: 0",
        "[x for x in y]",
        "x[0]",
        "(" * 10_000 + "x" + ")" * 10_000,
        "'" + "a" * 1_000_000 + "'",
        "x\x00",
        "x.lower()",
        "f'{x}'",
        "0x" + "f" * 3_990,
        "-" * 10_000 + "1",
        "~x",
        "(y := x)",
    ],
)
def test_dangerous_text_is_rejected(text: str) -> None:
    assert isinstance(_parse_or_error(text), ExprError)


def test_parse_does_not_evaluate() -> None:
    """Huge arithmetic stays a tree: nothing is computed at parse time."""
    for text in ("9**9**9", "'a'*10**9", "10**10**10"):
        assert isinstance(_parse_or_error(text), Call)


def test_unicode_identifiers_are_names() -> None:
    assert parse("ñame + 1") == Call("add", (Name("ñame"), Const(1)), ())


@FUZZ
@given(st.text(max_size=300))
def test_random_text(text: str) -> None:
    _parse_or_error(text)


@FUZZ
@given(st.text(min_size=1, max_size=40), st.integers(min_value=-5, max_value=5))
def test_random_text_near_length_limit(unit: str, offset: int) -> None:
    text = (unit * (MAX_LENGTH // len(unit) + 2))[: MAX_LENGTH + offset]
    _parse_or_error(text)


def test_parse_emits_no_warnings() -> None:
    """Invalid escapes ("\\d" in a regex) must not leak SyntaxWarning/DeprecationWarning."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        _parse_or_error("matches(x, pattern='\\d+') + 1e400x")
        _parse_or_error("matches(x, pattern='\\d+')")


@FUZZ
@given(st.lists(st.sampled_from(FRAGMENTS), max_size=60))
def test_random_fragment_soup(parts: list[str]) -> None:
    _parse_or_error("".join(parts))


@FUZZ
@given(
    st.lists(st.sampled_from(FRAGMENTS), max_size=40),
    st.sampled_from(HOSTILE[:20]),
    st.integers(min_value=0, max_value=40),
)
def test_hostile_fragment_embedded(parts: list[str], hostile: str, at: int) -> None:
    parts.insert(min(at, len(parts)), hostile)
    _parse_or_error(" ".join(parts))


@FUZZ
@given(
    st.sampled_from(["(", "-", "not ", "log1p(", "[", "x if y else ", "+", "~"]),
    st.integers(min_value=1, max_value=20_000),
)
def test_deep_nesting(prefix: str, depth: int) -> None:
    closer = ")" if prefix.endswith("(") else "]" if prefix == "[" else ""
    _parse_or_error(prefix * depth + "x" + closer * depth)


# an expression grammar: whatever it builds and parses must survive to_source -> parse
_names = st.sampled_from(["x", "y", "n", "ñ", "a_b"]).map(Name)
_consts = st.one_of(
    st.integers(-(2**63), 2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=True),
    st.booleans(),
    st.text(max_size=10),
).map(Const)
_exprs = st.recursive(
    st.one_of(_names, _consts),
    lambda inner: st.one_of(
        st.tuples(st.sampled_from(["add", "sub", "mul", "div", "pow", "eq", "lt", "and_", "or_"]), inner, inner).map(
            lambda t: Call(t[0], (t[1], t[2]), ())
        ),
        st.tuples(st.sampled_from(["neg", "not_", "log1p", "abs"]), inner).map(lambda t: Call(t[0], (t[1],), ())),
        st.tuples(inner, st.floats(-1e6, 1e6), st.floats(-1e6, 1e6)).map(
            lambda t: Call("clip", (t[0],), (("lower", t[1]), ("upper", t[2])))
        ),
    ),
    max_leaves=20,
)


@FUZZ
@given(_exprs)
def test_to_source_parse_round_trip(expr: object) -> None:
    text = to_source(expr)
    if len(text) > MAX_LENGTH:
        return
    parsed = _parse_or_error(text)
    if isinstance(parsed, ExprError):
        return  # e.g. too deep; it must still be an ExprError, which _parse_or_error checked
    assert to_source(parsed) == to_source(parse(to_source(parsed)))


_EVAL_EXEC = re.compile(r"(?<![\w.])(eval|exec)\s*\(")
_ALLOWED = {("featurekit/compile/row.py", "exec(code, namespace)")}


def test_source_tree_never_evals_user_text() -> None:
    found = []
    for path in sorted((ROOT / "featurekit").rglob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            for match in _EVAL_EXEC.finditer(code):
                call = code[match.start() :].strip()
                if not any(rel == p and call.startswith(c) for p, c in _ALLOWED):
                    found.append(f"{rel}:{number}: {line.strip()}")
    assert not found, "eval/exec found outside the allowed row-compiler exec:\n" + "\n".join(found)
    row = (ROOT / "featurekit" / "compile" / "row.py").read_text(encoding="utf-8")
    assert row.count("exec(code, namespace)") == 1


def test_eval_grep_catches_calls() -> None:
    assert _EVAL_EXEC.search("value = eval(text)")
    assert _EVAL_EXEC.search("exec (src)")
    assert not _EVAL_EXEC.search("df.eval(x)")  # attribute calls are other APIs (e.g. pandas)
    assert not _EVAL_EXEC.search("evaluate(x)")
