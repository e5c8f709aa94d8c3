"""Golden vectors: input rows with the exact outputs the row path gave on the saving host.

Every artifact holds ``golden.json`` (hashed in the manifest like every other file):
``golden`` rows (default 256; more when a spec has so many inputs that their null forms alone
need more) —

* the **training sample** fit kept (:mod:`featurekit.sample`), thinned evenly, and
* **edge rows** built from the parity tester's edge values
  (:func:`featurekit.parity.generation.input_edge_values`), each setting one input of a
  background row (the first sample row; for a transform not fitted in this process, a row of
  values the contract accepts): first every input's null forms (None, NaN, the key missing),
  then the other edge values of all inputs in turn, and one row with unexpected extra keys —

each with the row path's output, or, for a row the row path refuses, the error's type,
message and input. :func:`replay` runs them again (``featurekit verify``,
``featurekit.load(path, verify=True)``): a serving host that computes any cell differently
(another CPU, C library, Python or featurekit build) is caught before traffic arrives.

File format: strict JSON written with :mod:`featurekit.values.codec` (floats round-trip exactly,
non-finite floats tagged ``{"$float": "nan"}``; every non-ASCII character escaped), one
vector per line::

    {"columns":[...],"format":"featurekit-golden","format_version":1,"vectors":[
    {"input":{...},"output":[one value per column],"source":"sample"},
    {"error":{"input":"x","message":"...","type":"ContractError"},"input":{...},"source":"edge"},
    ...]}

A key absent from ``input`` is a missing key. Values JSON lacks are tagged:
``{"$datetime": ISO 8601}`` (naive or with its UTC offset), ``{"$bytes": base64}``; an output
of another type (a custom function may return anything) is kept as ``{"$object": type name,
"repr": ...}``. ``featurekit golden`` exports the same vectors for ports in other languages
(:mod:`featurekit.artifact.export`).

>>> import featurekit as fk
>>> fitted = fk.spec_from_yaml('''
... featurekit: 1
... name: demo
... version: 0.1.0
... inputs: {x: {type: float}}
... features:
...   y: log1p(coalesce(x, 0.0))
... ''').fit([{"x": 1.0}, {"x": 3.0}])
>>> vectors = GoldenVectors(record(fitted, 8), "demo")
>>> len(vectors), vectors.sources()
(8, {'sample': 2, 'edge': 6})
>>> replay(fitted, vectors)
[]
"""

from __future__ import annotations

import base64
import dataclasses
import datetime as _dt
import functools
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from featurekit.errors import ArtifactError
from featurekit.values import codec
from featurekit.values.equality import STRICT

if TYPE_CHECKING:
    from featurekit.transform import FittedTransform

FORMAT = "featurekit-golden"
FORMAT_VERSION = 1
DEFAULT_VECTORS = 256
EXTRA_KEYS = {"__unexpected_key__": 1, "": None}
"""Keys no spec declares, added to one edge row: the row path must ignore them."""
_MISSING = object()


# ------------------------------------------------------------------------------ values


def encode_value(value: Any) -> Any:
    """A row value in the file's JSON form (floats are left to :mod:`featurekit.values.codec`).

    >>> encode_value(_dt.datetime(2026, 1, 1, tzinfo=_dt.timezone.utc)), encode_value(b"x")
    ({'$datetime': '2026-01-01T00:00:00.000000+00:00'}, {'$bytes': 'eA=='})
    """
    if value is None or type(value) in (bool, int, float, str):
        return value
    if isinstance(value, _dt.datetime):
        return {"$datetime": value.isoformat(timespec="microseconds")}
    if isinstance(value, bytes):
        return {"$bytes": base64.b64encode(value).decode("ascii")}
    return {"$object": type(value).__qualname__, "repr": repr(value)[:1000]}


def decode_value(value: Any) -> Any:
    """Invert :func:`encode_value` (an ``$object`` stays as its tagged dict)."""
    if isinstance(value, dict):
        if "$datetime" in value:
            return _dt.datetime.fromisoformat(value["$datetime"])
        if "$bytes" in value:
            return base64.b64decode(value["$bytes"])
    return value


