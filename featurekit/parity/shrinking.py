"""Shrink a mismatching input row to a minimal reproducer.

Greedy: drop keys, then replace values by simpler ones of the same type (``None``, ``0``/``1``,
``0.0``/``1.0``, ``""``/``"a"``, ``False``), keeping each change while the row still fails
*the same way* (same mismatch kind, same side raising the same exception type).

>>> shrink({"a": 5, "b": "long text", "c": 2.5}, lambda row: (row.get("a") or 0) > 3)
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


def _candidates(value: Any) -> list[Any]:
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


def shrink(
    row: Mapping[str, Any], still_fails: Callable[[dict[str, Any]], bool], *, budget: int = 200
) -> dict[str, Any]:
    """Greedily simplify ``row`` (drop keys, then simpler values) while ``still_fails`` holds.

    At most ``budget`` calls of ``still_fails``.
    """
    current = dict(row)
    tries = 0
    changed = True
    while changed and tries < budget:
        changed = False
        for key in list(current):
            for candidate in _candidates(current[key]):
                if key not in current or (
                    candidate is not MISSING and current[key] == candidate and type(current[key]) is type(candidate)
                ):
                    continue
                trial = dict(current)
                if candidate is MISSING:
                    del trial[key]
                else:
                    trial[key] = candidate
                tries += 1
                if still_fails(trial):
                    current = trial
                    changed = True
                    break
                if tries >= budget:
                    break
    return current
