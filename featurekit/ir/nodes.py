"""Immutable nodes of the feature language.

Two layers:

* **Expressions** (:class:`Name`, :class:`Const`, :class:`Call`) are what the YAML parser and
  the Python DSL build: untyped, with references to inputs and other features by name. They
  render back to source text with :func:`to_source`, so ``spec.to_yaml()`` round-trips.
* **Typed IR** (:class:`InputNode`, :class:`ConstNode`, :class:`CallNode`) is what the
  compilers consume: feature references are inlined, every node carries its type, whether it
  can be null, and a content ``key`` (SHA-256 of the op, parameters and argument keys). Equal
  logic gives equal keys, so shared sub-expressions are computed once and fitted state is
  stored by key.

>>> import featurekit.ir.ops  # registers the built-in ops (their operators included)
>>> e = Call("log1p", (Name("x"),), ())
>>> to_source(Call("div", (e, Call("add", (Name("y"), Const(1)), ())), ()))
'log1p(x) / (y + 1)'
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from featurekit import registry
from featurekit.registry import Op
from featurekit.types import DType
from featurekit.values.hashing import canonical_json, sha256_hex

# ---------------------------------------------------------------- expressions (user level)


@dataclasses.dataclass(frozen=True)
class Name:
    """A reference to an input, a feature or a constant, by name."""

    id: str


@dataclasses.dataclass(frozen=True)
class Const:
    """A literal: int, float, str, bool or None."""

    value: Any

    def __eq__(self, other: object) -> bool:  # 1 == 1.0 == True must stay distinct literals
        return (
            isinstance(other, Const) and type(self.value) is type(other.value) and _same_value(self.value, other.value)
        )

    def __hash__(self) -> int:
        return hash((type(self.value).__name__, repr(self.value)))


@dataclasses.dataclass(frozen=True)
class Call:
    """An op applied to positional arguments with keyword parameters (sorted by name)."""

    op: str
    args: tuple[Expr, ...]
    params: tuple[tuple[str, Any], ...]


Expr = Name | Const | Call


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == b and math.copysign(1, a) == math.copysign(1, b) or (a != a and b != b)
    return a == b


_RIGHT_ASSOCIATIVE = frozenset({"**"})
_NON_CHAINING = frozenset({"==", "!=", "<", "<=", ">", ">="})
"""Python syntax: ``a ** b ** c`` is ``a ** (b ** c)``; ``a < b < c`` is not ``(a < b) < c``."""


def _literal(value: Any) -> str:
    if isinstance(value, float):
        if value != value:
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    return repr(value)


def to_source(expr: Expr) -> str:
    """Render an expression as the source text the parser reads back to the same expression.

    Ops with an operator (``Op.symbol`` and ``Op.precedence`` in the registry) are written with
    it, parenthesized only where precedence needs it; every other op as a call.
    """
    operators = registry.operators()
    unary_minus = next((op.precedence for op in operators.values() if op.symbol == "-" and len(op.args) == 1), 0)
    return _source(expr, 0, operators, unary_minus)


def _source(expr: Expr, parent: int, operators: dict[str, Op], unary_minus: int | None) -> str:
    """``expr`` as source text inside an operand of binding strength ``parent`` (0: none)."""
    if isinstance(expr, Name):
        return expr.id
    if isinstance(expr, Const):
        text = _literal(expr.value)
        return f"({text})" if text.startswith("-") and parent >= (unary_minus or 0) else text
    op = operators.get(expr.op)
    if op is None or op.symbol is None or op.precedence is None or len(expr.args) != len(op.args) or expr.params:
        parts = [_source(a, 0, operators, unary_minus) for a in expr.args]
        parts += [f"{k}={_literal(v)}" for k, v in expr.params]
        return f"{expr.op}({', '.join(parts)})"
    symbol, prec = op.symbol, op.precedence
    if len(expr.args) == 1:
        spaced = symbol + (" " if symbol[-1].isalpha() else "")
        text = spaced + _source(expr.args[0], prec, operators, unary_minus)
        return f"({text})" if prec < parent else text
    right_assoc = symbol in _RIGHT_ASSOCIATIVE
    left = _source(expr.args[0], prec + (1 if right_assoc else 0), operators, unary_minus)
    right = _source(expr.args[1], prec + (0 if right_assoc else 1), operators, unary_minus)
    text = f"{left} {symbol} {right}"
    # comparisons do not chain in our language: a comparison operand of a comparison is parenthesized
    return f"({text})" if prec < parent or (symbol in _NON_CHAINING and prec == parent) else text


# ---------------------------------------------------------------- typed IR (compiler level)


def _digest(payload: Any) -> str:
    return sha256_hex(canonical_json(payload, default=_canonical))


def _canonical(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    raise TypeError(f"cannot fingerprint {type(value).__name__}")


def canonical_scalar(value: Any) -> Any:
    """A JSON-stable form of a literal that keeps int, float, -0.0, NaN and inf apart."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return {"int": str(value)}
    if isinstance(value, float):
        return {"float": value.hex()}
    if isinstance(value, (list, tuple)):
        return [canonical_scalar(v) for v in value]
    raise TypeError(f"cannot fingerprint {type(value).__name__}")


