"""Which :class:`~featurekit.values.equality.Equality` each output column is compared with.

Every built-in op is exact (0 ULPs): the two paths are bit-identical on every CPU. Only a custom
function registered with ``ulps=`` (because its vectorized twin calls different math than its
scalar function) declares more, and a column allows the largest tolerance any custom function
of its feature declares. A caller's ``ulps=`` overrides that; ``rtol``/``atol`` and the
``mode`` apply to every column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from featurekit.ir.nodes import CallNode, walk
from featurekit.udf import get_udf
from featurekit.values.equality import Equality, Mode

if TYPE_CHECKING:
    from featurekit.transform import FittedTransform


def node_tolerance(node: Any) -> int:
    """Allowed ULPs between the paths for one node's own computation (see the module docstring)."""
    if isinstance(node, CallNode) and node.op == "udf":
        try:
            return get_udf(dict(node.params)["fn"]).ulps
        except KeyError:
            return 0
    return 0


def column_tolerances(fitted: FittedTransform) -> dict[str, int]:
    """Allowed ULPs per output column: the largest a custom function of the feature declares."""
    graph = fitted.spec.graph
    out = {}
    for feature in graph.outputs:
        ulps = max((node_tolerance(n) for n in walk([graph.features[feature]])), default=0)
        for col in fitted.output_names[feature]:
            out[col] = ulps
    return out


def column_policies(
    columns: Sequence[str],
    declared: Mapping[str, int],
    *,
    rtol: float = 0.0,
    atol: float = 0.0,
    ulps: int | None = None,
    mode: Mode = "strict",
) -> dict[str, Equality]:
    """Column -> its policy: ``ulps`` if given, else the column's ``declared`` ULPs (default 0)."""
    return {
        c: Equality(mode=mode, ulps=ulps if ulps is not None else declared.get(c, 0), rtol=rtol, atol=atol)
        for c in columns
    }
