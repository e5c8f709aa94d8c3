"""Read and write spec YAML, with exact file:line locations in every error.

The loader is PyYAML's safe loader made stricter: only ``true``/``false`` are booleans
(YAML 1.1's ``yes``/``no``/``on``/``off`` stay strings, so a country code ``NO`` is not
``False``), timestamps stay text, ``1e5`` is a float, duplicate keys and aliases/anchors are
rejected (no billion-laughs expansion), and nesting deeper than :data:`MAX_YAML_DEPTH` is
refused. Each mapping remembers the line of each key.

The Python DSL builds its spec data through :func:`build_spec` too, so both front ends pass
the same validation: names (identifiers, not reserved words), the semantic version, input
contracts (bounds, domain and ``default`` checked against the input's type), expressions.
"""

from __future__ import annotations

import datetime as _dt
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from featurekit.errors import SpecError, did_you_mean
from featurekit.ir.nodes import Call, Const, Expr, Name
from featurekit.spec import monitoring
from featurekit.spec.model import (
    EMPTY_FIT_POLICIES,
    FORMAT_VERSION,
    POLICIES,
    TZ_MODES,
    ConstantSpec,
    FeatureSpec,
    InputSpec,
    Spec,
)
from featurekit.spec.yaml_text import YAML11_BOOLS
from featurekit.types import EXACT_FLOAT_INT, INPUT_TYPES, INT64_MAX, INT64_MIN, plain_value
from featurekit.values.parse import is_time_zone, parse_timestamp

_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TOP_KEYS = (
    "featurekit",
    "name",
    "version",
    "description",
    "constants",
    "inputs",
    "features",
    "outputs",
    "monitoring",
)
_INPUT_KEYS = (
    "type",
    "nullable",
    "min",
    "max",
    "values",
    "open",
    "on_violation",
    "default",
    "timezone",
    "tz",
    "doc",
)
_FEATURE_KEYS = ("expr", "doc", "on_empty_fit")
MAX_YAML_DEPTH = 32
"""Deepest nesting of YAML collections a spec may use (a spec needs about 5)."""


class LineDict(dict):
    """A dict that remembers the source line of each key (``lines[key]``, 1-based)."""

    lines: dict[Any, int]
    line: int | None = None


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans and floats, no timestamps, no aliases, no duplicates."""

    yaml_implicit_resolvers = {
        k: [
            (tag, rx)
            for tag, rx in v
            if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:float")
        ]
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: D102
        depth = getattr(self, "_depth", 0)
        if depth >= MAX_YAML_DEPTH:
            mark = self.peek_event().start_mark
            raise SpecError.at(
                f"YAML nests deeper than {MAX_YAML_DEPTH} levels",
                path=self.name,
                line=mark.line + 1,
                fix="a spec needs a few levels of nesting; check the brackets",
            )
        self._depth = depth + 1
        try:
            return self._compose(parent, index)
        finally:
            self._depth = depth

    def _compose(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise SpecError.at(
                f"YAML alias '*{event.anchor}' is not allowed in specs",
                path=self.name,
                line=event.start_mark.line + 1,
                fix="write the value out; anchors and aliases are rejected",
            )
        event = self.peek_event()
        # nodes do not keep their anchor (only the event does): check it before composing
        if getattr(event, "anchor", None):
            raise SpecError.at(
                f"YAML anchor '&{event.anchor}' is not allowed in specs",
                path=self.name,
                line=event.start_mark.line + 1,
                fix="write the value out; anchors and aliases are rejected",
            )
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:  # noqa: D102
        out = LineDict()
        out.lines = {}
        out.line = node.start_mark.line + 1
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, (str, int, float, bool)):
                raise SpecError.at(
                    f"mapping key {key!r} must be text", path=self.name, line=line, fix="use a plain word as the key"
                )
            if key in out:
                raise SpecError.at(
                    f"key {key!r} appears twice (first on line {out.lines[key]})",
                    path=self.name,
                    line=line,
                    fix="remove or rename one of them",
                )
            out[key] = self.construct_object(value_node, deep=True)
            out.lines[key] = line
        return out


_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"
    ),
    list("-+0123456789."),
)
_StrictLoader.add_constructor("tag:yaml.org,2002:map", _StrictLoader.construct_mapping)


def _int_then_float(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
    text = node.value
    if re.fullmatch(r"[-+]?[0-9]+", text):
        return int(text)
    return loader.construct_yaml_float(node)


_StrictLoader.add_constructor("tag:yaml.org,2002:float", _int_then_float)


def load_spec(path: str | Path) -> Spec:
    """Load and validate a spec file. Errors name ``file:line``, the feature, rule and fix."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SpecError.at(f"spec file {str(path)!r} does not exist", path=str(path), fix="check the path") from None
    except UnicodeDecodeError as exc:
        raise SpecError.at(
            f"spec file is not UTF-8 text ({exc.reason} at byte {exc.start})",
            path=str(path),
            fix="save the file as UTF-8",
        ) from None
    return spec_from_yaml(text, path=str(path))


