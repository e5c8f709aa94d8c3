"""The JSON Schema (draft-07) of the spec file format, for editors and CI.

``featurekit schema`` prints it; ``docs/spec.schema.json`` is generated from it
(``featurekit schema --out docs/spec.schema.json``; a test checks the file is current).
Put this line at the top of a spec and YAML-aware editors (VS Code with the YAML extension,
JetBrains IDEs, Neovim with yaml-language-server) validate and autocomplete it::

    # yaml-language-server: $schema=../docs/spec.schema.json

The schema describes the *shape* of a spec (keys, types, enums). The loader
(:func:`featurekit.load_spec`) checks more than a schema can: expression syntax, op names
and parameters, types, cycles, ``on_violation`` consistency. ``featurekit validate`` is the
authority; the schema is the editor's help.
"""

from __future__ import annotations

import json
from typing import Any

from featurekit.spec import monitoring
from featurekit.spec.expr_parser import RESERVED_NAMES
from featurekit.spec.model import EMPTY_FIT_POLICIES, FORMAT_VERSION, POLICIES, TZ_MODES
from featurekit.types import INPUT_TYPES

SCHEMA_ID = "https://featurekit.dev/schema/spec-v1.json"
_NAME = "^[A-Za-z_][A-Za-z0-9_]*$"
_SEMVER = r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$"


def _expression(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "oneOf": [
            {"type": "string", "minLength": 1},
            {"type": "number"},
            {"type": "boolean"},
        ],
    }


def spec_schema() -> dict[str, Any]:
    """The JSON Schema (draft-07) of a featurekit spec, as a dict."""
    expr = _expression(
        "A feature expression: Python-like syntax over inputs, constants, other features and registered ops, "
        "e.g. 'clip(impute(monthly_spend, strategy=\"median\"), lower_pct=1, upper_pct=99)'. "
        "Arithmetic, comparisons, and/or/not, 'a if c else b' and op calls; nothing is eval'ed. "
        "See docs/ops.md for the ops."
    )
    input_types = list(INPUT_TYPES)
    # identifiers, except words an expression reads as a literal or as syntax (true, nan, if...)
    names = {"pattern": _NAME, "not": {"enum": sorted(RESERVED_NAMES)}}
    input_object = {
        "type": "object",
        "description": "An input column and its contract: what serving and training data must look like.",
        "additionalProperties": False,
        "required": ["type"],
        "properties": {
            "type": {
                "type": "string",
                "enum": input_types,
                "description": "int (int64), float (float64), bool, str, category (text with a small "
                "set of values; computed as str), timestamp (tz-aware or naive).",
            },
            "nullable": {
                "type": "boolean",
                "default": True,
                "description": "Whether the value may be missing (None, NaN, NaT, pandas NA, an absent "
                "key). false: a missing value is a contract violation.",
            },
            "min": {"type": "number", "description": "Smallest allowed value (int and float inputs only)."},
            "max": {"type": "number", "description": "Largest allowed value (int and float inputs only)."},
            "values": {
                "type": "array",
                "items": {"type": "string"},
                "uniqueItems": True,
                "description": "Allowed values (str and category inputs only); anything else is a violation "
                "(unless open: true).",
            },
            "open": {
                "type": "boolean",
                "default": False,
                "description": "true: 'values' are the known values (probed by parity tests and golden "
                "vectors, the reference of the skew report's unseen rate), not a closed domain: other "
                "strings are accepted. Needs 'values'.",
            },
            "on_violation": {
                "type": ["string", "null"],
                "enum": list(POLICIES) + [None],
                "default": "raise",
                "description": "What a contract violation does: raise (ContractError naming input, "
                "rule, value and fix), null (replace with null; needs nullable: "
                "true), clip (to min/max; needs a bound), default (replace with "
                "'default'). YAML reads a bare null as the null policy.",
            },
            "default": {
                "description": "The replacement value when on_violation is 'default'.",
                "type": ["number", "string", "boolean"],
            },
            "timezone": {
                "type": "string",
                "default": "UTC",
                "description": "timestamp inputs: the IANA zone (e.g. Europe/Berlin) in which naive "
                "(zone-less) times are read. Aware times are converted to UTC; all "
                "timestamp ops compute in UTC.",
            },
            "tz": {
                "type": "string",
                "enum": list(TZ_MODES),
                "default": "any",
                "description": "timestamp inputs: aware (values must carry a UTC offset; naive datetimes "
                "and ISO text without offset violate the contract), naive (values must not carry one) "
                "or any.",
            },
            "doc": {"type": "string", "description": "Free text shown by 'featurekit describe'."},
        },
        "allOf": [
            {
                "if": {"properties": {"on_violation": {"const": "default"}}, "required": ["on_violation"]},
                "then": {"required": ["default"]},
            },
            {
                "if": {"properties": {"on_violation": {"const": "clip"}}, "required": ["on_violation"]},
                "then": {"anyOf": [{"required": ["min"]}, {"required": ["max"]}]},
            },
            {
                "if": {"properties": {"type": {"enum": ["str", "category", "bool", "timestamp"]}}},
                "then": {"not": {"anyOf": [{"required": ["min"]}, {"required": ["max"]}]}},
            },
            {
                "if": {"properties": {"type": {"enum": ["int", "float", "bool", "timestamp"]}}},
                "then": {"not": {"required": ["values"]}},
            },
            {
                "if": {"properties": {"open": {"const": True}}, "required": ["open"]},
                "then": {"required": ["values"]},
            },
            {
                "if": {"properties": {"type": {"enum": ["int", "float", "bool", "str", "category"]}}},
                "then": {"not": {"required": ["tz"]}},
            },
        ],
    }
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "$id": SCHEMA_ID,
        "title": "featurekit spec",
        "description": "A featurekit feature spec: inputs with contracts, and features as expressions. "
        "Generated by featurekit.schema; 'featurekit validate' checks everything the schema "
        "cannot (expressions, op parameters, types, cycles).",
        "type": "object",
        "additionalProperties": False,
        "required": ["featurekit", "name", "version", "inputs", "features"],
        "properties": {
            "featurekit": {
                "const": FORMAT_VERSION,
                "description": f"Spec format version; this featurekit reads {FORMAT_VERSION}.",
            },
            "name": {
                "type": "string",
                "pattern": _NAME,
                "description": "The spec's name (an identifier); part of the pin name@version#fingerprint.",
            },
            "version": {
                "type": "string",
                "pattern": _SEMVER,
                "description": "Semantic version MAJOR.MINOR.PATCH; 'featurekit diff --check-version' "
                "requires a bump when features change.",
            },
            "description": {"type": "string", "description": "Free text."},
            "constants": {
                "type": "object",
                "description": "Named constants usable in expressions.",
                "propertyNames": names,
                "additionalProperties": {
                    "description": "A number, text, true/false, or {timestamp: ISO 8601}.",
                    "oneOf": [
                        {"type": "number"},
                        {"type": "string"},
                        {"type": "boolean"},
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["timestamp"],
                            "properties": {
                                "timestamp": {"type": "string", "description": "ISO 8601, e.g. 2026-01-01T00:00:00Z"}
                            },
                        },
                    ],
                },
            },
            "inputs": {
                "type": "object",
                "description": "The raw columns (batch) / keys (row) the features read, with their contracts. "
                "Declaration order is kept.",
                "minProperties": 1,
                "propertyNames": names,
                "additionalProperties": {
                    "oneOf": [
                        {"type": "string", "enum": input_types, "description": "Shorthand for {type: <this>}."},
                        input_object,
                    ],
                },
            },
            "features": {
                "type": "object",
                "description": "Named features in declaration order (the default output order). A feature may "
                "use inputs, constants and other features.",
                "minProperties": 1,
                "propertyNames": names,
                "additionalProperties": {
                    "oneOf": [
                        expr,
                        {
                            "type": "object",
                            "additionalProperties": False,
                            "required": ["expr"],
                            "description": "A feature with documentation or a fit policy.",
                            "properties": {
                                "expr": expr,
                                "doc": {"type": "string", "description": "Free text."},
                                "on_empty_fit": {
                                    "type": "string",
                                    "enum": list(EMPTY_FIT_POLICIES),
                                    "default": "raise",
                                    "description": "When an analyzer in this feature sees no non-null "
                                    "training value (on data with rows): raise a FitError, "
                                    "or fallback to the op's documented empty-fit state.",
                                },
                            },
                        },
                    ],
                },
            },
            "outputs": {
                "type": "array",
                "uniqueItems": True,
                "items": {"type": "string", "pattern": _NAME},
                "description": "Which features become output columns, in this order (default: all, in "
                "declaration order). Other features are intermediates.",
            },
            "monitoring": _monitoring(),
        },
    }


