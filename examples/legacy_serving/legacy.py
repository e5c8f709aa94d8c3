"""The churn team's hand-written serving function (what they ran before featurekit).

It was written from the training notebook and "looks right". It has four bugs, each of which
only shows on some inputs, so replaying a day of ordinary traffic rarely catches them:

1. a missing spend that arrives as NaN (not None) is not imputed (``is None`` check only);
2. the OOV index for an unseen country is 0 (the most frequent country), not ``len(vocab)``;
3. ``login_hour`` uses the timestamp's own wall clock: wrong for time-zone-aware non-UTC times;
4. ``desc_tokens`` splits on single spaces: wrong for repeated spaces, tabs, newlines, "".

The statistics (median, vocabulary) are read from the fitted artifact, exactly as the team's
export job did, so the state itself is right: only the logic drifts.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any


def make_legacy_features(fitted: Any) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    state = fitted.state_by_feature()
    median = state["spend_imputed"][-1]["state"]["fill"]
    vocab = {v: i for i, v in enumerate(state["country_idx"][-1]["state"]["vocab"])}

    def legacy_features(row: Mapping[str, Any]) -> dict[str, Any]:
        spend = row.get("monthly_spend")
        if spend is None:  # bug 1: NaN is missing too
            spend = median
        tenure = row["tenure_days"]
        ts = row.get("last_login_ts")
        desc = row.get("description")
        return {
            "spend_imputed": float(spend),
            "spend_log1p": math.log1p(spend),
            "spend_per_day": spend / tenure if tenure > 0 else 0.0,
            "country_idx": vocab.get(row.get("country"), 0),  # bug 2: OOV must be len(vocab)
            "login_hour": ts.hour if ts is not None else -1,  # bug 3: not converted to UTC
            "desc_tokens": len(desc.split(" ")) if desc is not None else 0,  # bug 4: split(" ")
        }

    return legacy_features
