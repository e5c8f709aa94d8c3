"""Spec -> typed feature graph: resolve names, check types and params, fingerprint.

Everything a spec can get wrong is caught here, when the spec is built, never at transform
time: unknown names and ops (with a did-you-mean hint), cycles between features, bad
parameters, type errors, multi-column ops used inside expressions, two features that could
produce the same output column. Mixed int/float operands are unified by inserting an
explicit ``to_float`` node, so each compiled op sees one type. Features are resolved in
dependency order without recursion, so a chain of thousands of features is fine.
"""

from __future__ import annotations

import dataclasses
import math
from typing import TYPE_CHECKING, Any

import featurekit.ir.ops  # noqa: F401  (registers the built-in ops this module looks up)
from featurekit import registry
from featurekit.errors import SpecError, did_you_mean
from featurekit.ir.nodes import Call, CallNode, Const, ConstNode, Expr, InputNode, Name, Node, to_source
from featurekit.registry import ParamError, Params
from featurekit.types import INPUT_TYPES, INT64_MAX, INT64_MIN, DType
from featurekit.values.hashing import fingerprint
from featurekit.values.parse import parse_timestamp

if TYPE_CHECKING:
    from featurekit.spec.model import FeatureSpec, Spec


@dataclasses.dataclass(frozen=True)
class Graph:
    """The typed, validated form of a spec that the compilers and ``fit`` work on.

    ``features`` maps each feature name to its root node; ``outputs`` lists the output
    features in order. Feature references are inlined, so equal sub-expressions are one node.
    """

    inputs: dict[str, InputNode]
    features: dict[str, Node]
    outputs: tuple[str, ...]
    feature_fingerprints: dict[str, str]
    fingerprint: str

    def is_multi(self, feature: str) -> bool:
        node = self.features[feature]
        return isinstance(node, CallNode) and registry.get(node.op).outputs is not None


def normalize(spec: Spec) -> Graph:
    """Validate ``spec`` and build its :class:`Graph`; raises :class:`SpecError`."""
    return _Normalizer(spec).run()