def _monitoring() -> dict[str, Any]:
    """The ``monitoring:`` section, from the one key table in :mod:`featurekit.spec.monitoring`."""
    share = {"type": "number", "minimum": 0}
    count = {"type": "integer", "minimum": 0}
    settings = {k: count if kind is int else share for k, (kind, _) in monitoring.SETTINGS.items()}
    column = {k: share for k in monitoring.COLUMN_KEYS if k in monitoring.METRIC_THRESHOLDS}
    column["min_samples"] = {
        **count,
        "description": "Fewer serving records of this column than this: no failing finding, an info one.",
    }
    column["severity"] = {
        "type": "string",
        "enum": list(monitoring.SEVERITIES),
        "description": "The severity of this column's failing findings.",
    }
    return {
        "type": "object",
        "description": "Alert thresholds of 'featurekit skew' (defaults in docs/skew.md); not part of the "
        "fingerprint. A --thresholds file overrides them, per key and per column.",
        "additionalProperties": False,
        "properties": {
            **{k: {**share, "default": v} for k, v in monitoring.METRIC_THRESHOLDS.items()},
            **{k: {**settings[k], "default": d} for k, (_, d) in monitoring.SETTINGS.items()},
            "columns": {
                "type": "object",
                "description": "Per input or output column: thresholds overriding the global ones.",
                "additionalProperties": {"type": "object", "additionalProperties": False, "properties": column},
            },
        },
    }


def schema_json() -> str:
    """The schema as the text written to ``docs/spec.schema.json`` (stable, ends in a newline)."""
    return json.dumps(spec_schema(), indent=2, ensure_ascii=False) + "\n"