def spec_from_yaml(text: str, *, path: str | None = None) -> Spec:
    """Parse and validate spec YAML text."""
    try:
        loader = _StrictLoader(text)
        loader.name = path or "<spec>"
        try:
            data = loader.get_single_data()
        finally:
            loader.dispose()
    except SpecError:
        raise
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SpecError.at(
            f"not valid YAML: {getattr(exc, 'problem', None) or exc}",
            path=path or "<spec>",
            line=mark.line + 1 if mark else None,
            fix="check indentation, colons and quotes",
        ) from None
    if not isinstance(data, dict):
        raise SpecError.at(
            f"a spec must be a YAML mapping; got {type(data).__name__}",
            path=path or "<spec>",
            line=1,
            fix="start with 'featurekit: 1'",
        )
    return build_spec(data, path=path)


def _line(data: Mapping[str, Any], key: Any) -> int | None:
    lines = getattr(data, "lines", None)
    return lines.get(key) if lines else None


def _check_keys(data: Mapping[str, Any], allowed: tuple[str, ...], what: str, path: str | None) -> None:
    for key in data:
        if key not in allowed:
            raise SpecError.at(
                f"{what} has an unknown key {key!r}",
                path=path,
                line=_line(data, key),
                fix="allowed keys: " + ", ".join(allowed),
                hint=did_you_mean(str(key), allowed),
            )


def _mapping(data: Mapping[str, Any], key: str, path: str | None, *, required: bool = True) -> Mapping:
    value = data.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping) or (required and not value):
        raise SpecError.at(
            f"'{key}' must be a non-empty mapping of names to definitions; got {value!r}",
            path=path,
            line=_line(data, key) or getattr(data, "line", None),
            fix=f"add a '{key}:' section with one entry per name",
        )
    return value


def spec_from_dict(data: Mapping[str, Any], path: str | None = None) -> Spec:
    """Build a spec from plain data (a parsed YAML document or ``Spec.to_dict()``).

    >>> spec = spec_from_dict({"featurekit": 1, "name": "s", "version": "1.0.0",
    ...                        "inputs": {"x": {"type": "float"}}, "features": {"y": "x + 1.0"}})
    >>> spec_from_dict(spec.to_dict()) == spec
    True
    """
    return build_spec(data, path=path)


