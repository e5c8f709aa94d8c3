"""What fitted state may look like: each analyzed op declares it; every state is checked.

An op with an analyzer declares ``state_schema``: a :class:`StateSchema` with one
:class:`Field` per key of its state and, optionally, a ``rule`` across fields and
parameters (a vocabulary no longer than ``top_k``). :func:`validate_state` checks the state
of a fitted transform against the schemas of the ops in its spec: exactly the analyzed
nodes, exactly the declared keys, each value's type and constraint. It runs whenever a
:class:`~featurekit.transform.FittedTransform` is built, so an edited ``state.json`` whose
hashes were recomputed is refused at load instead of serving a wrong value (a zero ``std``
divides by zero on the row path and gives ``inf`` on the batch path; a repeated vocabulary
entry gets two indexes; a text fill lands in a float column).

Every schema has a ``count`` field: the number of non-null training values its analyzer saw
(``fit`` refuses a count of 0 on non-empty data unless the feature declares a fallback).

>>> from featurekit.types import DType
>>> schema = StateSchema({"mean": Field("float"), "std": Field("float", nonzero=True), "count": Field("count")})
>>> schema.problem({"mean": 1.0, "std": 0.0, "count": 3}, {}, DType.FLOAT, DType.FLOAT)
"field 'std' must be a non-zero float (a divisor); got 0.0"
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from featurekit.errors import ArtifactError
from featurekit.types import INT64_MAX, INT64_MIN, DType

if TYPE_CHECKING:
    from featurekit.spec.model import Spec

_KINDS = ("count", "flag", "float", "floats", "value", "values", "result", "pairs")


@dataclasses.dataclass(frozen=True)
class Field:
    """One field of an op's state.

    ``kind``: ``count`` (an int >= 0), ``flag`` (true or false), ``float``, ``floats`` (a list of floats), ``value`` /
    ``values`` (one / a list of values of the op's first argument's type), ``result`` (a
    value of the op's result type), ``pairs`` (a list of ``[value, count]``). ``nullable``
    allows None; ``nonzero`` refuses ``0.0`` (a divisor); ``unique`` refuses repeated list
    entries; ``ascending`` wants a sorted list; ``no_nan`` refuses NaN entries; ``max`` bounds
    counts (so the op's ``int_range`` holds). ``only_with`` names a parameter: the field is
    present exactly when that parameter is set (``bounded=``'s ``count_bound``).
    """

    kind: str
    nullable: bool = False
    nonzero: bool = False
    unique: bool = False
    ascending: bool = False
    no_nan: bool = False
    max: int | None = None
    only_with: str | None = None

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"unknown state field kind {self.kind!r}; one of {_KINDS}")

    def problem(self, value: Any, arg: DType, result: DType) -> str | None:
        """What is wrong with ``value`` (None when it fits)."""
        if value is None:
            return None if self.nullable else "must not be null"
        kind = self.kind
        if kind == "count":
            return _count_problem(value, self.max)
        if kind == "flag":
            return None if isinstance(value, bool) else f"must be true or false; got {value!r:.60}"
        if kind in ("float", "value", "result"):
            dtype = {"float": DType.FLOAT, "value": arg, "result": result}[kind]
            problem = _value_problem(value, dtype)
            if problem is None and self.nonzero and value == 0.0:
                return f"must be a non-zero float (a divisor); got {value!r}"
            return problem
        if not isinstance(value, list):
            return f"must be a list; got {type(value).__name__}"
        if kind == "pairs":
            for item in value:
                if not (isinstance(item, list) and len(item) == 2):
                    return f"must be a list of [value, count] pairs; got {item!r:.60}"
                problem = _value_problem(item[0], arg) or _count_problem(item[1], self.max)
                if problem is not None:
                    return f"entry {item!r:.60}: {problem}"
            keys = [_key(item[0]) for item in value]
        else:
            dtype = DType.FLOAT if kind == "floats" else arg
            for item in value:
                problem = _value_problem(item, dtype)
                if problem is not None:
                    return f"entry {item!r:.60}: {problem}"
                if self.no_nan and item != item:
                    return "must not hold NaN"
            keys = [_key(item) for item in value]
            if self.ascending and any(b < a for a, b in zip(value, value[1:])):
                return "must be in ascending order"
        if self.unique:
            seen: set[tuple[str, Any]] = set()
            for key in keys:
                if key in seen:
                    return f"must not repeat an entry; {key[1]!r:.60} appears twice"
                seen.add(key)
        return None


@dataclasses.dataclass(frozen=True)
class StateSchema:
    """The fields of an op's state and an optional ``rule(state, params) -> problem | None``."""

    fields: Mapping[str, Field]
    rule: Callable[[dict, Any], str | None] | None = None

    def problem(self, state: Any, params: Any, arg: DType, result: DType) -> str | None:
        """What is wrong with ``state`` (None when it fits the schema)."""
        if not isinstance(state, dict):
            return f"must be an object with fields {sorted(self.fields)}; got {type(state).__name__}"
        fields = {
            name: f for name, f in self.fields.items() if f.only_with is None or params.get(f.only_with) is not None
        }
        if set(state) != set(fields):
            return f"has fields {sorted(state)}; expected {sorted(fields)}"
        for name, field in fields.items():
            problem = field.problem(state[name], arg, result)
            if problem is not None:
                return f"field {name!r} {problem}"
        return self.rule(state, params) if self.rule is not None else None


def _key(value: Any) -> tuple[str, Any]:
    """A hashable identity that keeps 1, 1.0 and True apart (JSON keeps them apart too)."""
    return (type(value).__name__, value)


def _count_problem(value: Any, most: int | None) -> str | None:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        return f"must be a count (an int >= 0); got {value!r:.60}"
    if most is not None and value > most:
        return f"must be at most {most}; got {value}"
    return None


def _value_problem(value: Any, dtype: DType) -> str | None:
    """Whether ``value`` is a value of ``dtype`` as both paths hold it."""
    ok = {
        DType.FLOAT: isinstance(value, float),
        DType.INT: isinstance(value, int) and not isinstance(value, bool) and INT64_MIN <= value <= INT64_MAX,
        DType.TIMESTAMP: isinstance(value, int) and not isinstance(value, bool) and INT64_MIN <= value <= INT64_MAX,
        DType.BOOL: isinstance(value, bool),
        DType.STR: isinstance(value, str),
    }[dtype]
    if not ok:
        hint = " (write floats with a decimal point)" if dtype is DType.FLOAT and isinstance(value, int) else ""
        article = "an" if dtype is DType.INT else "a"
        return f"must be {article} {dtype.value}{hint}; got {value!r:.60} ({type(value).__name__})"
    if dtype is DType.STR:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return f"must be valid Unicode text; got {value!r:.60}"
    return None


def validate_state(spec: Spec, state: Mapping[str, Any]) -> None:
    """Raise :class:`ArtifactError` unless ``state`` holds exactly the state of each analyzed
    node of ``spec``, each matching its op's declared schema."""
    from featurekit import registry
    from featurekit.ir.analysis import analyzed_nodes
    from featurekit.registry import Params

    graph = spec.graph
    roots = [graph.features[o] for o in graph.outputs]
    nodes = analyzed_nodes(roots)
    extra = sorted(set(state) - {n.key for n in nodes})
    if extra:
        raise ArtifactError(
            f"fitted state holds {len(extra)} entr{'y' if len(extra) == 1 else 'ies'} for "
            f"ops the spec does not have (first key {extra[0][:12]}...)\n  Fix: restore the "
            "artifact from its source, or refit and re-save",
            node=extra[0],
        )
    for node in nodes:
        op = registry.get(node.op)
        where = f"fitted state of op {node.op!r} in feature {_feature_of(spec, node.key)!r}"
        if node.key not in state:
            raise ArtifactError(f"{where} is missing\n  Fix: refit and re-save", node=node.key, op=node.op)
        params = Params(dict(node.params))
        problem = op.state_schema.problem(state[node.key], params, node.args[0].dtype, node.dtype)
        if problem is not None:
            raise ArtifactError(
                f"{where}: {problem}\n  Fix: restore the artifact from its source, or refit "
                "and re-save (fitted state is never edited by hand)",
                node=node.key,
                op=node.op,
                feature=_feature_of(spec, node.key),
            )


def _feature_of(spec: Spec, key: str) -> str:
    """The first feature (in declaration order) whose expression holds the node ``key``."""
    from featurekit.ir.nodes import walk

    graph = spec.graph
    for name in (f.name for f in spec.features):
        if name in graph.features and any(n.key == key for n in walk([graph.features[name]])):
            return name
    return "?"  # pragma: no cover - every analyzed node belongs to a feature
