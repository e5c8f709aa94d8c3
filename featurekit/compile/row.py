"""The row lowering: one generated Python function per fitted transform.

The feature graph becomes straight-line Python source, one assignment per node, with fitted
constants inlined as literals (or module-level constants for tables), null checks only where
a value can be null, and contract checks on an inlined fast path (the shared
:class:`~featurekit.compile.contract.Coercer` handles everything else). The source is
compiled once and registered in :mod:`linecache` under a name like
``<featurekit row churn@1.0.0 fp=3fa9c2...>`` so tracebacks show the generated line;
``FittedTransform.row_source`` shows it. The generated code and its helpers
(:mod:`featurekit.values.rowlib`) import neither numpy nor pandas, never mutate the input
dict, and keep no state between calls (thread-safe).
"""

from __future__ import annotations

import builtins
import datetime as _dt
import itertools
import linecache
import math
import re
import symtable
import sys
import warnings
import weakref
import zlib
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import featurekit.ir.ops  # noqa: F401  (registers the built-in ops this module looks up)
from featurekit import registry
from featurekit.compile.contract import Coercer
from featurekit.errors import ContractError
from featurekit.ir.nodes import CallNode, ConstNode, InputNode, walk
from featurekit.logger import sink_failed
from featurekit.registry import NullRule, Params
from featurekit.spec.normalize import Graph
from featurekit.types import TIMESTAMP_MAX_US, TIMESTAMP_MIN_US, DType, plain_value
from featurekit.values import rowlib
from featurekit.values.hashing import transform_fingerprint

_UTC = _dt.UTC
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_UTC)
_EPOCH_NAIVE = _dt.datetime(1970, 1, 1)
_US = _dt.timedelta(microseconds=1)
NOT_CONST = object()
"""What :meth:`RowContext.const_arg` returns for an argument that is not a literal."""


def _us_to_datetime(us: int | None) -> _dt.datetime | None:
    return None if us is None else _EPOCH + _dt.timedelta(microseconds=us)


def _timestamp_output(us: int | None, feature: str) -> _dt.datetime | None:
    """An output timestamp as a UTC datetime; an instant outside years 1-9999 (valid inside
    the graph: ``9999-12-31T23:59-23:59`` is in year 10000) raises naming the feature, as the
    batch path does (:func:`featurekit.compile.batch.check_timestamp_output`)."""
    if us is None:
        return None
    if TIMESTAMP_MIN_US <= us <= TIMESTAMP_MAX_US:
        return _EPOCH + _dt.timedelta(microseconds=us)
    raise ContractError.timestamp_output(feature=feature, value=rowlib.format_us(us), where="transform_row")


def _datetime_twin(us: int | None) -> _dt.datetime | None:
    """The UTC datetime of ``us``; None when null or outside datetime's years 1-9999 (an
    input like ``9999-12-31T23:59-23:59`` is a valid instant in year 10000)."""
    try:
        return _us_to_datetime(us)
    except OverflowError:
        return None


def _input_reader(names: tuple[str, ...]) -> Callable[[Any], tuple[Any, ...]]:
    """The inputs of any mapping, in ``names`` order; an absent key reads as None (missing)."""

    def read_inputs(row: Any) -> tuple[Any, ...]:
        try:
            get = row.get
        except AttributeError:
            raise _not_a_mapping(row) from None
        return tuple(get(name) for name in names)

    return read_inputs


def _not_a_mapping(row: Any) -> ContractError:
    return ContractError(
        f"transform_row: expected a dict of input values; got {type(row).__name__} "
        f"{row!r:.80}\n  Fix: pass one row as a dict, e.g. {{'x': 1.0}}; use "
        "transform_rows for a list",
        input=None,
        rule="row is a mapping",
        value=row,
    )