def build_spec(data: Mapping[str, Any], *, path: str | None = None) -> Spec:
    """Validate plain data (parsed YAML) and build the :class:`Spec`."""
    _check_keys(data, _TOP_KEYS, "the spec", path)
    fmt = data.get("featurekit")
    if "featurekit" not in data:
        raise SpecError.at(
            "the spec format marker 'featurekit' is missing",
            path=path,
            line=1,
            fix=f"add 'featurekit: {FORMAT_VERSION}' as the first line",
        )
    if fmt != FORMAT_VERSION or isinstance(fmt, bool):
        raise SpecError.at(
            f"'featurekit' (the spec format version) must be {FORMAT_VERSION}; got {fmt!r}",
            path=path,
            line=_line(data, "featurekit") or 1,
            fix=f"add 'featurekit: {FORMAT_VERSION}' as the first line",
        )
    name = plain_value(data.get("name"))
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise SpecError.at(
            f"'name' must be a word (letters, digits, _ . -); got {name!r}",
            path=path,
            line=_line(data, "name") or 1,
            fix="e.g. name: churn_features",
        )
    version = plain_value(data.get("version"))
    if not isinstance(version, str) or not _SEMVER.match(version):
        raise SpecError.at(
            f"'version' must be a semantic version like 1.0.0; got {version!r}",
            path=path,
            line=_line(data, "version") or 1,
            fix="write it as MAJOR.MINOR.PATCH, e.g. version: 1.0.0",
        )
    constants = tuple(
        constant_from_data(k, v, data["constants"], path)
        for k, v in _mapping(data, "constants", path, required=False).items()
    )
    inputs_data = _mapping(data, "inputs", path)
    inputs = tuple(input_from_data(k, v, inputs_data, path) for k, v in inputs_data.items())
    features_data = _mapping(data, "features", path)
    features = tuple(feature_from_data(k, v, features_data, path) for k, v in features_data.items())
    outputs = data.get("outputs")
    if outputs is not None:
        outputs = [plain_value(o) for o in outputs] if isinstance(outputs, (list, tuple)) else outputs
        if not isinstance(outputs, list) or not all(isinstance(o, str) for o in outputs):
            raise SpecError.at(
                f"'outputs' must be a list of feature names; got {outputs!r}",
                path=path,
                line=_line(data, "outputs"),
                fix="outputs: [feature_a, feature_b]",
            )
        seen: set[str] = set()
        for out in outputs:
            if out not in features_data:
                raise SpecError.at(
                    f"'outputs' lists {out!r}, which is not a feature",
                    path=path,
                    line=_line(data, "outputs"),
                    fix=f"remove {out!r} from outputs, or define it under features:",
                    hint=did_you_mean(out, [str(k) for k in features_data]),
                )
            if out in seen:
                raise SpecError.at(
                    f"'outputs' lists feature {out!r} twice",
                    path=path,
                    line=_line(data, "outputs"),
                    fix="list each feature once",
                )
            seen.add(out)
        outputs = tuple(outputs)
    description = plain_value(data.get("description") or "")
    watched = None
    if data.get("monitoring") is not None:
        section = data["monitoring"]

        def fail(key: str, what: str, fix: str, hint: str | None) -> SpecError:
            line, node = None, section
            for part in key.split("."):  # the line of the deepest key that has one
                line = (_line(node, part) or line) if isinstance(node, Mapping) else line
                node = node.get(part) if isinstance(node, Mapping) else None
            return SpecError.at(
                f"monitoring: {what}", path=path, line=line or _line(data, "monitoring"), fix=fix, hint=hint
            )

        shown = [f for f in features if outputs is None or f.name in outputs]
        names = [i.name for i in inputs] + [f.name for f in shown]
        prefixes = [f.name for f in shown] + [  # one_hot columns: <prefix>_<value>
            str(dict(f.expr.params)["prefix"])
            for f in shown
            if isinstance(f.expr, Call) and dict(f.expr.params).get("prefix") is not None
        ]
        watched = monitoring.check(section, fail, columns=names, prefixes=prefixes)
    return Spec(
        name=name,
        version=version,
        inputs=inputs,
        features=features,
        constants=constants,
        outputs=outputs,
        description=str(description),
        path=path,
        monitoring=watched or None,
    )


def _check_name(name: Any, what: str, path: str | None, line: int | None) -> str:
    """The name as plain text, if it is an identifier an expression can reference."""
    from featurekit.spec.expr_parser import RESERVED_NAMES

    name = plain_value(name)
    if not isinstance(name, str) or not _NAME.match(name):
        raise SpecError.at(
            f"{what} name {name!r} is not a valid identifier",
            path=path,
            line=line,
            feature=name if what == "feature" and isinstance(name, str) else None,
            fix="use letters, digits and _ (not starting with a digit)",
        )
    if name in RESERVED_NAMES:
        raise SpecError.at(
            f"{what} name {name!r} is reserved: an expression reads it as a literal or as syntax, never as this name",
            path=path,
            line=line,
            feature=name if what == "feature" else None,
            fix=f"rename it, e.g. {name.lower()}_value",
        )
    return name


