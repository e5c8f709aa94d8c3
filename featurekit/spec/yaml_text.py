"""The spec's YAML text form: the schema modeline and the writer.

Reading lives in :mod:`featurekit.spec.load_yaml` (it builds specs); writing needs only plain
data, so :meth:`featurekit.spec.model.Spec.to_yaml` uses this module without the loader.

>>> print(dump_yaml({"featurekit": 1, "name": "s", "inputs": {"ok": {"type": "bool"}}, "note": "yes"}))
# yaml-language-server: $schema=https://featurekit.dev/schema/spec-v1.json
featurekit: 1
name: s
inputs:
  ok:
    type: bool
note: 'yes'
<BLANKLINE>
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml

SCHEMA_MODELINE = "# yaml-language-server: $schema=https://featurekit.dev/schema/spec-v1.json"
YAML11_BOOLS = frozenset({"yes", "no", "on", "off", "y", "n", "Yes", "No", "On", "Off", "YES", "NO", "ON", "OFF"})
"""Words YAML 1.1 readers take as booleans: written quoted, and named in the loader's errors."""


class _Dumper(yaml.SafeDumper):
    """Quotes text a YAML 1.1 reader would take as a boolean or null."""


def _represent_str(dumper: yaml.SafeDumper, text: str) -> Any:
    style = "'" if text in YAML11_BOOLS or text.lower() in ("null", "true", "false") else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_str)


def dump_yaml(data: Mapping[str, Any]) -> str:
    """Write spec data as YAML with the schema modeline; feature expressions stay one line."""
    body = yaml.dump(dict(data), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=10_000)
    return f"{SCHEMA_MODELINE}\n{body}"