class RowContext:
    """What an op's row builder may use: constants, literals and argument nullability."""

    def __init__(self) -> None:
        self.namespace: dict[str, Any] = {
            k: v
            for k, v in vars(rowlib).items()
            if k.startswith("_") and callable(v) or k in ("bisect_right", "datetime_to_us")
        }
        self.namespace.update(
            _math=math,
            _NAN=math.nan,
            _INF=math.inf,
            _timestamp_output=_timestamp_output,
            _not_a_mapping=_not_a_mapping,
            _datetime_twin=_datetime_twin,
            _datetime=_dt.datetime,
            _UTC=_UTC,
            _EPOCH=_EPOCH,
            _EPOCH_NAIVE=_EPOCH_NAIVE,
            _US=_US,
            _zcrc=zlib.crc32,
            _mlog1p=math.log1p,
            _mlog=math.log,
        )
        self._consts: dict[tuple[str, str], str] = {}
        self._arg_nullable: tuple[bool, ...] = ()
        self._arg_consts: tuple[Any, ...] = ()
        self._arg_datetimes: tuple[str | None, ...] = ()
        self._arg_splits: tuple[tuple[str, str] | None, ...] = ()
        self.result_nullable = True

    def const(self, value: Any) -> str:
        """Name of a module-level constant holding ``value`` (deduplicated)."""
        key = (type(value).__name__, repr(value))
        name = self._consts.get(key)
        if name is None:
            name = f"_k{len(self._consts)}"
            self._consts[key] = name
            self.namespace[name] = value
        return name

    def lit(self, value: Any) -> str:
        """Python source for a literal value: every value pasted into generated source goes
        through here, so the text always reads back as the same value (``nan``/``inf`` become
        the names ``_NAN``/``_INF``; a subclass of str/int/float becomes its plain value).

        >>> ctx = RowContext()
        >>> ctx.lit(float("-inf")), ctx.lit(-0.0), ctx.lit(-3), ctx.lit("a")
        ('(-_INF)', '(-0.0)', '(-3)', "'a'")
        """
        value = plain_value(value)
        if value is None or isinstance(value, (bool, str)):
            return repr(value)
        if isinstance(value, int):
            return f"({value})" if value < 0 else repr(value)
        if isinstance(value, float):
            if math.isfinite(value):
                return f"({value!r})" if math.copysign(1.0, value) < 0 else repr(value)
            return "_NAN" if value != value else ("_INF" if value > 0 else "(-_INF)")
        return self.const(value)

    def nullable(self, i: int) -> bool:
        """Whether argument ``i`` of the op being compiled can be null."""
        return self._arg_nullable[i]

    def const_arg(self, i: int) -> Any:
        """The literal value of argument ``i`` when it is a constant, else :data:`NOT_CONST`."""
        return self._arg_consts[i]

    def datetime_of(self, i: int) -> str | None:
        """A variable holding argument ``i`` as a UTC ``datetime`` when it is a timestamp
        input; else None. The variable is None where the argument is null or beyond year 9999
        (the microseconds are still valid there), so use it as ``t.hour if t is not None else``
        the microsecond formula.

        Calendar fields read off a datetime (``.hour``, ``.weekday()``) cost less than integer
        arithmetic on microseconds, and are the same numbers.
        """
        return self._arg_datetimes[i]

    def null_split(self, i: int) -> tuple[str, str] | None:
        """``(is_null, value)`` when argument ``i`` is null exactly where the condition
        ``is_null`` holds, is the never-null expression ``value`` elsewhere, and is used by
        nothing else; else None.

        An op that replaces null (``coalesce``, ``impute``) can then emit
        ``fill if is_null else value``, so the argument's None is never built and tested.
        """
        return self._arg_splits[i]


