"""Point at the fitted constants behind a column whose served values differ from the batch path.

Serving code that recomputes a fitted constant (a mean from pandas, a std with ``ddof=1``, a
rounded bound) instead of reading it from the artifact gives values that differ a little
everywhere. When :func:`~featurekit.parity.api.compare` runs with a fitted transform and a
column has ``value`` mismatches, :func:`with_constant_hints` lists every fitted constant the
column's feature uses (op, node, state field, the artifact's exact value) as
:class:`ConstantHint` entries on the column's report.

For a feature that is one affine scaler (an op with ``affine_state`` in the registry:
``zscore`` (mean, std), ``minmax`` (min, range), ``robust_scale`` (median, iqr), all
``(x - center) / scale``) of an input (possibly through ops with ``passes_value``: ``to_float``,
``impute``, ``coalesce`` with a constant; and possibly coalesced after), it
also solves ``x = center + scale * y`` by least squares over the mismatching examples
``(input x, served y)``: the constants that would reproduce the serving side's outputs. None
is claimed from fewer than two distinct inputs or outputs, or when the served outputs are
not an affine function of the input (a residual above ``1e-9`` relative).

>>> solve_affine([(10.0, 0.0), (12.0, 1.0), (14.0, 2.0)])
(10.0, 2.0)
>>> solve_affine([(1.0, 0.0), (2.0, 0.6931471805599453), (4.0, 1.3862943611198906)]) is None
True
>>> solve_affine([(3.0, 1.0), (3.0, 1.0)]) is None  # one distinct input: nothing to solve
True
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from featurekit import registry
from featurekit.ir.nodes import CallNode, ConstNode, InputNode, Node, walk

if TYPE_CHECKING:
    from featurekit.parity.report import ParityReport
    from featurekit.transform import FittedTransform

#: Largest residual of ``x - (center + scale * y)``, relative to the magnitudes involved,
#: that still counts as affine (float rounding of served outputs is ~1e-16).
RESIDUAL = 1e-9
#: Below this relative difference the implied constants are the artifact's own.
SAME = 1e-12
_SHOWN_ITEMS = 32
ADVICE = "read the constants from the artifact (featurekit.load(path).state_by_feature()) instead of recomputing them"


@dataclasses.dataclass(frozen=True)
class ConstantHint:
    """The fitted constants of one op node of a column's feature, and what serving implies."""

    feature: str
    op: str
    node: str
    """The node's key in the artifact's state (``fitted.state_``)."""
    constants: dict[str, Any]
    """State field -> the artifact's value (lists longer than 32 items cut; see ``lengths``)."""
    lengths: dict[str, int] = dataclasses.field(default_factory=dict)
    """Full lengths of the lists cut in ``constants``."""
    implied: dict[str, float] | None = None
    """Affine scalers: the constants that reproduce the served outputs, when well defined."""
    relative_difference: dict[str, float] | None = None
    """``|implied - artifact| / |artifact|`` per constant."""
    solved_from: int = 0
    """How many mismatching examples ``(x, served y)`` the solve used."""
    verdict: str = ""
    """One sentence on the solve (empty for ops without one)."""


def solve_affine(points: Sequence[tuple[float, float]]) -> tuple[float, float] | None:
    """``(center, scale)`` with ``x == center + scale * y`` for every ``(x, y)``, or None.

    Least squares over centered sums (``math.fsum``); None with fewer than two distinct ``x``
    or ``y``, a zero slope, or a residual above :data:`RESIDUAL` relative to the point's
    magnitudes.
    """
    if len({x for x, _ in points}) < 2 or len({y for _, y in points}) < 2:
        return None
    n = len(points)
    mx = math.fsum(x for x, _ in points) / n
    my = math.fsum(y for _, y in points) / n
    syy = math.fsum((y - my) ** 2 for _, y in points)
    sxy = math.fsum((x - mx) * (y - my) for x, y in points)
    if syy == 0.0 or sxy == 0.0 or not math.isfinite(syy) or not math.isfinite(sxy):
        return None
    scale = sxy / syy
    center = mx - scale * my
    for x, y in points:
        size = max(abs(x), abs(center), abs(scale * y))
        if abs(x - (center + scale * y)) > RESIDUAL * size:
            return None
    return center, scale


def _real(v: Any) -> float | None:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    f = float(v)
    return f if math.isfinite(f) else None


def _affine_input(root: Node) -> tuple[CallNode, str] | None:
    """``(scaler node, input name)`` when the feature is an affine scaler of one input."""
    if (
        isinstance(root, CallNode)
        and registry.get(root.op).passes_value
        and all(isinstance(a, ConstNode) for a in root.args[1:])
    ):
        root = root.args[0]
    if not (isinstance(root, CallNode) and registry.get(root.op).affine_state):
        return None
    node = root.args[0]
    while isinstance(node, CallNode) and registry.get(node.op).passes_value:
        if any(not isinstance(a, ConstNode) for a in node.args[1:]):
            return None
        node = node.args[0]
    return (root, node.name) if isinstance(node, InputNode) else None


def _shown_constants(op: str, state: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, int]]:
    schema = registry.get(op).state_schema
    kinds = {k: f.kind for k, f in schema.fields.items()} if schema is not None else {}
    shown, lengths = {}, {}
    for name, value in state.items():
        if kinds.get(name) in ("count", "flag"):  # bookkeeping, not a constant serving uses
            continue
        if isinstance(value, (list, tuple)) and len(value) > _SHOWN_ITEMS:
            shown[name], lengths[name] = list(value[:_SHOWN_ITEMS]), len(value)
        else:
            shown[name] = value
    return shown, lengths


