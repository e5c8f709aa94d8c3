"""Value comparison with a numerics person's rules (see :mod:`featurekit.parity`)."""

from __future__ import annotations

import dataclasses
import math
import struct
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from featurekit.ir.nodes import CallNode, walk

if TYPE_CHECKING:
    import pandas as pd

    from featurekit.transform import FittedTransform


def ulp_distance(a: float, b: float) -> int:
    """Number of representable doubles between ``a`` and ``b`` (0 when bit-identical)."""
    ia = struct.unpack("<q", struct.pack("<d", a))[0]
    ib = struct.unpack("<q", struct.pack("<d", b))[0]
    ia = ia if ia >= 0 else -(ia & 0x7FFFFFFFFFFFFFFF)
    ib = ib if ib >= 0 else -(ib & 0x7FFFFFFFFFFFFFFF)
    return abs(ia - ib)


def same_value(a: Any, b: Any, ulps: int = 0) -> str | None:
    """None when ``a`` and ``b`` agree, else the kind of mismatch.

    Kinds: ``type`` (int vs float vs bool vs str), ``null`` (None vs a value, including NaN),
    ``value`` (different values; floats beyond ``ulps``).
    """
    if a is None or b is None:
        return None if a is None and b is None else "null"
    if type(a) is not type(b):
        return "type"
    if isinstance(a, float):
        if a != a or b != b:
            return None if a != a and b != b else "value"
        if struct.pack("<d", a) == struct.pack("<d", b):
            return None
        if ulps and math.isfinite(a) and math.isfinite(b) and ulp_distance(a, b) <= ulps:
            return None
        return "value"
    return None if a == b else "value"


@dataclasses.dataclass(frozen=True)
class Mismatch:
    """One cell where the two paths disagree."""

    row: int
    column: str
    kind: str
    batch: Any
    served: Any


@dataclasses.dataclass(frozen=True)
class ParityResult:
    """All mismatches of one comparison, with the number of rows and cells compared."""

    rows: int
    cells: int
    mismatches: list[Mismatch]

    @property
    def ok(self) -> bool:
        return not self.mismatches

    def summary(self) -> str:
        if self.ok:
            return f"parity ok: {self.rows:,} rows x {self.cells // max(self.rows, 1)} columns agree"
        by_col: dict[str, int] = {}
        for m in self.mismatches:
            by_col[m.column] = by_col.get(m.column, 0) + 1
        worst = ", ".join(f"{c} ({n})" for c, n in sorted(by_col.items(), key=lambda kv: -kv[1])[:5])
        first = self.mismatches[0]
        return (
            f"parity FAILED: {len(self.mismatches)} cell(s) differ in {worst}; first: row {first.row} "
            f"{first.column}: batch {first.batch!r} vs row {first.served!r} ({first.kind})"
        )


def node_tolerance(node: Any) -> int:
    """Allowed ULPs between the paths for one node's own computation.

    0 for every built-in op: the paths are bit-identical on every CPU. Only a custom function
    registered with ``ulps=`` (because its vectorized twin calls different math than its
    scalar function) declares more.
    """
    if isinstance(node, CallNode) and node.op == "udf":
        from featurekit.udf import get_udf

        fn = dict(node.params)["fn"]
        try:
            return get_udf(fn).ulps
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


def batch_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A batch output as row dicts of plain Python values (NA -> None; NaN stays NaN)."""
    import numpy as np
    import pandas as pd

    columns = []
    for name in frame.columns:
        series = frame[name]
        dtype = series.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "fiub":
            columns.append(series.to_numpy().tolist())
            continue
        if isinstance(dtype, pd.DatetimeTZDtype):
            columns.append([None if v is pd.NaT else v.to_pydatetime() for v in series])
            continue
        values = series.to_numpy(dtype=object, na_value=None)
        columns.append([v.item() if hasattr(v, "item") else v for v in values])
    names = list(frame.columns)
    return [dict(zip(names, values)) for values in zip(*columns)] if names else [{} for _ in range(len(frame))]


def check_paths(
    fitted: FittedTransform, frame: pd.DataFrame, rows: Sequence[Mapping[str, Any]], *, max_mismatches: int = 1000
) -> ParityResult:
    """Run ``frame`` through the batch path and ``rows`` (the same data as dicts) through the row path."""
    batch = batch_records(fitted.transform(frame))
    served = fitted.transform_rows(rows)
    tolerances = column_tolerances(fitted)
    mismatches: list[Mismatch] = []
    for i, (b, s) in enumerate(zip(batch, served)):
        for col, ulps in tolerances.items():
            kind = same_value(b[col], s[col], ulps)
            if kind is not None and len(mismatches) < max_mismatches:
                mismatches.append(Mismatch(i, col, kind, b[col], s[col]))
    return ParityResult(rows=len(served), cells=len(served) * len(tolerances), mismatches=mismatches)