def _input_lines(
    var: str, coercer_name: str, node: InputNode, spec: Any, lit: Callable[[Any], str], twin: str | None = None
) -> list[str]:
    """Fast-path acceptance inlined; anything unusual goes to the shared coercer.

    The fast path accepts exactly what the coercer would accept unchanged (so both agree by
    construction); None skips the call when the input is nullable. ``twin`` (timestamps only)
    also keeps the value as a UTC datetime, for ops that read calendar fields.
    """
    t = node.dtype
    lines = []
    if t is DType.FLOAT:
        cond = f"type({var}) is not float or {var} != {var}"
    elif t is DType.INT:  # one-digit bounds first: small ints compare on the interpreter's fast path
        cond = (
            f"type({var}) is not int or not (-1073741824 <= {var} <= 1073741823) "
            f"and not (-9223372036854775808 <= {var} <= 9223372036854775807)"
        )
    elif t is DType.BOOL:
        cond = f"type({var}) is not bool"
    elif t is DType.STR:
        cond = f"type({var}) is not str or not {var}.isascii()"
    else:
        cond = None
    slow = f"{coercer_name}({var})"
    if cond is None:  # timestamps: exact microseconds for datetime values in UTC or naive (= UTC)
        if spec.timezone == "UTC":
            # tz: aware / naive take only that shape inline; the coercer refuses the other one
            shape = {
                "any": f"((_tz := {var}.tzinfo) is None or _tz is _UTC)",
                "aware": f"(_tz := {var}.tzinfo) is _UTC",
                "naive": f"(_tz := {var}.tzinfo) is None",
            }[spec.tz]
            lines += [f"    if type({var}) is _datetime and {shape}:"]
            if twin:  # a naive value means UTC: its fields are the UTC fields
                lines.append(f"        {twin} = {var}")
            lines += [
                f"        {var} = ({var} - (_EPOCH_NAIVE if _tz is None else _EPOCH)) // _US",
                f"    elif {var} is not None:" if spec.nullable else "    else:",
                f"        {var} = {slow}",
            ]
            if twin:
                lines.append(f"        {twin} = _datetime_twin({var})")
                if spec.nullable:
                    lines += ["    else:", f"        {twin} = None"]
        else:
            lines.append(f"    {var} = {slow}")
            if twin:
                lines.append(f"    {twin} = _datetime_twin({var})")
        return lines
    if t is DType.STR and spec.min is None and spec.max is None and spec.domain is None:
        # plain text: any str that encodes as UTF-8 (no lone surrogates) is accepted as it is;
        # checking that inline spares non-ASCII text a call into the coercer
        lines.append(f"    if type({var}) is not str:")
        if spec.nullable:
            lines += [f"        if {var} is not None:", f"            {var} = {slow}"]
        else:
            lines.append(f"        {var} = {slow}")
        return lines + [
            f"    elif not {var}.isascii():",
            "        try:",
            f"            {var}.encode()",
            "        except UnicodeEncodeError:",
            f"            {var} = {slow}",
        ]
    checks = []
    if spec.min is not None:
        checks.append(f"{var} < {lit(spec.min)}")
    if spec.max is not None:
        checks.append(f"{var} > {lit(spec.max)}")
    if spec.domain is not None:
        checks.append(f"{var} not in {{domain}}")
    lines.append(f"    if {cond}:")
    if spec.nullable:
        lines.append(f"        if {var} is not None:")
        lines.append(f"            {var} = {slow}")
    else:
        lines.append(f"        {var} = {slow}")
    if checks:
        lines.append(f"    elif {' or '.join(checks)}:")
        lines.append(f"        {var} = {slow}")
    return lines


