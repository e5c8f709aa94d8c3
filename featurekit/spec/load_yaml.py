"""Read and write spec YAML, with exact file:line locations in every error.

The loader is PyYAML's safe loader made stricter: only ``true``/``false`` are booleans
(YAML 1.1's ``yes``/``no``/``on``/``off`` stay strings, so a country code ``NO`` is not
``False``), timestamps stay text, ``1e5`` is a float, duplicate keys and aliases/anchors are
rejected (no billion-laughs expansion). Each mapping remembers the line of each key.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

import yaml

from featurekit.errors import SpecError, did_you_mean
from featurekit.ir.nodes import Expr
from featurekit.spec.model import FORMAT_VERSION, POLICIES, ConstantSpec, FeatureSpec, InputSpec, Spec
from featurekit.types import INPUT_TYPES

SCHEMA_MODELINE = "# yaml-language-server: $schema=https://featurekit.dev/schema/spec-v1.json"
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TOP_KEYS = ("featurekit", "name", "version", "description", "constants", "inputs", "features",
             "outputs")
_INPUT_KEYS = ("type", "nullable", "min", "max", "values", "on_violation", "default", "timezone", "doc")
_YAML11_BOOLS = {"yes", "no", "on", "off", "y", "n", "Yes", "No", "On", "Off", "YES", "NO", "ON", "OFF"}


class LineDict(dict):
    """A dict that remembers the source line of each key (``lines[key]``, 1-based)."""

    lines: dict[Any, int]
    line: int | None = None


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans and floats, no timestamps, no aliases, no duplicates."""

    yaml_implicit_resolvers = {
        k: [(tag, rx) for tag, rx in v if tag not in (
            "tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:float")]
        for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def compose_node(self, parent: Any, index: Any) -> Any:  # noqa: D102
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise SpecError.at(f"YAML alias '*{event.anchor}' is not allowed in specs",
                               path=self.name, line=event.start_mark.line + 1,
                               fix="write the value out; anchors and aliases are rejected")
        event = self.peek_event()
        # nodes do not keep their anchor (only the event does): check it before composing
        if getattr(event, "anchor", None):
            raise SpecError.at(f"YAML anchor '&{event.anchor}' is not allowed in specs",
                               path=self.name, line=event.start_mark.line + 1,
                               fix="write the value out; anchors and aliases are rejected")
        return super().compose_node(parent, index)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> LineDict:  # noqa: D102
        out = LineDict()
        out.lines = {}
        out.line = node.start_mark.line + 1
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if not isinstance(key, (str, int, float, bool)):
                raise SpecError.at(f"mapping key {key!r} must be text", path=self.name, line=line,
                                   fix="use a plain word as the key")
            if key in out:
                raise SpecError.at(f"key {key!r} appears twice (first on line {out.lines[key]})",
                                   path=self.name, line=line, fix="remove or rename one of them")
            out[key] = self.construct_object(value_node, deep=True)
            out.lines[key] = line
        return out


_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
_StrictLoader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$"),
    list("-+0123456789."))
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
        raise SpecError.at(f"spec file {str(path)!r} does not exist", path=str(path),
                           fix="check the path") from None
    except UnicodeDecodeError as exc:
        raise SpecError.at(f"spec file is not UTF-8 text ({exc.reason} at byte {exc.start})",
                           path=str(path), fix="save the file as UTF-8") from None
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
        raise SpecError.at(f"not valid YAML: {getattr(exc, 'problem', None) or exc}",
                           path=path or "<spec>", line=mark.line + 1 if mark else None,
                           fix="check indentation, colons and quotes") from None
    if not isinstance(data, dict):
        raise SpecError.at(f"a spec must be a YAML mapping; got {type(data).__name__}",
                           path=path or "<spec>", line=1, fix="start with 'featurekit: 1'")
    return build_spec(data, path=path)


def _line(data: Mapping[str, Any], key: Any) -> int | None:
    lines = getattr(data, "lines", None)
    return lines.get(key) if lines else None


def _check_keys(data: Mapping[str, Any], allowed: tuple[str, ...], what: str, path: str | None) -> None:
    for key in data:
        if key not in allowed:
            raise SpecError.at(f"{what} has an unknown key {key!r}", path=path, line=_line(data, key),
                               fix="allowed keys: " + ", ".join(allowed),
                               hint=did_you_mean(str(key), allowed))


def _mapping(data: Mapping[str, Any], key: str, path: str | None, *, required: bool = True) -> Mapping:
    value = data.get(key)
    if value is None and not required:
        return {}
    if not isinstance(value, Mapping) or (required and not value):
        raise SpecError.at(f"'{key}' must be a non-empty mapping of names to definitions; got {value!r}",
                           path=path, line=_line(data, key) or getattr(data, "line", None),
                           fix=f"add a '{key}:' section with one entry per name")
    return value


