"""The feature expression language: a small allow-list over Python's ``ast``.

Allowed: arithmetic (``+ - * / **``), comparisons, ``and``/``or``/``not``,
``a if cond else b``, calls of registered ops with constant keyword parameters, names of
inputs/features/constants, and literals (numbers, strings, ``true``/``false``, ``nan``,
``inf``). Anything else (attribute access, subscripts, lambdas, comprehensions, f-strings,
starred arguments) is rejected at parse time. Nothing is ever evaluated: the parser only
builds :mod:`featurekit.ir.nodes` expressions. Length, nesting depth and node count are
capped so hostile input fails fast; the built tree's depth is capped too (an ``and`` chain or
a chained comparison nests one level per term), so the compilers never recurse too deeply.
Expressions built in Python (the DSL) are checked by :func:`check_expr`, which renders them
as text and parses that text: the same rules, and a spec that always reads back.

>>> parse("log1p(monthly_spend) / (tenure_days + 1)")
Call(op='div', args=(Call(op='log1p', args=(Name(id='monthly_spend'),), params=()), Call(op='add', args=(Name(id='tenure_days'), Const(value=1)), params=())), params=())
"""

from __future__ import annotations

import ast
import keyword
import math
import warnings
from typing import Any

import featurekit.ir.ops  # noqa: F401  (registers the built-in ops this module looks up)
from featurekit import registry
from featurekit.ir.nodes import Call, Const, Expr, Name, to_source

MAX_LENGTH = 4_000
MAX_DEPTH = 48
MAX_NODES = 2_000
MAX_TREE_DEPTH = 100
"""Depth of the built expression tree (``a and b and c`` is a chain of two ``and`` calls)."""

# Python's syntax for each operator symbol and arity; which op a symbol means (Op.symbol and
# Op.precedence) comes from the registry
_SYNTAX: dict[tuple[str, int], type[ast.AST]] = {
    ("+", 2): ast.Add,
    ("-", 2): ast.Sub,
    ("*", 2): ast.Mult,
    ("/", 2): ast.Div,
    ("**", 2): ast.Pow,
    ("==", 2): ast.Eq,
    ("!=", 2): ast.NotEq,
    ("<", 2): ast.Lt,
    ("<=", 2): ast.LtE,
    (">", 2): ast.Gt,
    (">=", 2): ast.GtE,
    ("and", 2): ast.And,
    ("or", 2): ast.Or,
    ("-", 1): ast.USub,
    ("not", 1): ast.Not,
}
_LITERAL_NAMES = {"true": True, "false": False, "True": True, "False": False, "nan": float("nan"), "inf": float("inf")}
RESERVED_NAMES = frozenset(_LITERAL_NAMES) | {"null", "None"} | frozenset(keyword.kwlist)
"""Words an expression reads as a literal or as syntax: never names of inputs, constants or features."""
_ALLOWED_TEXT = (
    "allowed: arithmetic + - * / **, comparisons, and/or/not, 'a if c else b', "
    "op calls like log1p(x), names and literals"
)