def compile_row(
    graph: Graph,
    state: Mapping[str, dict],
    spec: Any,
    output_names: Mapping[str, list[str]],
    label: str,
    *,
    trace: bool = False,
) -> tuple[Callable[..., dict[str, Any]], str]:
    """Generate, compile and return ``(transform_row, source)`` for a fitted graph.

    With ``trace=True`` the function instead returns every intermediate value by node key
    (used to find the first op where the two paths diverge).
    """
    ctx = RowContext()
    roots = [graph.features[o] for o in graph.outputs]
    nodes = walk(roots)
    uses = Counter(a.key for n in nodes if isinstance(n, CallNode) for a in n.args)
    uses.update(node.key for node in roots)
    used_inputs = {n.name for n in nodes if isinstance(n, InputNode)}
    names: dict[str, str] = {}
    body: list[str] = ["def transform_row(row, /, log=None):"]
    read = [inp for inp in spec.inputs if inp.name in used_inputs]
    if read:
        # a plain dict is subscripted directly; anything else (a missing key, another Mapping,
        # a dict subclass whose __missing__ could insert keys) takes the .get reader
        targets = ", ".join(f"i_{k}" for k in range(len(read))) + ("," if len(read) == 1 else "")
        ctx.namespace["_read_inputs"] = _input_reader(tuple(inp.name for inp in read))
        body += ["    if type(row) is dict:", "        try:"]
        body += [f"            i_{k} = row[{inp.name!r}]" for k, inp in enumerate(read)]
        body += [
            "        except KeyError:",
            f"            {targets} = _read_inputs(row)",
            "    else:",
            f"        {targets} = _read_inputs(row)",
        ]
    field_reads = {
        a.key
        for n in nodes
        if isinstance(n, CallNode) and registry.get(n.op).reads_datetime
        for a in n.args
        if isinstance(a, InputNode)
    }
    twins: dict[str, str] = {}
    for inp in read:
        inode = graph.inputs[inp.name]
        var = f"i_{len(names)}"
        names[inode.key] = var
        if inode.key in field_reads:
            twins[inode.key] = f"t_{var[2:]}"
        coercer = Coercer(inp, where="transform_row")
        cname = ctx.const(coercer.coerce)
        lines = _input_lines(var, cname, inode, inp, ctx.lit, twins.get(inode.key))
        if inp.domain is not None:
            domain = ctx.const(frozenset(inp.domain))
            lines = [ln.replace("{domain}", domain) for ln in lines]
        body += lines
    assigns: list[tuple[str, str, bool]] = []  # (variable, expression, may be moved)
    splits: dict[str, tuple[str, str]] = {}  # node key -> (is null, never-null value)
    selects: dict[str, registry.RowSelect] = {}
    for node in nodes:
        if node.key in names:
            continue
        if isinstance(node, ConstNode):
            names[node.key] = ctx.lit(node.value)
            continue
        assert isinstance(node, CallNode)
        op = registry.get(node.op)
        args = [names[a.key] for a in node.args]
        ctx._arg_nullable = tuple(a.nullable for a in node.args)
        ctx._arg_consts = tuple(a.value if isinstance(a, ConstNode) else NOT_CONST for a in node.args)
        ctx._arg_datetimes = tuple(twins.get(a.key) for a in node.args)
        ctx._arg_splits = tuple(splits.get(a.key) if uses[a.key] == 1 else None for a in node.args)
        ctx.result_nullable = node.nullable
        params = Params(dict(node.params))
        types = tuple(a.dtype for a in node.args)
        expr = op.row(ctx, args, params, state.get(node.key), types)
        var = f"v_{len(names)}"
        names[node.key] = var
        if isinstance(expr, registry.RowSelect):
            selects[node.key] = expr
            continue
        if op.outputs is not None:
            assigns += [(f"{var}_{i}", part, op.pure) for i, part in enumerate(expr)]
            continue
        guards = [f"{a} is None" for a, arg in zip(args, node.args) if arg.nullable]
        if op.null_rule is NullRule.PROPAGATE and guards:
            is_null = " or ".join(guards)
            if op.pure and not op.result_nullable([False] * len(args), params, types):
                splits[node.key] = (f"({is_null})", f"({expr})")
            expr = f"None if ({is_null}) else ({expr})"
        assigns.append((var, expr, op.pure))
    items: list[tuple[str, str | None]] = []  # (column, value); None: set by a lookup below
    defaults: dict[str, Any] = {}  # template values of the columns a lookup sets
    lookups: list[tuple[str, str, str]] = []  # (variable, expression giving a column or None, value)
    for feature in graph.outputs:
        node = graph.features[feature]
        var = names[node.key]
        cols = output_names[feature]
        multi_column = isinstance(node, CallNode) and registry.get(node.op).outputs is not None
        select = selects.get(node.key)
        if select is not None:
            table = ctx.const({key: sys.intern(cols[i]) for key, i in select.positions.items()})
            defaults.update(dict.fromkeys(cols, select.default))
            items += [(col, None) for col in cols]
            lookups.append((f"{var}_col", f"{table}.get({select.key})", ctx.lit(select.value)))
            continue
        if multi_column:
            items += [(col, f"{var}_{i}") for i, col in enumerate(cols)]
            continue
        value = var
        if node.dtype is DType.FLOAT and node.nullable:
            value = f"(_NAN if {var} is None else {var})"
        elif node.dtype is DType.TIMESTAMP:
            value = f"_timestamp_output({var}, {feature!r})"
        items.append((cols[0], value))
    if trace:
        multi = {graph.features[f].key for f in graph.outputs if graph.is_multi(f)}
        items = [(key, var) for key, var in names.items() if var.startswith(("i_", "v_")) and key not in multi]
        lookups = []
        label += " trace"
    else:  # the tracing variant keeps every intermediate value in its own variable
        tails = [value for _, value in items if value is not None] + [expr for _, expr, _ in lookups]
        assigns, tails = _inline_single_use(assigns, tails)
        moved = iter(tails)
        items = [(key, value if value is None else next(moved)) for key, value in items]
        lookups = [(var, next(moved), value) for var, _, value in lookups]
    body += [f"    {var} = {expr}" for var, expr, _ in assigns]
    # copying a template with the output keys and then setting each value is cheaper than
    # building a new dict from scratch (no hashing or resizing); the keys are interned, like
    # the string constants of the compiled code, so each store finds its key by identity
    ctx.namespace["_OUT_KEYS"] = {sys.intern(key): defaults.get(key) for key, _ in items}
    body.append("    _out = _OUT_KEYS.copy()")
    body += [f"    _out[{key!r}] = {value}" for key, value in items if value is not None]
    for var, expr, value in lookups:
        body += [f"    {var} = {expr}", f"    if {var} is not None:", f"        _out[{var}] = {value}"]
    # optional serving log: log(row, out, fingerprint, inputs), the sink protocol of
    # featurekit.logger; a sink that raises never breaks serving, but is warned about once
    body += [
        "    if log is not None:",
        "        try:",
        "            log(row, _out, _FP, _INPUTS)",
        "        except Exception as _exc:",
        "            _log_failed(log, _exc)",
        "    return _out",
    ]
    source = "\n".join(body) + "\n"
    filename = f"<featurekit row {label} #{next(_COMPILED)}>"
    with warnings.catch_warnings():
        # `'a' is None` on a constant argument (is_null('a')) is right (always False); the
        # SyntaxWarning is meant for hand-written code, and as an error it would stop compiling
        warnings.simplefilter("ignore", SyntaxWarning)
        code = compile(source, filename, "exec")
    namespace = dict(ctx.namespace)
    namespace["_FP"] = transform_fingerprint(spec.fingerprint, state)
    namespace["_INPUTS"] = tuple(i.name for i in spec.inputs)
    namespace["_log_failed"] = sink_failed
    _check_defined(source, filename, namespace)
    exec(code, namespace)  # noqa: S102 - our own generated source; user text is never executed
    fn = namespace["transform_row"]
    # tracebacks show the generated lines while the function lives; the entry goes with it
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    weakref.finalize(fn, linecache.cache.pop, filename, None)
    return fn, source