class _Normalizer:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.path = spec.path
        self.inputs: dict[str, InputNode] = {}
        self.constants: dict[str, ConstNode] = {}
        self.decls = {f.name: f for f in spec.features}
        self.done: dict[str, Node] = {}
        self.ranges: dict[str, tuple[int, int]] = {}

    def fail(self, what: str, feature: FeatureSpec | None = None, **kw: Any) -> SpecError:
        where = f"feature {feature.name!r}: " if feature is not None else ""
        line = kw.pop("line", None)
        name = kw.pop("feature_name", None)
        return SpecError.at(
            where + what,
            path=self.path,
            line=feature.line if feature else line,
            feature=feature.name if feature else name,
            **kw,
        )

    def run(self) -> Graph:
        names_seen: dict[str, str] = {}
        for kind, items in (
            ("input", self.spec.inputs),
            ("constant", self.spec.constants),
            ("feature", self.spec.features),
        ):
            for item in items:
                if item.name in names_seen:
                    other = names_seen[item.name]
                    raise self.fail(
                        f"{kind} {item.name!r} has the same name as {'an' if other == 'input' else 'a'} {other}",
                        line=item.line,
                        feature_name=item.name if kind == "feature" else None,
                        fix="inputs, constants and features share one namespace; rename one",
                    )
                names_seen[item.name] = kind
        for inp in self.spec.inputs:
            dtype = INPUT_TYPES[inp.type]
            nullable = inp.nullable or inp.on_violation == "null"
            self.inputs[inp.name] = InputNode(inp.name, dtype, nullable, inp.contract_key())
        for const in self.spec.constants:
            self.constants[const.name] = self._constant_node(const)
        for name in self._feature_order():
            self._resolve_feature(name)
        outputs = self.spec.outputs if self.spec.outputs is not None else tuple(self.decls)
        for name in outputs:
            if name not in self.decls:
                raise self.fail(
                    f"'outputs' lists {name!r}, which is not a feature",
                    fix="list feature names only",
                    hint=did_you_mean(name, self.decls),
                )
        if len(set(outputs)) != len(outputs):
            raise self.fail("'outputs' lists a feature twice", fix="list each feature once")
        for name, node in self.done.items():
            if isinstance(node, CallNode) and registry.get(node.op).outputs is not None and name not in outputs:
                raise self.fail(
                    f"multi-column op {node.op!r} must be an output feature",
                    self.decls[name],
                    fix=f"add {name!r} to outputs",
                )
        self._check_column_names(outputs)
        fingerprints = {name: fingerprint(["feature", name, self.done[name].key]) for name in outputs}
        contracts = sorted((i.name, i.contract_key) for i in self.inputs.values())
        whole = fingerprint(["spec", contracts, [fingerprints[n] for n in outputs]])
        return Graph(
            inputs=self.inputs,
            features=dict(self.done),
            outputs=tuple(outputs),
            feature_fingerprints=fingerprints,
            fingerprint=whole,
        )

    def _check_column_names(self, outputs: tuple[str, ...] | list[str]) -> None:
        """Refuse two output features that produce the same column name. A multi-column op
        names its columns ``<column_prefix>_<value>``: when its argument is an input with
        declared ``values`` the columns are known here; otherwise ``FittedTransform`` checks
        the names fit produced."""
        owner: dict[str, str] = {}
        for name in outputs:
            node = self.done[name]
            if not isinstance(node, CallNode) or (op := registry.get(node.op)).outputs is None:
                columns = [name]
            elif op.column_prefix is not None and isinstance(node.args[0], InputNode):
                declared = next(i for i in self.spec.inputs if i.name == node.args[0].name).values
                if declared is None:
                    continue
                prefix = op.column_prefix(name, Params(dict(node.params)))
                columns = [f"{prefix}_{v}" for v in declared]
            else:
                continue
            for col in columns:
                other = owner.get(col)
                if other is not None and other != name:
                    raise self.fail(
                        f"features {other!r} and {name!r} both produce the output column {col!r}",
                        self.decls[name],
                        fix="rename one of them, or give the one_hot feature "
                        "a prefix= that no other output column starts with",
                    )
                owner[col] = name

    def _feature_order(self) -> list[str]:
        """Feature names, each after the features it references (a depth-first post-order that
        visits references left to right, as building them would). A cycle raises."""
        refs: dict[str, list[str]] = {}
        for feature in self.spec.features:
            names: list[str] = []
            stack: list[Expr] = [feature.expr]
            while stack:
                expr = stack.pop()
                if isinstance(expr, Name):
                    if expr.id in self.decls and expr.id not in self.inputs and expr.id not in self.constants:
                        names.append(expr.id)
                elif isinstance(expr, Call):
                    stack.extend(reversed(expr.args))
            refs[feature.name] = names
        order: list[str] = []
        done: set[str] = set()
        for root in self.decls:
            if root in done:
                continue
            path = [root]
            stack2 = [iter(refs[root])]
            while stack2:
                nxt = next(stack2[-1], None)
                if nxt is None:
                    stack2.pop()
                    finished = path.pop()
                    if finished not in done:
                        done.add(finished)
                        order.append(finished)
                    continue
                if nxt in done:
                    continue
                if nxt in path:
                    cycle = " -> ".join(path[path.index(nxt) :] + [nxt])
                    raise self.fail(
                        f"features reference each other in a cycle: {cycle}",
                        self.decls[nxt],
                        fix="break the cycle: a feature cannot depend on itself",
                    )
                path.append(nxt)
                stack2.append(iter(refs[nxt]))
        return order

    def _constant_node(self, const: Any) -> ConstNode:
        if const.type == "timestamp":
            return ConstNode(parse_timestamp(const.value, None, "UTC"), DType.TIMESTAMP)
        return ConstNode(
            const.value, {"int": DType.INT, "float": DType.FLOAT, "str": DType.STR, "bool": DType.BOOL}[const.type]
        )

    def _resolve_feature(self, name: str) -> Node:
        """The node of a feature; the features it references are built first (``_feature_order``)."""
        node = self.done.get(name)
        if node is None:
            feature = self.decls[name]
            node = self.done[name] = self._build(feature.expr, feature, top=True)
        return node

    def _build(self, expr: Expr, feature: FeatureSpec, top: bool = False) -> Node:
        if isinstance(expr, Const):
            value = expr.value
            dtype = (
                DType.BOOL
                if isinstance(value, bool)
                else DType.INT
                if isinstance(value, int)
                else DType.FLOAT
                if isinstance(value, float)
                else DType.STR
            )
            return ConstNode(value, dtype)
        if isinstance(expr, Name):
            return self._name(expr.id, feature)
        return self._call(expr, feature, top)

    def _name(self, name: str, feature: FeatureSpec) -> Node:
        if name in self.inputs:
            return self.inputs[name]
        if name in self.constants:
            return self.constants[name]
        if name in self.decls:
            node = self._resolve_feature(name)
            if isinstance(node, CallNode) and registry.get(node.op).outputs is not None:
                raise self.fail(
                    f"uses feature {name!r}, which is multi-column ({node.op}) and cannot be used inside an expression",
                    feature,
                    fix=_multi_fix(self.decls[name].expr),
                )
            return node
        known = list(self.inputs) + list(self.constants) + list(self.decls)
        raise self.fail(
            f"uses {name!r}, which is not a declared input, constant or feature",
            feature,
            fix=f"declare {name!r} under inputs:, or fix the name",
            hint=did_you_mean(name, known),
        )

    def _call(self, expr: Call, feature: FeatureSpec, top: bool) -> Node:
        try:
            op = registry.get(expr.op)
        except KeyError as exc:
            raise self.fail(
                f"uses unknown op {expr.op!r}",
                feature,
                op=expr.op,
                fix="see `featurekit ops` for the registered ops",
                hint=exc.args[0] or None,
            ) from None
        args = [self._build(a, feature) for a in expr.args]
        if expr.op == "add" and all(a.dtype is DType.STR for a in args):
            op = registry.get("concat")
        n = len(op.args)
        if (len(args) != n and not op.variadic) or (op.variadic and len(args) < n):
            want = f"at least {n}" if op.variadic else str(n)
            raise self.fail(
                f"op {op.name!r} takes {want} argument(s); got {len(args)}",
                feature,
                op=op.name,
                fix=f"call it as {op.name}({', '.join('x' + str(i) for i in range(n))}"
                f"{', ...' if op.variadic else ''})",
            )
        given = dict(expr.params)
        for key in given:
            if key not in op.params:
                known = ", ".join(op.params) or "none"
                raise self.fail(
                    f"op {op.name!r} has no parameter {key!r} (parameters: {known})",
                    feature,
                    op=op.name,
                    fix=f"remove {key!r} or use one of the listed parameters",
                    hint=did_you_mean(key, op.params),
                )
        try:
            params = Params(op.bind_params(given))
        except ParamError as exc:
            raise self.fail(str(exc), feature, op=op.name, fix=exc.fix or _param_fix(op, given)) from None
        if op.outputs is not None and not top:
            raise self.fail(
                f"op {op.name!r} produces several columns and must be the whole expression",
                feature,
                op=op.name,
                fix=f"make a separate feature: name: {op.name}(...)",
            )
        args = self._coerce_args(op, args, feature, expr.args)
        types = tuple(a.dtype for a in args)
        try:
            dtype = op.dtype_rule(types, params)
        except TypeError as exc:
            raise self.fail(
                f"op {op.name!r}: {exc}",
                feature,
                op=op.name,
                fix="convert explicitly with to_int/to_float/to_str/to_bool",
            ) from None
        rng = None
        if dtype is DType.INT and op.int_range is not None:
            rng = op.int_range(params, tuple(self._range(a) for a in args))
        nullable = op.result_nullable([a.nullable for a in args], params, types, rng)
        unkeyed = frozenset(
            k
            for k, v in params.items()
            if k in op.params and not op.params[k].keyed_at_default and v == op.params[k].default
        )
        node = CallNode(op.name, tuple(args), tuple(sorted(params.items())), dtype, nullable, unkeyed)
        if rng is not None:
            self.ranges[node.key] = rng
        return node

    def _range(self, node: Node) -> tuple[int, int] | None:
        """Inclusive value range of an int (or bool, as 0/1) node; None when unknown."""
        if node.dtype is DType.BOOL:
            return (0, 1)
        if node.dtype is not DType.INT:
            return None
        if isinstance(node, ConstNode):
            return (node.value, node.value)
        if isinstance(node, InputNode):
            spec = next(i for i in self.spec.inputs if i.name == node.name)
            lo = math.ceil(spec.min) if spec.min is not None else INT64_MIN
            hi = math.floor(spec.max) if spec.max is not None else INT64_MAX
            return (lo, hi)
        return self.ranges.get(node.key)

    def _coerce_args(
        self, op: registry.Op, args: list[Node], feature: FeatureSpec, sources: tuple[Expr, ...] = ()
    ) -> list[Node]:
        """Check argument types; insert to_float where the op asks for floats or unification."""
        out = list(args)
        for i, arg in enumerate(out):
            allowed = op.args[min(i, len(op.args) - 1)]
            if arg.dtype not in allowed:
                names = sorted(t.value for t in allowed)
                names_text = ", ".join(names[:-1]) + " or " + names[-1] if len(names) > 1 else names[0]
                src = to_source(sources[i]) if i < len(sources) else "x"
                if len(src) > 60:
                    src = src[:57] + "..."
                hint = None
                if arg.dtype is DType.BOOL and DType.INT in allowed:
                    hint = f"true/false are not numbers here; write to_int({src})"
                raise self.fail(
                    f"op {op.name!r} argument {i + 1} ({src}) must be {names_text}; got {arg.dtype.value}",
                    feature,
                    op=op.name,
                    fix=f"convert explicitly with to_int/to_float/to_str/to_bool, or pass a {names_text} value",
                    hint=hint,
                )
        positions = [i for i in op.promote if i < len(out)]
        types = {out[i].dtype for i in positions}
        if types == {DType.INT, DType.FLOAT}:
            for i in positions:
                out[i] = _to_float(out[i])
        if op.float_args:
            out = [_to_float(a) if a.dtype is DType.INT else a for a in out]
        return out


def _multi_fix(expr: Expr) -> str:
    """Fix for using a multi-column feature inside an expression: point at its input."""
    arg = to_source(expr.args[0]) if isinstance(expr, Call) and expr.args else "x"
    return f"use a single-column op on the same input instead, e.g. vocab({arg}) for an index"


def _param_fix(op: registry.Op, given: dict[str, Any]) -> str:
    """A fix for a parameter error whose registry message carries none: name the rule."""
    for key, param in op.params.items():
        if key in given:
            try:
                param.validate(given[key])
            except ParamError:
                return f"give {key} {param.describe()}"
    return f"see the parameters of {op.name} in `featurekit ops`"


def _to_float(node: Node) -> Node:
    if node.dtype is not DType.INT:
        return node
    if isinstance(node, ConstNode):
        return ConstNode(float(node.value), DType.FLOAT)
    return CallNode("to_float", (node,), (), DType.FLOAT, node.nullable)