class ExprError(ValueError):
    """A feature expression is not in the language; carries a ``fix`` for the spec error."""

    def __init__(self, message: str, fix: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.fix = fix
        self.hint = hint


def _describe(node: ast.AST) -> str:
    names = {
        ast.Attribute: "attribute access",
        ast.Subscript: "subscripting",
        ast.Lambda: "lambda",
        ast.ListComp: "a comprehension",
        ast.SetComp: "a comprehension",
        ast.DictComp: "a comprehension",
        ast.GeneratorExp: "a generator expression",
        ast.JoinedStr: "an f-string",
        ast.Starred: "starred arguments",
        ast.NamedExpr: "assignment (:=)",
        ast.Await: "await",
        ast.Yield: "yield",
        ast.Dict: "a dict literal",
        ast.Set: "a set literal",
        ast.Tuple: "a tuple",
        ast.List: "a list (lists are only allowed as op parameters)",
        ast.UnaryOp: "a bitwise operator (~)",
        ast.BinOp: "a computed value",
        ast.Call: "a call",
        ast.IfExp: "a conditional",
        ast.Compare: "a comparison",
        ast.BoolOp: "a boolean expression",
    }
    return names.get(type(node), f"'{type(node).__name__}'")


def _snippet(node: ast.AST, limit: int = 60) -> str:
    """The offending source of ``node``, shortened, for messages (never evaluated)."""
    try:
        text = ast.unparse(node)
    except Exception:  # noqa: BLE001 - a message helper must not fail
        return ""
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return f" in {text!r}"


def _paren_depth(text: str) -> int:
    depth = best = 0
    for ch in text:
        if ch in "([{":
            depth += 1
            best = max(best, depth)
        elif ch in ")]}":
            depth -= 1
    return best


def parse(text: str) -> Expr:
    """Parse one feature expression; raises :class:`ExprError` with a fix on any problem."""
    if not isinstance(text, str):
        raise ExprError(
            f"an expression must be text; got {text!r} ({type(text).__name__})",
            fix="quote the expression or write it as a YAML string",
        )
    if len(text) > MAX_LENGTH:
        raise ExprError(
            f"expression is {len(text)} characters long; the limit is {MAX_LENGTH}",
            fix="split it into several features that reference each other",
        )
    if not text.strip():
        raise ExprError("expression is empty", fix="write an expression such as log1p(x)")
    depth = _paren_depth(text)
    if depth > MAX_DEPTH:
        raise ExprError(
            f"expression nests brackets {depth} levels deep; the limit is {MAX_DEPTH}",
            fix="split it into several features that reference each other",
        )
    try:
        with warnings.catch_warnings():  # e.g. "\d" in a regex literal: not the user's console's business
            warnings.simplefilter("ignore")
            tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        col = f" at column {exc.offset}" if exc.offset else ""
        raise ExprError(
            f"cannot parse expression {text.strip()!r}: {exc.msg}{col}", fix="check brackets, commas and quotes"
        ) from None
    except (RecursionError, MemoryError, ValueError) as exc:
        raise ExprError(f"cannot parse expression: {type(exc).__name__}", fix="simplify the expression") from None
    count = sum(1 for _ in ast.walk(tree))
    if count > MAX_NODES:
        raise ExprError(
            f"expression has {count} syntax nodes; the limit is {MAX_NODES}", fix="split it into several features"
        )
    try:
        expr = _Builder().build(tree.body, 0)
    except ExprError:
        raise
    except (RecursionError, MemoryError, ValueError) as exc:  # never let hostile input escape
        raise ExprError(f"cannot parse expression: {type(exc).__name__}", fix="simplify the expression") from None
    _check_tree(expr)
    return expr


def _check_tree(expr: Any) -> None:
    """Refuse a built tree that is too deep or too large, or holds a non-expression (iterative,
    so a hostile tree cannot exhaust the stack)."""
    count = 0
    stack: list[tuple[Any, int]] = [(expr, 1)]
    while stack:
        node, depth = stack.pop()
        count += 1
        if depth > MAX_TREE_DEPTH:
            raise ExprError(
                f"expression nests deeper than {MAX_TREE_DEPTH} levels (each term of an "
                "and/or chain or a chained comparison counts as one level)",
                fix="split it into several features that reference each other",
            )
        if count > MAX_NODES:
            raise ExprError(f"expression has more than {MAX_NODES} nodes", fix="split it into several features")
        if isinstance(node, Call):
            stack.extend((a, depth + 1) for a in node.args)
        elif not isinstance(node, (Name, Const)):
            raise ExprError(
                f"{node!r:.80} ({type(node).__name__}) is not an expression",
                fix="build expressions with featurekit.dsl (col, lit, op functions)",
            )


def check_expr(expr: Expr) -> Expr:
    """Validate an expression built in Python exactly as a YAML expression is validated.

    The expression is written as spec text and parsed back (so every rule of the language
    applies, and a saved spec always loads again); the parsed expression must equal it.

    >>> check_expr(Call("log1p", (Name("x"),), ()))
    Call(op='log1p', args=(Name(id='x'),), params=())
    """
    _check_tree(expr)
    text = to_source(expr)
    parsed = parse(text)
    if not _same_expr(parsed, expr):
        raise ExprError(
            f"expression {text[:80]!r} does not read back as the same expression",
            fix="use plain str, int, float and bool values in expressions and parameters",
        )
    return parsed


def _same_expr(a: Any, b: Any) -> bool:
    """Structural equality with typed literals (NaN equals NaN, ``-0.0`` is not ``0.0``)."""
    stack = [(a, b)]
    while stack:
        x, y = stack.pop()
        if type(x) is not type(y):
            return False
        if isinstance(x, Call):
            if x.op != y.op or len(x.args) != len(y.args) or [k for k, _ in x.params] != [k for k, _ in y.params]:
                return False
            if not all(_same_value(u, v) for (_, u), (_, v) in zip(x.params, y.params)):
                return False
            stack.extend(zip(x.args, y.args))
        elif x != y:
            return False
    return True


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_same_value(u, v) for u, v in zip(a, b))
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (a != a and b != b) or (a == b and math.copysign(1.0, a) == math.copysign(1.0, b))
    return a == b