class Node:
    """Base of typed IR nodes: ``dtype``, ``nullable`` and a content ``key``."""

    __slots__ = ("dtype", "nullable", "key")
    dtype: DType
    nullable: bool
    key: str

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Node) and self.key == other.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("IR nodes are immutable")

    def _init(self, dtype: DType, nullable: bool, payload: Any) -> None:
        object.__setattr__(self, "dtype", dtype)
        object.__setattr__(self, "nullable", nullable)
        object.__setattr__(self, "key", _digest([dtype.value, nullable, payload]))


class InputNode(Node):
    """A raw input, after the input contract has been applied."""

    __slots__ = ("name", "contract_key")
    name: str
    contract_key: str

    def __init__(self, name: str, dtype: DType, nullable: bool, contract_key: str) -> None:
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "contract_key", contract_key)
        self._init(dtype, nullable, ["input", name, contract_key])

    def __repr__(self) -> str:
        return f"InputNode({self.name}: {self.dtype.value}{'?' if self.nullable else ''})"


class ConstNode(Node):
    """A literal value of a known type (timestamps are int microseconds since the epoch)."""

    __slots__ = ("value",)
    value: Any

    def __init__(self, value: Any, dtype: DType) -> None:
        object.__setattr__(self, "value", value)
        self._init(dtype, value is None, ["const", canonical_scalar(value)])

    def __repr__(self) -> str:
        return f"ConstNode({self.value!r}: {self.dtype.value})"


class CallNode(Node):
    """An op applied to typed arguments with validated parameters."""

    __slots__ = ("op", "args", "params")
    op: str
    args: tuple[Node, ...]
    params: tuple[tuple[str, Any], ...]

    def __init__(
        self,
        op: str,
        args: tuple[Node, ...],
        params: tuple[tuple[str, Any], ...],
        dtype: DType,
        nullable: bool,
        unkeyed: frozenset[str] = frozenset(),
    ) -> None:
        object.__setattr__(self, "op", op)
        object.__setattr__(self, "args", args)
        object.__setattr__(self, "params", params)
        # ``unkeyed``: parameters at a default that is left out of the content key (Param.keyed_at_default)
        payload = ["call", op, [a.key for a in args], [[k, canonical_scalar(v)] for k, v in params if k not in unkeyed]]
        self._init(dtype, nullable, payload)

    def __repr__(self) -> str:
        return f"CallNode({self.op}, {len(self.args)} args: {self.dtype.value})"


def walk(roots: list[Node]) -> list[Node]:
    """Every node reachable from ``roots``, each once, children before parents."""
    seen: dict[str, Node] = {}
    order: list[Node] = []
    stack: list[tuple[Node, bool]] = [(r, False) for r in reversed(roots)]
    while stack:
        node, expanded = stack.pop()
        if node.key in seen:
            continue
        if expanded or not isinstance(node, CallNode):
            seen[node.key] = node
            order.append(node)
            continue
        stack.append((node, True))
        stack.extend((a, False) for a in reversed(node.args) if a.key not in seen)
    return order