_COMPILED = itertools.count(1)
"""Numbers each compiled row function, so each has its own linecache entry (attrs does the same)."""


def _check_defined(source: str, filename: str, namespace: Mapping[str, Any]) -> None:
    """Every global name the generated function reads is defined. A value pasted into the
    source as text that does not read back as a value (``repr(nan)`` is ``nan``) would
    otherwise raise ``NameError`` on every call; this refuses it once, at compile time."""
    table = symtable.symtable(source, filename, "exec").get_children()[0]
    assert isinstance(table, symtable.Function)  # the source defines one function
    undefined = sorted(n for n in table.get_globals() if n not in namespace and not hasattr(builtins, n))
    if undefined:
        raise RuntimeError(
            f"featurekit bug: the generated row code {filename} reads undefined name(s) "
            f"{undefined}; please report it with the spec"
        )


_TOKEN = re.compile(r"""'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|(?<![\w.])([A-Za-z_]\w*)|([(\[{])|([)\]}])""")
MAX_INLINE_DEPTH = 50
"""Deepest bracket nesting a moved value may reach in the expression it moves into. CPython's
parser refuses 200 nested brackets; without a bound, a chain of ~100 single-use features
nested past it."""


def _scan(expr: str) -> tuple[list[tuple[int, int, str, int]], int]:
    r"""``([(start, end, name, bracket depth)], deepest bracket depth)`` of a one-line generated
    expression; string literals (as ``repr`` writes them), attribute names and number suffixes
    never match a name, and brackets inside strings do not count.

    >>> _scan("_k1.get(v_2, 'v_3 \\' v_(4') + x.v_5 + 1e6")
    ([(0, 3, '_k1', 0), (8, 11, 'v_2', 1), (30, 31, 'x', 0)], 1)
    """
    names, depth, deepest = [], 0, 0
    for m in _TOKEN.finditer(expr):
        if m.group(1):
            names.append((m.start(1), m.end(1), m.group(1), depth))
        elif m.group(2):
            depth += 1
            deepest = max(deepest, depth)
        elif m.group(3):
            depth -= 1
    return names, deepest