def _relative(implied: float, artifact: float) -> float:
    return abs(implied - artifact) / abs(artifact) if artifact != 0.0 else abs(implied)


def _affine_verdict(hint: ConstantHint, points: list[tuple[float, float]], state: Mapping[str, Any]) -> ConstantHint:
    affine = registry.get(hint.op).affine_state
    assert affine is not None  # only called for the scaler node _affine_input found
    center_name, scale_name = affine
    center0, scale0 = float(state[center_name]), float(state[scale_name])
    # edge rows far outside the data (1e308) would swamp the center: solve on the data's scale
    window = 1e6 * (abs(center0) + abs(scale0))
    near = [(x, y) for x, y in points if abs(x) <= window]
    solved = solve_affine(near)
    has = f"the artifact has {center_name}={center0!r} {scale_name}={scale0!r}"
    among = f"{len(near)} mismatching example(s)"
    if len({x for x, _ in near}) < 2:
        verdict = f"fewer than 2 distinct inputs among {among}: no implied constants; {has}"
        return dataclasses.replace(hint, solved_from=len(near), verdict=verdict)
    if solved is None:
        verdict = (
            f"not an affine difference: the served outputs of {among} are not (x - {center_name}) / "
            f"{scale_name} for any constants, so the bug is not (only) in the constants; {has}"
        )
        return dataclasses.replace(hint, solved_from=len(near), verdict=verdict)
    implied = {center_name: solved[0], scale_name: solved[1]}
    rel = {center_name: _relative(solved[0], center0), scale_name: _relative(solved[1], scale0)}
    said = f"serving's outputs ({among}) imply {center_name}={solved[0]!r} {scale_name}={solved[1]!r}"
    diff = f"relative difference {rel[center_name]:.2g}, {rel[scale_name]:.2g}"
    # the center is determined to about the inputs' magnitude times the float precision
    size = max(abs(x) for x, _ in near)
    if abs(solved[0] - center0) <= SAME * max(abs(center0), size) and rel[scale_name] <= SAME:
        verdict = (
            f"{said}, the artifact's own constants ({diff}): the difference is in the arithmetic "
            "(order of operations, rounding), not in the constants"
        )
    else:
        verdict = f"{said}; {has} ({diff}) -- {ADVICE}"
    return dataclasses.replace(hint, implied=implied, relative_difference=rel, solved_from=len(near), verdict=verdict)


def constant_hints(
    fitted: FittedTransform, column: str, points: Mapping[str, list[tuple[Any, Any]]]
) -> tuple[ConstantHint, ...]:
    """Hints for ``column``: one per fitted op node of its feature (none for a stateless one).

    ``points``: input name -> ``(input value, served value)`` of the column's value mismatches.
    """
    feature = next((f for f, cols in fitted.output_names.items() if column in cols), None)
    if feature is None:
        return ()
    root = fitted.spec.graph.features[feature]
    affine = _affine_input(root)
    hints = []
    for node in walk([root]):
        if not isinstance(node, CallNode) or node.key not in fitted.state_:
            continue
        state = fitted.state_[node.key]
        shown, lengths = _shown_constants(node.op, state)
        hint = ConstantHint(feature=feature, op=node.op, node=node.key, constants=shown, lengths=lengths)
        if affine is not None and node is affine[0]:
            pairs = [(_real(x), _real(y)) for x, y in points.get(affine[1], [])]
            hint = _affine_verdict(hint, [(x, y) for x, y in pairs if x is not None and y is not None], state)
        hints.append(hint)
    return tuple(hints)


def with_constant_hints(
    report: ParityReport, fitted: FittedTransform | None, rows: Sequence[Mapping[str, Any]]
) -> ParityReport:
    """``report`` with :class:`ConstantHint` entries on each column with ``value`` mismatches.

    The solve uses the column's examples (``max_examples`` of them) of kind ``value``;
    ``rows`` are the compared input rows the examples' ``row`` indexes.
    """
    if fitted is None or report.ok:
        return report
    names = [i.name for i in fitted.spec.inputs]
    columns = []
    for col in report.columns:
        values = [ex for ex in col.examples if ex.kind == "value"]
        if values:
            points = {name: [(rows[ex.row].get(name), ex.served) for ex in values] for name in names}
            col = dataclasses.replace(col, constant_hints=constant_hints(fitted, col.column, points))
        columns.append(col)
    return dataclasses.replace(report, columns=columns)


def hint_lines(hints: Sequence[ConstantHint], dim: str = "", reset: str = "") -> list[str]:
    """The text report's lines for one column's hints (empty without hints)."""
    if not hints:
        return []
    lines = [f"  {dim}fitted constants of feature {hints[0].feature!r} (exact values from the artifact):{reset}"]
    for h in hints:
        values = " ".join(
            f"{k}={v!r}" + (f" (first {_SHOWN_ITEMS} of {h.lengths[k]:,})" if k in h.lengths else "")
            for k, v in h.constants.items()
        )
        lines.append(f"    {h.op} [node {h.node[:12]}]: {values}")
        if h.verdict:
            lines.append(f"      {h.verdict}")
    if not any(h.implied for h in hints):
        lines.append(f"    {dim}if the serving side recomputes any of these, {ADVICE}{reset}")
    return lines
