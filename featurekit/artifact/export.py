"""``featurekit golden``: an artifact's golden vectors as JSON Lines for ports in other languages.

A team serving the features from Java, Go or TypeScript reads this file and checks its port
against every vector: the same inputs must give the same outputs bit for bit, and the rows
featurekit refuses must be refused. The format is documented in ``docs/golden.md`` and
described by the JSON Schema shipped beside this module (:data:`SCHEMA_PATH`, one line at a
time). Line 1 is a header; each further line one vector::

    {"kind": "header", "format": "featurekit-golden-vectors", "format_version": 1, "name": ...,
     "version": ..., "pin": ..., "inputs": {name: contract}, "outputs": {column: type},
     "vectors": N, "environment": {...}}
    {"kind": "vector", "id": 0, "source": "sample", "input": {...}, "output": {column: value}}
    {"kind": "vector", "id": 7, "source": "edge", "input": {...},
     "error": {"type": "ContractError", "message": "...", "input": "tenure_days"}}

Values, chosen so every mainstream JSON parser reads them without loss:

* null is ``null``; a key absent from ``input`` is a missing key (another null form);
* bool is ``true``/``false``;
* an int is a JSON number without ``.`` or exponent when ``|v| <= 2**53 - 1`` (JavaScript's
  safe integers), else ``{"$int": "decimal digits"}`` (parse it with BigInt/BigInteger/big.Int);
* a float is a JSON number written by Python's ``repr`` (the shortest text that round-trips,
  always with ``.`` or an exponent; JavaScript, Java and Go parse it to the same double),
  except ``{"$float": "nan" | "inf" | "-inf" | "-0.0"}``: -0.0 is tagged because many
  writers and some readers drop the sign of a plain ``-0.0``;
* text is a JSON string with every non-ASCII character escaped (a lone surrogate, which
  featurekit refuses as input, appears as its ``\\udXXX`` escape);
* a timestamp is ``{"$datetime": "2026-01-01T00:00:00.000000+00:00"}``: an input without an
  offset is naive (in the input's declared ``timezone``); outputs are always UTC;
* bytes (an invalid input) are ``{"$bytes": base64}``; a custom function's output of another
  type is ``{"$object": type name, "repr": text}``.

>>> portable(2**53), portable(-0.0), portable(0.1), portable(float("inf"))
({'$int': '9007199254740992'}, {'$float': '-0.0'}, 0.1, {'$float': 'inf'})
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from featurekit.artifact.golden import decode_value, encode_value

if TYPE_CHECKING:
    from featurekit.transform import FittedTransform

FORMAT = "featurekit-golden-vectors"
FORMAT_VERSION = 1
SCHEMA_PATH = Path(__file__).with_name("golden_vectors.schema.json")
"""JSON Schema (draft-07) of one line of the file."""
MAX_SAFE_INT = 2**53 - 1


def portable(value: Any) -> Any:
    """A Python row value in the portable encoding (see the module docstring)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value if abs(value) <= MAX_SAFE_INT else {"$int": str(value)}
    if isinstance(value, float):
        if value != value:
            return {"$float": "nan"}
        if math.isinf(value):
            return {"$float": "inf" if value > 0 else "-inf"}
        if value == 0.0 and math.copysign(1.0, value) < 0:
            return {"$float": "-0.0"}
        return value
    return encode_value(value)


def _from_golden(encoded: Any) -> Any:
    """A value stored in golden.json (Python form, floats already decoded) made portable."""
    return portable(decode_value(encoded))


def header(fitted: FittedTransform, count: int, environment: Any) -> dict[str, Any]:
    inputs = {}
    for i in fitted.spec.inputs:
        contract: dict[str, Any] = {"type": i.type, "nullable": i.nullable, "on_violation": i.on_violation}
        for key in ("min", "max", "default"):
            if getattr(i, key) is not None:
                contract[key] = portable(getattr(i, key))
        if i.values is not None:
            contract["values"] = list(i.values)
        if i.open:  # the values are known ones, not a domain: others are accepted
            contract["open"] = True
        if i.type == "timestamp":
            contract["timezone"] = i.timezone
        if i.tz != "any":
            contract["tz"] = i.tz
        inputs[i.name] = contract
    return {
        "kind": "header",
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "name": fitted.spec.name,
        "version": fitted.spec.version,
        "pin": fitted.pin,
        "inputs": inputs,
        "outputs": fitted.output_types,
        "vectors": count,
        "environment": environment,
    }


def export_vectors(fitted: FittedTransform, out: IO[str]) -> int:
    """Write the golden vectors ``fitted`` was loaded with to ``out``; returns how many."""
    golden = fitted.golden_
    columns = golden.columns
    out.write(_line(header(fitted, len(golden), golden.environment)))
    for i, vector in enumerate(golden.vectors):
        line: dict[str, Any] = {
            "kind": "vector",
            "id": i,
            "source": vector["source"],
            "input": {k: _from_golden(v) for k, v in vector["input"].items()},
        }
        if "error" in vector:
            line["error"] = vector["error"]
        else:
            line["output"] = {c: _from_golden(v) for c, v in zip(columns, vector["output"])}
        out.write(_line(line))
    return len(golden)


def _line(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=True, allow_nan=False, separators=(",", ":")) + "\n"