def _inline_single_use(
    assigns: list[tuple[str, str, bool]], tails: list[str]
) -> tuple[list[tuple[str, str, bool]], list[str]]:
    """Move each value used exactly once into the expression that uses it; drop pure values
    used nowhere.

    ``tails`` are the expressions evaluated after the assignments (the output values). The
    generated code then computes a value only where it is needed: the branches of ``if_else``
    and ``coalesce`` become lazy (``1 + crc32(code)`` only for a non-empty code), and a
    variable store/load disappears per moved value. Only pure expressions move or go (ops with
    ``pure=False`` stay where they are), and never ones binding a temporary (``:=``), so each
    expression still gives exactly the value it gave in its own statement. A value that would
    nest deeper than :data:`MAX_INLINE_DEPTH` brackets keeps its own statement (placed just
    before its user), so a long chain compiles, and each text is copied into at most that many
    levels: the work is linear in the size of the graph.

    >>> _inline_single_use([("v_1", "a + 1", True), ("v_2", "(v_1 if c else 0)", True),
    ...                     ("v_3", "a * 2", True)], ["v_2"])
    ([], ['(((a + 1) if c else 0))'])
    """
    scans = {var: _scan(expr) for var, expr, _ in assigns}
    tail_scans = [_scan(expr) for expr in tails]
    uses: dict[str, int] = {}
    for names, _ in list(scans.values()) + tail_scans:
        for _, _, name, _ in names:
            if name in scans:
                uses[name] = uses.get(name, 0) + 1
    movable = {var for var, expr, pure in assigns if pure and ":=" not in expr and uses.get(var, 0) <= 1}
    pending: dict[str, tuple[str, int]] = {}  # moved value not yet placed -> (text, bracket depth)
    kept: list[tuple[str, str, bool]] = []

    def substitute(expr: str, scan: tuple[list[tuple[int, int, str, int]], int]) -> tuple[str, int]:
        names, deepest = scan
        parts, last = [], 0
        for start, end, name, depth in names:
            moved = pending.pop(name, None)
            if moved is None:
                continue
            text, inner = moved
            if depth + 1 + inner > MAX_INLINE_DEPTH:
                kept.append((name, text, True))  # too deep to nest here: its own statement
                continue
            parts += [expr[last:start], f"({text})"]
            last = end
            deepest = max(deepest, depth + 1 + inner)
        return ("".join(parts) + expr[last:] if parts else expr), deepest

    for var, expr, pure in assigns:
        text, depth = substitute(expr, scans[var])
        if var in movable:
            pending[var] = (text, depth)
        else:
            kept.append((var, text, pure))
    return kept, [substitute(expr, scan)[0] for expr, scan in zip(tails, tail_scans)]