def build_spec(data: Mapping[str, Any], *, path: str | None = None) -> Spec:
    """Validate plain data (parsed YAML) and build the :class:`Spec`."""
    _check_keys(data, _TOP_KEYS, "the spec", path)
    fmt = data.get("featurekit")
    if "featurekit" not in data:
        raise SpecError.at("the spec format marker 'featurekit' is missing",
                           path=path, line=1, fix=f"add 'featurekit: {FORMAT_VERSION}' as the first line")
    if fmt != FORMAT_VERSION or isinstance(fmt, bool):
        raise SpecError.at(f"'featurekit' (the spec format version) must be {FORMAT_VERSION}; got {fmt!r}",
                           path=path, line=_line(data, "featurekit") or 1,
                           fix=f"add 'featurekit: {FORMAT_VERSION}' as the first line")
    name = data.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
        raise SpecError.at(f"'name' must be a word (letters, digits, _ . -); got {name!r}",
                           path=path, line=_line(data, "name") or 1, fix="e.g. name: churn_features")
    version = data.get("version")
    if not isinstance(version, str) or not _SEMVER.match(version):
        raise SpecError.at(f"'version' must be a semantic version like 1.0.0; got {version!r}",
                           path=path, line=_line(data, "version") or 1,
                           fix="write it as MAJOR.MINOR.PATCH, e.g. version: 1.0.0")
    constants = tuple(constant_from_data(k, v, data["constants"], path)
                      for k, v in _mapping(data, "constants", path, required=False).items())
    inputs_data = _mapping(data, "inputs", path)
    inputs = tuple(input_from_data(k, v, inputs_data, path) for k, v in inputs_data.items())
    features_data = _mapping(data, "features", path)
    features = tuple(feature_from_data(k, v, features_data, path) for k, v in features_data.items())
    outputs = data.get("outputs")
    if outputs is not None:
        if not isinstance(outputs, list) or not all(isinstance(o, str) for o in outputs):
            raise SpecError.at(f"'outputs' must be a list of feature names; got {outputs!r}",
                               path=path, line=_line(data, "outputs"), fix="outputs: [feature_a, feature_b]")
        seen: set[str] = set()
        for out in outputs:
            if out not in features_data:
                raise SpecError.at(f"'outputs' lists {out!r}, which is not a feature", path=path,
                                   line=_line(data, "outputs"),
                                   fix=f"remove {out!r} from outputs, or define it under features:",
                                   hint=did_you_mean(out, [str(k) for k in features_data]))
            if out in seen:
                raise SpecError.at(f"'outputs' lists feature {out!r} twice", path=path,
                                   line=_line(data, "outputs"), fix="list each feature once")
            seen.add(out)
        outputs = tuple(outputs)
    description = data.get("description") or ""
    return Spec(name=name, version=version, inputs=inputs, features=features, constants=constants,
                outputs=outputs, description=str(description), path=path)


def _check_name(name: Any, what: str, path: str | None, line: int | None) -> None:
    if not isinstance(name, str) or not _NAME.match(name):
        raise SpecError.at(f"{what} name {name!r} is not a valid identifier", path=path, line=line,
                           fix="use letters, digits and _ (not starting with a digit)")


def constant_from_data(name: str, value: Any, section: Mapping, path: str | None) -> ConstantSpec:
    line = _line(section, name)
    _check_name(name, "constant", path, line)
    if isinstance(value, Mapping) and set(value) == {"timestamp"} and isinstance(value["timestamp"], str):
        from featurekit.compile.rowlib import _parse_ts

        if _parse_ts(value["timestamp"], None, "UTC") is None:
            raise SpecError.at(f"constant {name!r}: {value['timestamp']!r} is not an ISO 8601 timestamp",
                               path=path, line=line, fix="e.g. {timestamp: '2026-01-01T00:00:00Z'}")
        return ConstantSpec(name, value["timestamp"], "timestamp", line)
    if isinstance(value, bool):
        return ConstantSpec(name, value, "bool", line)
    if isinstance(value, (int, float, str)):
        return ConstantSpec(name, value, {int: "int", float: "float", str: "str"}[type(value)], line)
    raise SpecError.at(f"constant {name!r} must be a number, text, true/false or {{timestamp: ...}}; "
                       f"got {value!r}", path=path, line=line, fix="e.g. K: 50")


