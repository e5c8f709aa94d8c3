"""The Python DSL: build the same spec as YAML, with Python operators and op functions.

Every registered op is a function here (``dsl.log1p(x)``, ``dsl.vocab(x, top_k=50)``), names
are ``dsl.col("x")``, and ``+ - * / **``, comparisons, ``&`` (and), ``|`` (or) and ``~``
(not) build the same expression nodes the YAML parser builds, so a DSL spec and its YAML
twin are equal and have the same fingerprint. :func:`spec` validates through the YAML
loader's :func:`~featurekit.spec.load_yaml.build_spec` (each expression is written as text
and parsed back), so both front ends accept exactly the same specs.

>>> from featurekit import dsl
>>> x = dsl.col("x")
>>> spec = dsl.spec("tiny", "1.0.0",
...                 inputs={"x": dsl.input("float", min=0)},
...                 features={"x_log": dsl.log1p(x) / 2, "x_big": dsl.to_int(x > 10)})
>>> spec.features[0].source
'log1p(x) / 2'
>>> import featurekit as fk
>>> fk.spec_from_yaml(spec.to_yaml()).fingerprint == spec.fingerprint
True
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import featurekit.ir.ops  # noqa: F401  (registers the built-in ops this module looks up)
from featurekit import registry
from featurekit.ir.nodes import Call, Const, Expr, Name
from featurekit.spec.model import Spec
from featurekit.types import plain_value


class E:
    """A DSL expression: wraps an expression node and overloads Python operators."""

    __slots__ = ("node",)

    def __init__(self, node: Expr) -> None:
        self.node = node

    def _bin(self, op: str, other: Any, reverse: bool = False) -> E:
        a, b = self.node, _node(other)
        return E(Call(op, (b, a) if reverse else (a, b), ()))

    def __add__(self, o: Any) -> E:
        return self._bin("add", o)

    def __radd__(self, o: Any) -> E:
        return self._bin("add", o, True)

    def __sub__(self, o: Any) -> E:
        return self._bin("sub", o)

    def __rsub__(self, o: Any) -> E:
        return self._bin("sub", o, True)

    def __mul__(self, o: Any) -> E:
        return self._bin("mul", o)

    def __rmul__(self, o: Any) -> E:
        return self._bin("mul", o, True)

    def __truediv__(self, o: Any) -> E:
        return self._bin("div", o)

    def __rtruediv__(self, o: Any) -> E:
        return self._bin("div", o, True)

    def __pow__(self, o: Any) -> E:
        return self._bin("pow", o)

    def __rpow__(self, o: Any) -> E:
        return self._bin("pow", o, True)

    def __eq__(self, o: Any) -> E:  # type: ignore[override]  # builds an expression, not a bool
        return self._bin("eq", o)

    def __ne__(self, o: Any) -> E:  # type: ignore[override]  # builds an expression, not a bool
        return self._bin("ne", o)

    def __lt__(self, o: Any) -> E:
        return self._bin("lt", o)

    def __le__(self, o: Any) -> E:
        return self._bin("le", o)

    def __gt__(self, o: Any) -> E:
        return self._bin("gt", o)

    def __ge__(self, o: Any) -> E:
        return self._bin("ge", o)

    def __and__(self, o: Any) -> E:
        return self._bin("and_", o)

    def __or__(self, o: Any) -> E:
        return self._bin("or_", o)

    def __invert__(self) -> E:
        return E(Call("not_", (self.node,), ()))

    def __neg__(self) -> E:
        if isinstance(self.node, Const) and type(self.node.value) in (int, float):
            return E(Const(-self.node.value))
        return E(Call("neg", (self.node,), ()))

    __hash__ = None  # type: ignore[assignment]

    def __bool__(self) -> bool:
        raise TypeError(
            "a DSL expression has no truth value; use & | ~ instead of and/or/not, and if_else(c, a, b) instead of if"
        )

    def __repr__(self) -> str:
        from featurekit.ir.nodes import to_source

        return f"E({to_source(self.node)})"


def _node(value: Any) -> Expr:
    if isinstance(value, E):
        return value.node
    value = plain_value(value)  # an Enum member or numpy scalar: its plain str/int/float value
    if isinstance(value, (bool, int, float, str)):
        return Const(value)
    raise TypeError(f"cannot use {type(value).__name__} {value!r} in a feature expression")


def col(name: str) -> E:
    """A reference to an input, constant or feature by name."""
    return E(Name(name))


def lit(value: Any) -> E:
    """A literal value (use it for strings: ``col("s") == lit("a")`` is also ``col("s") == "a"``)."""
    return E(Const(plain_value(value)))


def _op(name: str):
    op = registry.get(name)

    def build(*args: Any, **params: Any) -> E:
        n = len(op.args)
        exprs = tuple(_node(a) for a in (args if op.variadic else args[:n]))
        extra = () if op.variadic else args[n:]
        names = list(op.params)
        given = dict(zip(names, extra))
        given.update(params)
        items = tuple(
            sorted(
                (k, [plain_value(x) for x in v] if isinstance(v, (list, tuple)) else plain_value(v))
                for k, v in given.items()
            )
        )
        return E(Call(name, exprs, items))

    build.__name__ = name
    build.__doc__ = op.doc
    return build


def input(type: str, **contract: Any) -> dict[str, Any]:  # noqa: A001 - mirrors the YAML key
    """An input contract: ``input("float", min=0, nullable=False)``; every YAML input key works,
    e.g. ``input("category", values=["a", "b"], open=True)`` or ``input("timestamp", tz="aware")``."""
    return {"type": type, **contract}


def spec(
    name: str,
    version: str,
    *,
    inputs: Mapping[str, Mapping[str, Any] | str],
    features: Mapping[str, Any],
    constants: Mapping[str, Any] | None = None,
    outputs: list[str] | None = None,
    description: str = "",
    monitoring: Mapping[str, Any] | None = None,
) -> Spec:
    """Build and validate a :class:`Spec` with the YAML loader's rules.

    ``monitoring``: the skew report's alert thresholds, as under ``monitoring:`` in YAML
    (``{"psi": 0.25, "columns": {"age": {"psi": 0.4, "min_samples": 500}}}``).

    Feature values may be DSL expressions, YAML-style text, or mappings
    ``{"expr": ..., "doc": ..., "on_empty_fit": "fallback"}``.
    """
    from featurekit.spec.load_yaml import build_spec
    from featurekit.spec.model import FORMAT_VERSION

    def feature(value: Any) -> Any:
        if isinstance(value, E):
            return value.node
        if isinstance(value, Mapping) and isinstance(value.get("expr"), E):
            return {**value, "expr": value["expr"].node}
        return value

    data: dict[str, Any] = {
        "featurekit": FORMAT_VERSION,
        "name": name,
        "version": version,
        "inputs": dict(inputs),
        "features": {k: feature(v) for k, v in features.items()},
    }
    if constants:
        data["constants"] = dict(constants)
    if outputs is not None:
        data["outputs"] = list(outputs)
    if description:
        data["description"] = description
    if monitoring is not None:
        data["monitoring"] = monitoring
    return build_spec(data)


def __getattr__(name: str) -> Any:
    if registry.has(name):
        return _op(name)
    raise AttributeError(f"featurekit.dsl has no op {name!r}")


__all__ = ["E", "col", "lit", "input", "spec", *registry.names()]