def _operator_table() -> dict[type[ast.AST], str]:
    """AST operator class -> op name, for every op the registry writes as an operator."""
    table = {}
    for op in registry.operators().values():
        syntax = _SYNTAX.get((op.symbol, len(op.args)))  # type: ignore[arg-type]
        if syntax is None:
            raise RuntimeError(f"op {op.name!r} declares the operator {op.symbol!r}, which expressions cannot write")
        table[syntax] = op.name
    return table


class _Builder:
    def __init__(self) -> None:
        self.operators = _operator_table()

    def build(self, node: ast.AST, depth: int) -> Expr:
        if depth > MAX_DEPTH:
            raise ExprError(f"expression nests deeper than {MAX_DEPTH} levels", fix="split it into several features")
        d = depth + 1
        if isinstance(node, ast.Constant):
            return self._constant(node.value)
        if isinstance(node, ast.Name):
            if node.id in _LITERAL_NAMES:
                return Const(_LITERAL_NAMES[node.id])
            if node.id in ("null", "None"):
                raise ExprError(
                    "null literals are not supported", fix="use is_null(x) to test, coalesce(x, value) to replace"
                )
            return Name(node.id)
        if isinstance(node, ast.BinOp) and type(node.op) in self.operators:
            return Call(self.operators[type(node.op)], (self.build(node.left, d), self.build(node.right, d)), ())
        if isinstance(node, ast.UnaryOp):
            operand = self.build(node.operand, d)
            if isinstance(node.op, ast.USub) and isinstance(operand, Const) and type(operand.value) in (int, float):
                return Const(-operand.value)
            if isinstance(node.op, ast.UAdd):
                return operand
            if type(node.op) in self.operators:
                return Call(self.operators[type(node.op)], (operand,), ())
        if isinstance(node, ast.BoolOp) and type(node.op) in self.operators:
            op = self.operators[type(node.op)]
            values = [self.build(v, d) for v in node.values]
            out = values[0]
            for v in values[1:]:
                out = Call(op, (out, v), ())
            return out
        if isinstance(node, ast.Compare):
            return self._compare(node, d)
        if isinstance(node, ast.IfExp):
            return Call("if_else", (self.build(node.test, d), self.build(node.body, d), self.build(node.orelse, d)), ())
        if isinstance(node, ast.Call):
            return self._call(node, d)
        if isinstance(node, ast.BinOp):
            raise ExprError(f"operator {type(node.op).__name__} is not allowed in expressions", fix=_ALLOWED_TEXT)
        if isinstance(node, ast.Attribute):
            raise ExprError(
                f"attribute access '.{node.attr}' is not allowed in expressions",
                fix="call an op instead, e.g. lower(x) rather than x.lower()",
            )
        raise ExprError(f"{_describe(node)}{_snippet(node)} is not allowed in expressions", fix=_ALLOWED_TEXT)

    def _constant(self, value: Any) -> Const:
        if value is None:
            raise ExprError(
                "null literals are not supported", fix="use is_null(x) to test, coalesce(x, value) to replace"
            )
        if not isinstance(value, (bool, int, float, str)):
            raise ExprError(
                f"literal {value!r} ({type(value).__name__}) is not allowed", fix="use numbers, strings, true or false"
            )
        if isinstance(value, int) and not isinstance(value, bool) and not -(2**63) <= value < 2**63:
            shown = str(value) if value.bit_length() <= 256 else f"with {value.bit_length()} bits"
            raise ExprError(f"integer literal {shown} is outside the int64 range", fix="use a float literal, e.g. 1e20")
        return Const(value)

    def _compare(self, node: ast.Compare, d: int) -> Expr:
        parts: list[Expr] = []
        left = self.build(node.left, d)
        for op, comparator in zip(node.ops, node.comparators):
            if type(op) not in self.operators:
                raise ExprError(
                    f"comparison {type(op).__name__} is not allowed",
                    fix="use == != < <= > >= or in_set(x, values=[...])",
                )
            right = self.build(comparator, d)
            parts.append(Call(self.operators[type(op)], (left, right), ()))
            left = right
        out = parts[0]
        for p in parts[1:]:
            out = Call(self.operators[ast.And], (out, p), ())
        return out

    def _call(self, node: ast.Call, d: int) -> Expr:
        if isinstance(node.func, ast.Attribute):
            raise ExprError(
                f"attribute access {ast.unparse(node.func)[:60] + '()'!r} is not allowed in expressions",
                fix=f"call an op instead, e.g. {node.func.attr}(x) rather than x.{node.func.attr}()"
                if registry.has(node.func.attr)
                else "call a registered op by name, e.g. log1p(x)",
            )
        if not isinstance(node.func, ast.Name):
            raise ExprError(
                f"calling {_describe(node.func)}{_snippet(node.func)} is not allowed; only "
                "registered ops can be called",
                fix="call an op by name, e.g. log1p(x)",
            )
        name = node.func.id
        if not registry.has(name):
            hint = _hint(name)
            if hint is None and name.startswith("_"):
                hint = "Python builtins and private names are not available; only registered ops can be called"
            raise ExprError(f"unknown op {name!r}", fix="see `featurekit ops` for the op list", hint=hint)
        op = registry.get(name)
        args = [a for a in node.args]
        n_args = len(op.args) if not op.variadic else len(args)
        positional_params = args[n_args:]
        exprs = tuple(self.build(a, d) for a in args[:n_args])
        params: dict[str, Any] = {}
        param_names = list(op.params)
        for i, value in enumerate(positional_params):
            if i >= len(param_names):
                raise ExprError(
                    f"op {name!r} takes {n_args} argument(s) and {len(param_names)} "
                    f"parameter(s); got {len(args)} positional values",
                    fix=f"see the signature of {name} in `featurekit ops`",
                )
            params[param_names[i]] = self._param_value(value, name, param_names[i])
        for kw in node.keywords:
            if kw.arg is None:
                raise ExprError("**kwargs is not allowed in expressions", fix="name each parameter")
            if kw.arg in params:
                raise ExprError(f"op {name!r} parameter {kw.arg!r} is given twice", fix="give each parameter once")
            params[kw.arg] = self._param_value(kw.value, name, kw.arg)
        return Call(name, exprs, tuple(sorted(params.items())))

    def _param_value(self, node: ast.AST, op: str, param: str) -> Any:
        if isinstance(node, (ast.List, ast.Tuple)):
            return [self._param_value(e, op, param) for e in node.elts]
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Constant)
            and isinstance(node.operand.value, (int, float))
            and not isinstance(node.operand.value, bool)
        ):
            return -node.operand.value
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.USub)
            and isinstance(node.operand, ast.Name)
            and isinstance(_LITERAL_NAMES.get(node.operand.id), float)
        ):
            return -_LITERAL_NAMES[node.operand.id]  # -inf: what to_source writes for a negative infinity
        if isinstance(node, ast.Constant) and node.value is not None:
            return node.value
        if isinstance(node, ast.Name) and node.id in _LITERAL_NAMES:
            return _LITERAL_NAMES[node.id]
        raise ExprError(
            f"op {op!r} parameter {param!r} must be a literal (number, string, list); "
            f"got {node.id if isinstance(node, ast.Name) else _describe(node) + _snippet(node)}",
            fix="parameters are fixed at spec time; compute values as features instead",
        )


def _hint(name: str) -> str | None:
    from featurekit.errors import did_you_mean

    return did_you_mean(name, registry.names())