def input_from_data(name: str, value: Any, section: Mapping, path: str | None) -> InputSpec:
    line = _line(section, name)
    _check_name(name, "input", path, line)
    if isinstance(value, str):
        value = {"type": value}
    if not isinstance(value, Mapping):
        raise SpecError.at(f"input {name!r} must be a mapping like {{type: float}}; got {value!r}",
                           path=path, line=line, fix="e.g. monthly_spend: {type: float, min: 0}")
    _check_keys(value, _INPUT_KEYS, f"input {name!r}", path)

    def fail(key: str, what: str, fix: str, hint: str | None = None) -> SpecError:
        return SpecError.at(f"input {name!r}: {what}", path=path, line=_line(value, key) or line,
                            fix=fix, hint=hint)

    type_name = value.get("type")
    if type_name not in INPUT_TYPES:
        raise fail("type", f"'type' must be one of {', '.join(INPUT_TYPES)}; got {type_name!r}",
                   "e.g. type: float", did_you_mean(str(type_name), INPUT_TYPES))
    nullable = value.get("nullable", True)
    if not isinstance(nullable, bool):
        hint = ("YAML 1.1 words like yes/no are text here; write true or false"
                if str(nullable) in _YAML11_BOOLS else None)
        raise fail("nullable", f"'nullable' must be true or false; got {nullable!r}", "nullable: false", hint)
    bounds = {}
    for key in ("min", "max"):
        bound = value.get(key)
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, (int, float))):
            raise fail(key, f"'{key}' must be a number; got {bound!r}", f"e.g. {key}: 0")
        if bound is not None and type_name not in ("int", "float"):
            raise fail(key, f"'{key}' applies to int and float inputs; this input is {type_name}",
                       f"remove '{key}'")
        bounds[key] = float(bound) if isinstance(bound, (int, float)) and type_name == "float" else bound
    if bounds["min"] is not None and bounds["max"] is not None and bounds["min"] > bounds["max"]:
        raise fail("min", f"min ({bounds['min']}) is greater than max ({bounds['max']})",
                   "make min <= max (swap them if they are reversed)")
    values = value.get("values")
    if values is not None:
        if type_name not in ("str", "category") or not isinstance(values, list) or \
                not all(isinstance(v, str) for v in values):
            raise fail("values", f"'values' must be a list of strings on a str/category input; got {values!r}",
                       "quote each value, e.g. values: ['NO', 'SE']")
        values = tuple(values)
    policy = value.get("on_violation", "raise")
    if policy is None and "on_violation" in value:
        policy = "null"  # YAML reads the word null as a null value; the user means the null policy
    if policy not in POLICIES:
        raise fail("on_violation", f"'on_violation' must be one of {', '.join(POLICIES)}; got {policy!r}",
                   "on_violation: raise", did_you_mean(str(policy), POLICIES))
    default = value.get("default")
    if policy == "default" and default is None:
        raise fail("on_violation", "on_violation is 'default' but no 'default' value is given",
                   "add default: <value>")
    if policy == "clip" and bounds["min"] is None and bounds["max"] is None:
        raise fail("on_violation", "on_violation is 'clip' but no min or max is declared", "add min/max")
    if policy == "null" and not nullable:
        raise fail("on_violation", "on_violation 'null' contradicts nullable: false",
                   "use nullable: true, or on_violation: raise|default")
    timezone = value.get("timezone", "UTC")
    if type_name == "timestamp" and timezone != "UTC":
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(str(timezone))
        except Exception:
            raise fail("timezone", f"unknown time zone {timezone!r}", "use an IANA name like Europe/Berlin") from None
    return InputSpec(name=name, type=type_name, nullable=nullable, min=bounds["min"], max=bounds["max"],
                     values=values, on_violation=policy, default=default, timezone=str(timezone),
                     doc=str(value.get("doc") or ""), line=line)


def feature_from_data(name: str, value: Any, section: Mapping, path: str | None) -> FeatureSpec:
    from featurekit.spec.expr_parser import ExprError, parse

    line = _line(section, name)
    _check_name(name, "feature", path, line)
    doc = ""
    if isinstance(value, Mapping):
        _check_keys(value, ("expr", "doc"), f"feature {name!r}", path)
        doc = str(value.get("doc") or "")
        value = value.get("expr")
    if isinstance(value, bool) or isinstance(value, (int, float)):
        value = repr(value).lower() if isinstance(value, bool) else repr(value)
    try:
        expr: Expr = parse(value)
    except ExprError as exc:
        raise SpecError.at(f"feature {name!r}: {exc}", path=path, line=line, feature=name,
                           fix=exc.fix, hint=exc.hint) from None
    return FeatureSpec(name=name, expr=expr, doc=doc, line=line)


def dump_yaml(data: Mapping[str, Any]) -> str:
    """Write spec data as YAML with the schema modeline; feature expressions stay one line."""

    class _Dumper(yaml.SafeDumper):
        pass

    def _str(dumper: yaml.SafeDumper, text: str) -> Any:
        style = "'" if text in _YAML11_BOOLS or text.lower() in ("null", "true", "false") else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)

    _Dumper.add_representer(str, _str)
    body = yaml.dump(dict(data), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10_000)
    return f"{SCHEMA_MODELINE}\n{body}"
