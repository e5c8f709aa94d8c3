"""Readable text summaries of specs and fitted transforms (``featurekit describe``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import featurekit.ir.ops  # noqa: F401  (registers the built-in ops this module looks up)
from featurekit import registry
from featurekit.ir.nodes import CallNode

if TYPE_CHECKING:
    from featurekit.spec.model import Spec
    from featurekit.transform import FittedTransform


def _short(value: object, limit: int = 70) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_spec(spec: Spec) -> str:
    graph = spec.graph
    lines = [f"{spec.name}@{spec.version}  fingerprint {spec.fingerprint[:16]}", "", "inputs:"]
    for inp in spec.inputs:
        rules = [inp.type, "nullable" if inp.nullable else "required"]
        if inp.min is not None or inp.max is not None:
            rules.append(f"range [{inp.min}, {inp.max}]")
        if inp.values is not None:
            known = "known values (open)" if inp.open else "values"
            rules.append(f"{known} {list(inp.values)[:5]}{'...' if len(inp.values) > 5 else ''}")
        if inp.type == "timestamp" and inp.tz != "any":
            rules.append(f"tz {inp.tz}")
        rules.append(f"on_violation {inp.on_violation}")
        lines.append(f"  {inp.name:24s} {', '.join(rules)}")
    lines += ["", "features (output order):"]
    for name in graph.outputs:
        node = graph.features[name]
        decl = next(f for f in spec.features if f.name == name)
        kind = ""
        if isinstance(node, CallNode):
            kind = registry.get(node.op).kind_for(dict(node.params)).value
        null = "may be null" if node.nullable else "never null"
        lines.append(f"  {name:24s} {node.dtype.value:9s} {null:11s} {kind:11s} = {decl.source}")
        lines.append(f"  {'':24s} fingerprint {graph.feature_fingerprints[name][:16]}")
    if spec.monitoring:
        lines += ["", "monitoring (skew report thresholds; not part of the fingerprint):"]
        for key, value in spec.monitoring.items():
            if key != "columns":
                lines.append(f"  {key:24s} {value}")
        for column, entry in (spec.monitoring.get("columns") or {}).items():
            lines.append(f"  {column:24s} " + ", ".join(f"{k} {v}" for k, v in entry.items()))
    return "\n".join(lines)


def describe_fitted(fitted: FittedTransform) -> str:
    lines = [
        describe_spec(fitted.spec),
        "",
        f"fitted: {fitted.fit_info_}",
        f"transform fingerprint {fitted.fingerprint[:16]}  (pin: {fitted.spec.name}@{fitted.spec.version}"
        f"#{fitted.fingerprint[:16]})",
        "",
        "fitted state:",
    ]
    for feature, items in fitted.state_by_feature().items():
        for item in items:
            state = {k: v for k, v in item["state"].items() if k != "count"}
            lines.append(f"  {feature:24s} {item['op']:12s} n={item['state'].get('count')} {_short(state)}")
    lines += ["", "output columns: " + ", ".join(fitted.output_columns)]
    if fitted.golden_ is not None:
        counts = fitted.golden_.sources()
        lines.append(
            f"golden vectors: {len(fitted.golden_)} ({counts['sample']} training sample, {counts['edge']} "
            "edge rows); `featurekit verify` replays them"
        )
    elif fitted.sample_ is not None:
        lines.append(f"golden vectors: recorded at save (training sample of {len(fitted.sample_)} rows kept by fit)")
    return "\n".join(lines)