def constant_from_data(name: str, value: Any, section: Mapping, path: str | None) -> ConstantSpec:
    line = _line(section, name)
    name = _check_name(name, "constant", path, line)
    if isinstance(value, Mapping) and set(value) == {"timestamp"} and isinstance(value["timestamp"], str):
        text = plain_value(value["timestamp"])
        if parse_timestamp(text, None, "UTC") is None:
            raise SpecError.at(
                f"constant {name!r}: {text!r} is not an ISO 8601 timestamp",
                path=path,
                line=line,
                fix="e.g. {timestamp: '2026-01-01T00:00:00Z'}",
            )
        return ConstantSpec(name, text, "timestamp", line)
    value = plain_value(value)
    if isinstance(value, bool):
        return ConstantSpec(name, value, "bool", line)
    if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
        raise SpecError.at(
            f"constant {name!r} = {value} is outside the int64 range",
            path=path,
            line=line,
            fix="use a float, e.g. 1e20",
        )
    if isinstance(value, str) and not _valid_text(value):
        raise SpecError.at(
            f"constant {name!r} = {value!r} is not valid Unicode text (a lone surrogate)",
            path=path,
            line=line,
            fix="remove the unpaired surrogate code point",
        )
    if isinstance(value, (int, float, str)):
        return ConstantSpec(name, value, {int: "int", float: "float", str: "str"}[type(value)], line)
    raise SpecError.at(
        f"constant {name!r} must be a number, text, true/false or {{timestamp: ...}}; got {value!r}",
        path=path,
        line=line,
        fix="e.g. K: 50",
    )


def input_from_data(name: str, value: Any, section: Mapping, path: str | None) -> InputSpec:
    line = _line(section, name)
    name = _check_name(name, "input", path, line)
    value = plain_value(value)
    if isinstance(value, str):
        value = {"type": value}
    if not isinstance(value, Mapping):
        raise SpecError.at(
            f"input {name!r} must be a mapping like {{type: float}}; got {value!r}",
            path=path,
            line=line,
            fix="e.g. monthly_spend: {type: float, min: 0}",
        )
    _check_keys(value, _INPUT_KEYS, f"input {name!r}", path)

    def fail(key: str, what: str, fix: str, hint: str | None = None) -> SpecError:
        return SpecError.at(f"input {name!r}: {what}", path=path, line=_line(value, key) or line, fix=fix, hint=hint)

    type_name = plain_value(value.get("type"))
    if not isinstance(type_name, str) or type_name not in INPUT_TYPES:
        raise fail(
            "type",
            f"'type' must be one of {', '.join(INPUT_TYPES)}; got {type_name!r}",
            "e.g. type: float",
            did_you_mean(str(type_name), INPUT_TYPES),
        )
    nullable = value.get("nullable", True)
    if not isinstance(nullable, bool):
        hint = (
            "YAML 1.1 words like yes/no are text here; write true or false" if str(nullable) in YAML11_BOOLS else None
        )
        raise fail("nullable", f"'nullable' must be true or false; got {nullable!r}", "nullable: false", hint)
    bounds = {key: _bound(key, plain_value(value.get(key)), type_name, fail) for key in ("min", "max")}
    if bounds["min"] is not None and bounds["max"] is not None and bounds["min"] > bounds["max"]:
        raise fail(
            "min",
            f"min ({bounds['min']}) is greater than max ({bounds['max']})",
            "make min <= max (swap them if they are reversed)",
        )
    values = value.get("values")
    if values is not None:
        values = [plain_value(v) for v in values] if isinstance(values, (list, tuple)) else values
        if (
            type_name not in ("str", "category")
            or not isinstance(values, list)
            or not all(isinstance(v, str) for v in values)
        ):
            raise fail(
                "values",
                f"'values' must be a list of strings on a str/category input; got {values!r}",
                "quote each value, e.g. values: ['NO', 'SE']",
            )
        bad = next((v for v in values if not _valid_text(v)), None)
        if bad is not None:
            raise fail(
                "values",
                f"'values' holds {bad!r}, which is not valid Unicode text (a lone surrogate)",
                "remove the unpaired surrogate code point",
            )
        values = tuple(values)
    is_open = value.get("open", False)
    if not isinstance(is_open, bool):
        hint = "YAML 1.1 words like yes/no are text here; write true or false" if str(is_open) in YAML11_BOOLS else None
        raise fail("open", f"'open' must be true or false; got {is_open!r}", "open: true", hint)
    if is_open and values is None:
        raise fail(
            "open",
            "'open: true' needs 'values' (the known values it leaves open)",
            "list the known values, e.g. values: ['NO', 'SE'], or remove 'open'",
        )
    policy = plain_value(value.get("on_violation", "raise"))
    if policy is None and "on_violation" in value:
        policy = "null"  # YAML reads the word null as a null value; the user means the null policy
    if policy not in POLICIES:
        raise fail(
            "on_violation",
            f"'on_violation' must be one of {', '.join(POLICIES)}; got {policy!r}",
            "on_violation: raise",
            did_you_mean(str(policy), POLICIES),
        )
    default = plain_value(value.get("default"))
    if policy == "default" and default is None:
        raise fail("on_violation", "on_violation is 'default' but no 'default' value is given", "add default: <value>")
    if policy == "clip" and bounds["min"] is None and bounds["max"] is None:
        raise fail("on_violation", "on_violation is 'clip' but no min or max is declared", "add min/max")
    if policy == "null" and not nullable:
        raise fail(
            "on_violation",
            "on_violation 'null' contradicts nullable: false",
            "use nullable: true, or on_violation: raise|default",
        )
    timezone = plain_value(value.get("timezone", "UTC"))
    if type_name == "timestamp" and timezone != "UTC":
        if not isinstance(timezone, str) or not is_time_zone(timezone):
            raise fail("timezone", f"unknown time zone {timezone!r}", "use an IANA name like Europe/Berlin")
    tz = plain_value(value.get("tz", "any"))
    if "tz" in value and type_name != "timestamp":
        raise fail("tz", f"'tz' applies to timestamp inputs; this input is {type_name}", "remove 'tz'")
    if tz not in TZ_MODES:
        raise fail(
            "tz",
            f"'tz' must be one of {', '.join(TZ_MODES)}; got {tz!r}",
            "tz: aware (values carry a UTC offset), naive (they never do) or any",
            did_you_mean(str(tz), TZ_MODES),
        )
    if default is not None:
        default = _default(default, type_name, bounds, None if is_open else values, str(timezone), fail, tz)
    return InputSpec(
        name=name,
        type=type_name,
        nullable=nullable,
        min=bounds["min"],
        max=bounds["max"],
        values=values,
        on_violation=policy,
        default=default,
        timezone=str(timezone),
        doc=str(plain_value(value.get("doc")) or ""),
        line=line,
        open=is_open,
        tz=tz,
    )


