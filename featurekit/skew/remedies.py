"""What to do about a skew finding: ``(remedy_kind, text)`` per finding, from the spec's lineage.

Remedy kinds: ``close`` (make serving match training again: fix the caller, refit, redeploy),
``restrict`` (let the input contract reject such rows), ``robustify`` (make the spec tolerate
them: impute, clip, an OOV bucket), ``monitor`` (nothing depends on it; keep watching).

Per-op advice comes from the ops that read the column (``consumers``, see
:func:`featurekit.skew.lineage.lineage`) and their registered
:attr:`~featurekit.registry.Op.skew_role`, never from op names:

>>> null_rate("x", 0.2, [{"feature": "x_f", "op": "impute", "role": "fill", "state": {"fill": 1.5}}], ["x_f"])
('close', 'nulls are handled by x_f (impute fill=1.5); the imputed value now stands for 20.0% of rows: find why the upstream source stopped sending x (close) or refit')
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

Remedy = tuple[str, str]
Consumers = Sequence[Mapping[str, Any]]


def _features(consumers: Consumers, *roles: str) -> list[str]:
    return sorted({c["feature"] for c in consumers if c["role"] in roles})


def _stateful(consumers: Consumers) -> list[str]:
    return sorted({c["feature"] for c in consumers if c["state"]})


def fingerprint_mismatch(pin: str) -> Remedy:
    return "close", f"deploy this artifact ({pin}) everywhere, or report on the logs of the artifact that served them"


def unparseable_records() -> Remedy:
    return (
        "close",
        "fix the logging sink (truncated writes? a hand-written logger?) and keep using featurekit.ServingLogger",
    )


def unexpected_field(field: str) -> Remedy:
    return (
        "restrict",
        f"declare {field} under inputs: (if a feature needs it) or stop sending it; "
        "undeclared fields are ignored by transform_row",
    )


def missing_field(name: str, nullable: bool, features: Sequence[str]) -> Remedy:
    if not nullable:
        return (
            "close",
            f"fix the caller to send {name} (the contract declares it nullable: false, so these rows are rejected)",
        )
    return (
        "restrict",
        f"fix the caller to send {name}; or declare nullable: false so transform_row rejects "
        f"such rows (used by {', '.join(features) or 'no feature'})",
    )


def type_change(name: str, role: str, type_name: str) -> Remedy:
    if role == "input":
        return (
            "restrict",
            f"the contract declares {name}: {{type: {type_name}}}; fix the caller's encoding (close) or "
            "keep strict coercion so bad values are rejected (restrict)",
        )
    return "close", f"serving emits {name} with the wrong type: serve with this artifact's transform_row"


def null_rate(name: str, serving_rate: float, consumers: Consumers, features: Sequence[str]) -> Remedy:
    fills = [c for c in consumers if c["role"] == "fill"]
    if fills:
        shown = ", ".join(
            f"{c['feature']} ({c['op']}"
            + (f" fill={c['state'].get('fill')!r}" if isinstance(c["state"], Mapping) else "")
            + ")"
            for c in fills[:3]
        )
        return (
            "close",
            f"nulls are handled by {shown}; the imputed value now stands for {serving_rate:.1%} of rows: find "
            f"why the upstream source stopped sending {name} (close) or refit",
        )
    return (
        "robustify",
        f'add impute({name}, strategy="median") or coalesce(...) where {name} is used '
        f"({', '.join(features) or 'outputs'}) (robustify), or declare nullable: false (restrict)",
    )


def out_of_range(name: str, consumers: Consumers, features: Sequence[str]) -> Remedy:
    bounded = _features(consumers, "bound")
    if bounded:
        return (
            "close",
            f"{', '.join(bounded)} bound it with fitted edges, so extreme values saturate; refit on recent data (close)",
        )
    before = ", ".join(_features(consumers, "scale") or features) or "use"
    return (
        "robustify",
        f"add clip({name}, lower_pct=1, upper_pct=99) before {before} (robustify) or min/max in the input contract "
        "(restrict)",
    )


def distribution(name: str, consumers: Consumers) -> Remedy:
    stateful = _stateful(consumers)
    if stateful:
        ops = ", ".join(sorted({c["op"] for c in consumers if c["state"]}))
        return (
            "close",
            f"the distribution moved away from what {', '.join(stateful)} were fitted on (fitted statistics: "
            f"{ops}); refit on recent data and retrain the model (close)",
        )
    return "monitor", f"no fitted state depends on {name}; keep watching and retrain the model if its quality drops"


def true_rate() -> Remedy:
    return "monitor", "keep watching; retrain the model if the share of true values keeps moving"


def category_shares(consumers: Consumers) -> Remedy:
    stateful = _stateful(consumers)
    if stateful:
        return "close", f"refit {', '.join(stateful)} on recent data (close)"
    return "monitor", "no fitted state depends on it; keep watching (monitor)"


def unseen(use: Mapping[str, Any], vocabulary_size: int) -> Remedy:
    """``use``: the op use with the vocabulary (role ``vocabulary`` or ``indicators``)."""
    feature, params = use["feature"], use["params"]
    if use["role"] == "known":  # open values of an input (featurekit.skew.lineage.known_values)
        return (
            "monitor",
            f"{feature} gets values neither among its known values (open: true) nor seen in training: add "
            "them to its values if they are expected (refit to update the baseline), or check the upstream source",
        )
    if use["role"] == "indicators":
        return (
            "close",
            f"{use['op']} in {feature} encodes unseen values as all zeros: refit on recent "
            "data (close) or list the allowed values in the contract (restrict)",
        )
    oov = params.get("num_oov_buckets")
    if oov:
        return (
            "close",
            f"vocabulary of {feature} ({vocabulary_size} values, top_k={params.get('top_k')}) sends them all to its "
            f"{oov} OOV bucket(s): refit on recent data (close) or raise top_k / num_oov_buckets (robustify)",
        )
    return "robustify", f"vocabulary has no OOV bucket → add num_oov_buckets: 1 to {feature} or refit"


def mismatch(column: str, fingerprint: str) -> Remedy:
    return (
        "close",
        f"serving code for {column} no longer matches this spec (patched code or a stale artifact): serve "
        f"with this artifact's transform_row (fp {fingerprint[:12]}) and rerun featurekit parity",
    )


def derived(causes: Sequence[str]) -> Remedy:
    return "monitor", f"follows from {', '.join(causes)}; fix that first"
