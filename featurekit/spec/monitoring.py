"""Monitoring thresholds: the one list of skew threshold keys, their types and defaults.

The spec's ``monitoring:`` section, the ``--thresholds`` side file of ``featurekit skew`` and
the skew metrics' defaults (:mod:`featurekit.skew.metrics`) all read their keys from here.
:func:`check` validates a section and returns it normalized (numbers as float/int, column
entries as plain dicts); the caller says how a problem is raised (a ``SpecError`` at a spec
line, a ``SkewInputError`` for the side file).

Thresholds do not change any feature value, so the section is not part of the spec
fingerprint: changing an alert level keeps fitted artifacts, golden vectors and pins valid.

>>> fail = lambda key, what, fix, hint: ValueError(what, hint)
>>> check({"psi": "0.3", "columns": {"age": {"psi": 0.5, "severity": "critical"}}}, fail, columns={"age"})
{'psi': 0.3, 'columns': {'age': {'psi': 0.5, 'severity': 'critical'}}}
>>> check({"pis": 0.3}, fail)
Traceback (most recent call last):
ValueError: ("unknown threshold 'pis'", "did you mean 'psi'?")
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from featurekit.errors import did_you_mean
from featurekit.types import plain_value

__all__ = ["COLUMN_KEYS", "DEFAULTS", "METRIC_THRESHOLDS", "SETTINGS", "SEVERITIES", "check", "defaults"]

# metric threshold keys: a share or distance a measure must exceed (plus its noise bound) to fail
METRIC_THRESHOLDS: dict[str, float] = {
    "missing_field": 0.01,  # share of records without a declared input field
    "type_change": 0.001,  # share of values of a type the contract does not take
    "null_rate": 0.02,  # |change| of the null rate
    "out_of_range": 0.01,  # increase of the share outside the training [min, max]
    "psi": 0.2,  # population stability index on the training histogram bins
    "js": 0.1,  # Jensen-Shannon distance (base 2) on the same bins
    "linf": 0.05,  # |change| of the true rate / largest change of a category share
    "unseen_rate": 0.01,  # increase of the share outside a fitted vocabulary
    "unexpected_field": 0.01,  # share of records with an undeclared input field
    "fingerprint_mismatch": 0.0,  # share of records served by another artifact fingerprint
    "mismatch_rate": 0.0,  # share of recomputed records whose served output differs
}
# report settings, global only: name -> (type, default)
SETTINGS: dict[str, tuple[type, float | int]] = {
    "z": (float, 4.0),  # normal score of the noise bounds (per metric, per column)
    "transform_sample": (int, 20_000),  # records recomputed through the batch path (0: all)
    "max_examples": (int, 5),
}
SEVERITIES = ("critical", "warning", "info")
# per-column keys besides metric thresholds: name -> type (severity: one of SEVERITIES)
COLUMN_SETTINGS: dict[str, type] = {"min_samples": int, "severity": str}
# keys a spec column entry takes (unexpected_field is for undeclared fields, fingerprint_mismatch per record)
COLUMN_KEYS = tuple(k for k in METRIC_THRESHOLDS if k not in ("unexpected_field", "fingerprint_mismatch")) + tuple(
    COLUMN_SETTINGS
)
DEFAULTS: dict[str, Any] = {
    **{k: default for k, (_, default) in SETTINGS.items() if k == "z"},
    **METRIC_THRESHOLDS,
    **{k: default for k, (_, default) in SETTINGS.items() if k != "z"},
    "columns": {},
}

Fail = Callable[[str, str, str, str | None], Exception]


def defaults() -> dict[str, Any]:
    """A fresh copy of :data:`DEFAULTS` (its ``columns`` mapping included)."""
    return {**DEFAULTS, "columns": {}}


def _number(value: Any, kind: type, where: str, fail: Fail) -> float | int:
    if isinstance(value, bool):
        raise fail(where, f"{where} must be a number; got {value!r}", f"e.g. {where.split('.')[-1]}: 0.1", None)
    try:
        out = kind(value) if kind is float else int(str(value))
    except (TypeError, ValueError):
        raise fail(
            where,
            f"{where} must be {'an integer' if kind is int else 'a number'}; got {value!r}",
            f"e.g. {where.split('.')[-1]}: {'500' if kind is int else '0.1'}",
            None,
        ) from None
    if out < 0 or out != out:
        raise fail(where, f"{where} must be at least 0; got {value!r}", "use a share, distance or count >= 0", None)
    return out


def _column(name: str, entry: Any, fail: Fail, keys: Collection[str]) -> dict[str, Any]:
    where = f"columns.{name}"
    if not isinstance(entry, Mapping):
        raise fail(
            where,
            f"{where} must be a mapping of threshold -> value; got {entry!r}",
            f"e.g. columns: {{{name}: {{psi: 0.3, min_samples: 500, severity: critical}}}}",
            None,
        )
    out: dict[str, Any] = {}
    for key, value in entry.items():
        key = str(key)
        if key not in keys:
            raise fail(
                f"{where}.{key}",
                f"{where} has an unknown threshold {key!r}",
                "use one of " + ", ".join(keys),
                did_you_mean(key, keys),
            )
        value = plain_value(value)
        if key == "severity":
            if value not in SEVERITIES:
                raise fail(
                    f"{where}.severity",
                    f"{where}.severity must be one of {', '.join(SEVERITIES)}; got {value!r}",
                    "e.g. severity: critical",
                    did_you_mean(str(value), SEVERITIES),
                )
            out[key] = str(value)
        else:
            out[key] = _number(value, COLUMN_SETTINGS.get(key, float), f"{where}.{key}", fail)
    return out


def check(
    data: Any, fail: Fail, *, columns: Collection[str] | None = None, prefixes: Collection[str] = ()
) -> dict[str, Any]:
    """Validate a monitoring section; ``fail(key, what, fix, hint)`` builds the error to raise.

    ``columns``: the spec's input and feature names (an entry for another name fails, unless it
    starts with one of ``prefixes`` and ``_``: the columns of a one-hot feature); None (the side
    file) accepts any name, and ``unexpected_field`` for undeclared fields.
    """
    if not isinstance(data, Mapping):
        raise fail(
            "monitoring",
            f"monitoring must be a mapping of threshold -> value; got {data!r}",
            "e.g. monitoring: {psi: 0.25, columns: {age: {psi: 0.4}}}",
            None,
        )
    top = tuple(DEFAULTS)
    col_keys = COLUMN_KEYS + (("unexpected_field",) if columns is None else ())
    out: dict[str, Any] = {}
    for key, value in data.items():
        key = str(key)
        if key not in top:
            raise fail(key, f"unknown threshold {key!r}", "use one of " + ", ".join(top), did_you_mean(key, top))
        if key != "columns":
            out[key] = _number(plain_value(value), SETTINGS.get(key, (float, 0))[0], key, fail)
            continue
        if not isinstance(value, Mapping):
            raise fail(
                "columns",
                f"columns must map column -> {{threshold: value}}; got {value!r}",
                "e.g. columns: {age: {psi: 0.4}}",
                None,
            )
        out["columns"] = {}
        for name, entry in value.items():
            name = str(name)
            if columns is not None and name not in columns and not name.startswith(tuple(p + "_" for p in prefixes)):
                raise fail(
                    f"columns.{name}",
                    f"columns: {name!r} is not an input or output column of the spec",
                    "name an input or an output feature of the spec",
                    did_you_mean(name, columns),
                )
            out["columns"][name] = _column(name, entry, fail, col_keys)
    return out