def _bound(key: str, bound: Any, type_name: str, fail: Any) -> int | float | None:
    """``min``/``max`` in the input's own type: a float on a float input; on an int input a whole
    number in the int64 range (``1e6`` becomes ``1000000``; ``2.5`` is refused, never rounded)."""
    if bound is None:
        return None
    if isinstance(bound, bool) or not isinstance(bound, (int, float)):
        raise fail(key, f"'{key}' must be a number; got {bound!r}", f"e.g. {key}: 0")
    if type_name not in ("int", "float"):
        raise fail(key, f"'{key}' applies to int and float inputs; this input is {type_name}", f"remove '{key}'")
    if bound != bound:
        raise fail(key, f"'{key}' is NaN, which bounds nothing", f"remove '{key}', or give a number")
    if type_name == "float":
        if isinstance(bound, int) and abs(bound) > EXACT_FLOAT_INT:
            raise fail(
                key,
                f"'{key}' = {bound} is not exactly representable as a float (above 2**53)",
                f"write it as a float, e.g. {key}: {float(min(max(bound, -1e300), 1e300)):g}",
            )
        return float(bound)
    if isinstance(bound, float) and not (math.isfinite(bound) and bound == math.floor(bound)):
        inward = (math.ceil(bound) if key == "min" else math.floor(bound)) if math.isfinite(bound) else None
        raise fail(
            key,
            f"'{key}' must be a whole number on an int input; got {bound!r}",
            f"use {key}: {inward}" if inward is not None else f"remove '{key}' (an int input has no infinite bound)",
        )
    bound = int(bound)
    if not INT64_MIN <= bound <= INT64_MAX:
        raise fail(
            key,
            f"'{key}' = {bound} is outside the int64 range of an int input",
            f"remove '{key}', or give a value in [-2**63, 2**63 - 1]",
        )
    return bound


