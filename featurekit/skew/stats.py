"""Distances and sample-size-aware bounds used by the skew checks.

The rule (documented in docs/skew.md): a metric fails when it exceeds

    threshold = min_effect + noise_bound(n_serving, n_training)

where ``min_effect`` is the smallest change worth reporting (configurable) and the noise
bound is what the metric reaches by chance for samples of these sizes; it shrinks like
``1/sqrt(n)`` for rates and L-infinity, like ``1/n`` for PSI. So a small sample needs a larger
observed change to alarm than a large one, and a true change large enough to alarm on a small
sample also alarms on a larger one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

LN2 = math.log(2.0)


def chi2_quantile(df: int, z: float) -> float:
    """Approximate upper quantile of chi-square(df) at normal score ``z`` (Wilson-Hilferty)."""
    df = max(int(df), 1)
    a = 2.0 / (9.0 * df)
    return df * max(1.0 - a + z * math.sqrt(a), 0.0) ** 3


def inv(n: float) -> float:
    return 1.0 / n if n > 0 else math.inf


def rate_bound(p_train: float, p_serve: float, n_serve: int, n_train: int, z: float) -> float:
    """Noise bound of a difference of two rates (pooled binomial standard error times ``z``)."""
    if n_serve <= 0:
        return math.inf
    n_t = max(n_train, 1)
    p = (p_train * n_t + p_serve * n_serve) / (n_t + n_serve)
    p = min(max(p, 1.0 / (n_t + n_serve)), 0.5)
    return z * math.sqrt(p * (1 - p) * (inv(n_serve) + inv(n_t)))


def _probs(counts: Sequence[float], alpha: float = 0.5) -> list[float]:
    total = sum(counts) + alpha * len(counts)
    return [(c + alpha) / total for c in counts]


def psi(train: Sequence[float], serve: Sequence[float]) -> float:
    """Population stability index over aligned bins (0.5 added to every count)."""
    p, q = _probs(train), _probs(serve)
    return float(sum((b - a) * math.log(b / a) for a, b in zip(p, q)))


def js_distance(train: Sequence[float], serve: Sequence[float]) -> float:
    """Jensen-Shannon distance (base 2, in [0, 1]) over aligned bins."""
    ts, ss = sum(train), sum(serve)
    if not ts or not ss:
        return 0.0
    p = [c / ts for c in train]
    q = [c / ss for c in serve]
    div = 0.0
    for a, b in zip(p, q):
        m = (a + b) / 2
        if a > 0:
            div += 0.5 * a * math.log2(a / m)
        if b > 0:
            div += 0.5 * b * math.log2(b / m)
    return math.sqrt(max(div, 0.0))


def psi_bound(bins: int, n_serve: int, n_train: int, z: float) -> float:
    """Chance level of PSI: PSI * n_eff is about chi-square(bins - 1) without drift."""
    return chi2_quantile(bins - 1, z) * (inv(n_serve) + inv(n_train))


def js_bound(bins: int, n_serve: int, n_train: int, z: float) -> float:
    """Chance level of the JS distance: JS divergence ~ chi-square(bins - 1) / (8 n_eff ln 2)."""
    return math.sqrt(chi2_quantile(bins - 1, z) * (inv(n_serve) + inv(n_train)) / (8 * LN2))


def linf_bound(n_serve: int, n_train: int, z: float) -> float:
    """Chance level of a share difference for any one category (p(1-p) <= 1/4)."""
    return z * math.sqrt(0.25 * (inv(n_serve) + inv(n_train)))