def same_cell(a: Any, b: Any) -> bool:
    """Whether two encoded values are bit-identical: same type, and for floats the same value
    and sign (NaN equals NaN; ``-0.0`` differs from ``0.0``, ``1`` from ``1.0`` and ``True``).

    >>> same_cell(float("nan"), float("nan")), same_cell(-0.0, 0.0), same_cell(1, 1.0), same_cell(1, True)
    (True, False, False, False)
    """
    if type(a) in (dict, list) and type(a) is type(b):
        return codec.dumps(a, ascii=True) == codec.dumps(b, ascii=True)
    return STRICT.same(a, b)


def error_record(exc: BaseException) -> dict[str, Any]:
    """What a vector records of an error: type name, message, and the input it names."""
    name = getattr(exc, "input", None)
    return {"type": type(exc).__name__, "message": str(exc), "input": name if isinstance(name, str) else None}


# ------------------------------------------------------------------------------ recording


def _training_rows(fitted: FittedTransform) -> list[dict[str, Any]]:
    if fitted.sample_ is not None:
        return list(fitted.sample_)
    golden = fitted.golden_
    return golden.sample_rows() if golden is not None else []


def _is_null_form(value: Any) -> bool:
    return value is None or (type(value) is float and value != value)


def golden_inputs(
    fitted: FittedTransform, n: int = DEFAULT_VECTORS, sample: bool = True
) -> list[tuple[str, dict[str, Any]]]:
    """The ``(source, row)`` pairs :func:`record` runs: see the module docstring."""
    from featurekit.parity.generation import input_edge_values

    rows = _training_rows(fitted) if sample else []
    names = [i.name for i in fitted.spec.inputs]
    if rows:
        base = dict(rows[0])
    else:
        accepted = input_edge_values(fitted, invalid=False)
        base = {k: next((v for v in accepted[k] if not _is_null_form(v)), None) for k in names}
    fixed = []
    for name in names:
        for value in (None, math.nan, _MISSING):
            row = dict(base)
            if value is _MISSING:
                row.pop(name, None)
            else:
                row[name] = value
            fixed.append(row)
    fixed.append({**base, **EXTRA_KEYS})
    if n <= len(fixed):  # every input's null forms, even beyond n
        return [("edge", r) for r in fixed]
    queues = {k: [v for v in values if not _is_null_form(v)] for k, values in input_edge_values(fitted).items()}
    pool = sum(len(q) for q in queues.values())
    room = n - len(fixed)
    n_sample = min(len(rows), max((room + 1) // 2, room - pool))
    edges: list[dict[str, Any]] = []
    depth = 0
    while len(edges) < min(pool, room - n_sample):
        for name, values in queues.items():
            if depth < len(values) and len(edges) < room - n_sample:
                edges.append({**base, name: values[depth]})
        depth += 1
    picked = [rows[i * len(rows) // n_sample] for i in range(n_sample)]
    return [("sample", r) for r in picked] + [("edge", r) for r in fixed + edges]


def record(fitted: FittedTransform, n: int = DEFAULT_VECTORS, sample: bool = True) -> bytes:
    """``golden.json`` for ``fitted``: :func:`golden_inputs` with the row path's outputs."""
    columns = fitted.output_columns
    lines = []
    for source, row in golden_inputs(fitted, n, sample):
        entry: dict[str, Any] = {"source": source, "input": {k: encode_value(v) for k, v in row.items()}}
        try:
            out = fitted.transform_row(row)
        except Exception as exc:  # noqa: BLE001 - a refused row is recorded as such, whatever the error
            entry["error"] = error_record(exc)
        else:
            entry["output"] = [encode_value(out.get(c)) for c in columns]
        lines.append(codec.dumps(entry, ascii=True))
    head = codec.dumps({"format": FORMAT, "format_version": FORMAT_VERSION, "columns": columns}, ascii=True)
    return (head[:-1] + ',"vectors":[\n' + ",\n".join(lines) + "\n]}\n").encode("ascii")


# ------------------------------------------------------------------------------ reading


class GoldenVectors:
    """The golden vectors of a loaded artifact, parsed (and checked) on first use.

    ``environment`` is the saving host's, as recorded in the manifest (None for artifacts
    saved before it was recorded).
    """

    def __init__(self, data: bytes, where: str, environment: Mapping[str, Any] | None = None) -> None:
        self.data = data
        self.where = where
        self.environment = dict(environment) if environment else None

    def _bad(self, what: str) -> ArtifactError:
        return ArtifactError(f"load {self.where!r}: golden.json {what}\n  Fix: re-save the artifact", path=self.where)

    @functools.cached_property
    def document(self) -> dict[str, Any]:
        try:
            doc = codec.loads(self.data.decode("ascii"))
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise self._bad(f"is not valid strict JSON ({exc})") from None
        if not isinstance(doc, dict) or doc.get("format") != FORMAT:
            raise self._bad("is not a featurekit golden-vector file")
        if doc.get("format_version") != FORMAT_VERSION:
            raise ArtifactError(
                f"load {self.where!r}: golden.json has format version {doc.get('format_version')!r}; "
                f"this featurekit reads {FORMAT_VERSION}\n  Fix: upgrade featurekit",
                path=self.where,
            )
        columns, vectors = doc.get("columns"), doc.get("vectors")
        if not (isinstance(columns, list) and all(isinstance(c, str) for c in columns) and isinstance(vectors, list)):
            raise self._bad("lacks its column list or vector list")
        for i, v in enumerate(vectors):
            if not (
                isinstance(v, dict)
                and v.get("source") in ("sample", "edge")
                and isinstance(v.get("input"), dict)
                and (isinstance(v.get("output"), list) and len(v["output"]) == len(columns))
                != (
                    isinstance(v.get("error"), dict)
                    and isinstance(v["error"].get("type"), str)
                    and isinstance(v["error"].get("message"), str)
                )
            ):
                raise self._bad(f"vector {i} is malformed (needs source, input, and an output per column or an error)")
        return doc

    @property
    def columns(self) -> list[str]:
        return self.document["columns"]

    @property
    def vectors(self) -> list[dict[str, Any]]:
        return self.document["vectors"]

    def __len__(self) -> int:
        return len(self.vectors)

    def sources(self) -> dict[str, int]:
        """How many vectors come from the training sample and how many are edge rows."""
        counts = {"sample": 0, "edge": 0}
        for v in self.vectors:
            counts[v["source"]] += 1
        return counts

    def sample_rows(self) -> list[dict[str, Any]]:
        """The training rows among the vectors (re-saving a loaded transform keeps them)."""
        return [decode_row(v["input"]) for v in self.vectors if v["source"] == "sample"]


def decode_row(encoded: Mapping[str, Any]) -> dict[str, Any]:
    """A vector's input as the row dict the row path is called with."""
    return {k: decode_value(v) for k, v in encoded.items()}


# ------------------------------------------------------------------------------ replaying


@dataclasses.dataclass(frozen=True)
class Difference:
    """One golden cell this host computes differently.

    ``column`` is an output column, or ``(error)`` when one side raised: then ``recorded``
    and ``here`` are error records or ``{"output": ...}``. Values are in encoded form.
    """

    vector: int
    source: str
    column: str
    recorded: Any
    here: Any
    input: dict[str, Any]


def replay(fitted: FittedTransform, golden: GoldenVectors) -> list[Difference]:
    """Run every golden vector through ``fitted``'s row path; the cells that differ."""
    columns = fitted.output_columns
    if golden.columns != columns:
        raise ArtifactError(
            f"load {golden.where!r}: golden.json records columns {golden.columns[:5]}...; the "
            f"transform has {columns[:5]}...\n  Fix: re-save the artifact",
            path=golden.where,
        )
    out: list[Difference] = []
    for i, vector in enumerate(golden.vectors):
        diff = functools.partial(Difference, i, vector["source"], input=vector["input"])
        try:
            got = fitted.transform_row(decode_row(vector["input"]))
        except Exception as exc:  # noqa: BLE001 - compared with what was recorded
            here_error: dict[str, Any] | None = error_record(exc)
        else:
            here_error = None
        recorded_error = vector.get("error")
        if recorded_error is not None or here_error is not None:
            recorded = recorded_error if recorded_error is not None else {"output": vector["output"]}
            here = here_error if here_error is not None else {"output": [encode_value(got.get(c)) for c in columns]}
            if not same_cell(recorded, here):
                out.append(diff("(error)", recorded, here))
            continue
        if list(got) != columns:
            out.append(diff("(columns)", columns, list(got)))
            continue
        for column, expected in zip(columns, vector["output"]):
            value = encode_value(got[column])
            if not same_cell(expected, value):
                out.append(diff(column, expected, value))
    return out