def _default(
    default: Any,
    type_name: str,
    bounds: Mapping[str, Any],
    values: tuple[str, ...] | None,
    timezone: str,
    fail: Any,
    tz: str = "any",
) -> Any:
    """``default`` checked against the input's type and contract: the value a violating input
    becomes must itself be a value the contract accepts."""
    want = {
        "int": "an int",
        "float": "a number",
        "bool": "true or false",
        "str": "text",
        "category": "text",
        "timestamp": "ISO 8601 text",
    }[type_name]
    ok = {
        "int": isinstance(default, int)
        and not isinstance(default, bool)
        or isinstance(default, float)
        and math.isfinite(default)
        and default == math.floor(default),
        "float": isinstance(default, (int, float)) and not isinstance(default, bool),
        "bool": isinstance(default, bool),
        "str": isinstance(default, str),
        "category": isinstance(default, str),
        "timestamp": isinstance(default, str),
    }[type_name]
    if not ok:
        article = "an" if type_name == "int" else "a"
        raise fail(
            "default",
            f"'default' must be {want} on {article} {type_name} input; got {default!r} ({type(default).__name__})",
            f"give default: <{want}>",
        )
    if type_name == "int":
        default = int(default)
        if not INT64_MIN <= default <= INT64_MAX:
            raise fail("default", f"'default' = {default} is outside the int64 range", "give a smaller default")
    if type_name == "float":
        if default != default:
            raise fail("default", "'default' is NaN, which is a missing value", "use on_violation: null instead")
        if isinstance(default, int) and abs(default) > EXACT_FLOAT_INT:
            raise fail(
                "default", f"'default' = {default} is not exactly representable as a float", "write it as a float"
            )
    if type_name in ("str", "category") and not _valid_text(default):
        raise fail(
            "default",
            f"'default' = {default!r} is not valid Unicode text (a lone surrogate)",
            "remove the unpaired surrogate code point",
        )
    if type_name == "timestamp":
        if parse_timestamp(default, None, timezone) is None:
            raise fail(
                "default",
                f"'default' = {default!r} is not an ISO 8601 timestamp",
                "e.g. default: '2026-01-01T00:00:00Z'",
            )
        aware = _dt.datetime.fromisoformat(default).utcoffset() is not None
        if tz != "any" and aware != (tz == "aware"):
            raise fail(
                "default",
                f"'default' = {default!r} is {'tz-aware' if aware else 'naive'}, which tz: {tz} refuses",
                "e.g. default: '2026-01-01T00:00:00Z'" if tz == "aware" else "e.g. default: '2026-01-01T00:00:00'",
            )
    low, high = bounds.get("min"), bounds.get("max")
    if low is not None and default < low or high is not None and default > high:
        raise fail(
            "default",
            f"'default' = {default!r} is outside [min, max] = [{low}, {high}]",
            "give a default that satisfies the contract",
        )
    if values is not None and default not in values:
        raise fail(
            "default",
            f"'default' = {default!r} is not one of 'values'",
            "give a default from the declared values (or add it to them)",
        )
    return default


def _valid_text(text: str) -> bool:
    """Whether ``text`` encodes as UTF-8 (no lone surrogates): what both paths can carry."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def feature_from_data(name: str, value: Any, section: Mapping, path: str | None) -> FeatureSpec:
    """A feature from expression text, a literal, an expression built in Python (the DSL), or a
    mapping ``{expr, doc, on_empty_fit}``; every form passes the same expression checks."""
    from featurekit.spec.expr_parser import ExprError, check_expr, parse

    line = _line(section, name)
    name = _check_name(name, "feature", path, line)
    doc = ""
    on_empty_fit = "raise"
    if isinstance(value, Mapping):
        _check_keys(value, _FEATURE_KEYS, f"feature {name!r}", path)
        doc = str(plain_value(value.get("doc")) or "")
        on_empty_fit = plain_value(value.get("on_empty_fit", "raise"))
        if on_empty_fit not in EMPTY_FIT_POLICIES:
            raise SpecError.at(
                f"feature {name!r}: 'on_empty_fit' must be one of {', '.join(EMPTY_FIT_POLICIES)}; "
                f"got {on_empty_fit!r}",
                path=path,
                line=_line(value, "on_empty_fit") or line,
                feature=name,
                fix="on_empty_fit: fallback (use each op's documented empty-fit "
                "state when training data has no value for it)",
            )
        value = value.get("expr")
    value = plain_value(value)
    if isinstance(value, bool) or isinstance(value, (int, float)):
        value = repr(value).lower() if isinstance(value, bool) else repr(value)
    try:
        expr: Expr = check_expr(value) if isinstance(value, (Name, Const, Call)) else parse(value)
    except ExprError as exc:
        raise SpecError.at(
            f"feature {name!r}: {exc}", path=path, line=line, feature=name, fix=exc.fix, hint=exc.hint
        ) from None
    return FeatureSpec(name=name, expr=expr, doc=doc, on_empty_fit=on_empty_fit, line=line)
