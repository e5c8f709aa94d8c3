"""Shrink a mismatching input row to a minimal reproducer.

Greedy: drop keys, then replace values by simpler ones of the same type (``None``, ``0``/``1``,
``0.0``/``1.0``, ``""``/``"a"``, ``False``), keeping each change while the row still fails
*the same way* (same mismatch kind, same side raising the same exception type). The trial rows
of one round are judged together, so the batch side runs once per round, not once per trial.

>>> shrink({"a": 5, "b": "long text", "c": 2.5}, lambda rows: [(r.get("a") or 0) > 3 for r in rows])
{'a': 5}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from featurekit.values.equality import MISSING, Raised


def signature(batch: Any, served: Any) -> tuple[str | None, str | None]:
    """Which side raised what: a shrunk reproducer must fail the same way, not just fail."""
    b, s = (type(v.exc).__name__ if isinstance(v, Raised) else None for v in (batch, served))
    return b, s


def _ladder(value: Any) -> list[Any]:
    """Simpler values than ``value`` may become, simplest first: absent, ``None``, then the
    type's two plainest values (``False``; ``0``, ``1``; ``0.0``, ``1.0``; ``""``, ``"a"``)."""
    simple: list[Any] = [MISSING, None]
    if isinstance(value, bool):
        simple.append(False)
    elif isinstance(value, int):
        simple += [0, 1]
    elif isinstance(value, float):
        simple += [0.0, 1.0]
    elif isinstance(value, str):
        simple += ["", "a"]
    return simple


def _simpler(current: Mapping[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every row one step simpler than ``current``: a key dropped, or a value moved down its
    ladder (only down, so shrinking never goes back and forth between two values)."""
    out = []
    for key, value in current.items():
        ladder = _ladder(value)
        rank = next(
            (n for n, step in enumerate(ladder) if step is not MISSING and step == value and type(step) is type(value)),
            len(ladder),
        )
        for candidate in ladder[:rank]:
            trial = dict(current)
            if candidate is MISSING:
                del trial[key]
            else:
                trial[key] = candidate
            out.append((key, trial))
    return out


def shrink(
    row: Mapping[str, Any], still_fail: Callable[[list[dict[str, Any]]], list[bool]], *, budget: int = 400
) -> dict[str, Any]:
    """Greedily simplify ``row`` (drop keys, then simpler values) while it still fails.

    ``still_fail(trials)`` judges many trial rows in one call (one batch-side call for all of
    them). Each round tries every one-step simplification of the current row; where several
    keys can be simplified, their first failing steps are tried together, and kept if the
    combined row still fails, else the first step alone. At most ``budget`` trial rows.
    """
    current = dict(row)
    left = budget
    while left > 0:
        steps = _simpler(current)[:left]
        if not steps:
            break
        left -= len(steps)
        first_per_key: dict[str, dict[str, Any]] = {}
        for (key, trial), fails in zip(steps, still_fail([trial for _, trial in steps]), strict=True):
            if fails and key not in first_per_key:
                first_per_key[key] = trial
        if not first_per_key:
            break
        if len(first_per_key) > 1 and left > 0:
            combined = dict(current)
            for key, trial in first_per_key.items():
                if key in trial:
                    combined[key] = trial[key]
                else:
                    del combined[key]
            left -= 1
            if still_fail([combined])[0]:
                current = combined
                continue
        current = next(iter(first_per_key.values()))
    return current
