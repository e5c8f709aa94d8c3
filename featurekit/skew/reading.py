"""Reading serving logs for the skew report: blocks of records, Arrow-read when possible.

:func:`iter_blocks` yields the log in blocks: an :class:`ArrowBlock` for a JSONL block Arrow's
JSON reader can read whole (the fast path: tags rewritten to plain JSON first, see
:func:`_arrow_table`), else lists of record dicts parsed and checked line by line by
:mod:`featurekit.serving_log` (which also reads gzip-compressed JSONL and parquet logs, as lists
of records). :func:`arrow_columns` and :func:`record_columns` then give, per
declared input and output column, the values the column statistics
(:class:`featurekit.analyzers.columns.ColumnStats`) accumulate.

>>> import pyarrow as pa
>>> table = _arrow_table(b'{"input": {"x": {"float": "nan"}}, "output": {"y": 1}, "fingerprint": "f"}\\n')
>>> table.column("input").to_pylist()
[{'x': None}]
>>> record_columns([{"input": {"x": {"float": "inf"}}}, {"input": {}}], {"x": "float"}, {})[("input", "x")]
[inf, <missing>]
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from featurekit.analyzers.columns import KIND_OF_TYPE, MISSING
from featurekit.serving_log import (
    CHUNK,
    LogStats,
    _is_paths,
    is_parquet,
    iter_records,
    log_paths,
    parquet_records,
    parse_lines,
    read_blocks,
)
from featurekit.values.codec import decode_logged

__all__ = ["ArrowBlock", "arrow_columns", "arrow_fits", "iter_blocks", "record_columns"]


@dataclasses.dataclass
class ArrowBlock:
    """One JSONL block read by Arrow: the table, its non-blank lines, the raw bytes, where it is."""

    table: Any
    lines: list[bytes]
    block: bytes
    path: str
    first: int


_MAXF = b"1.7976931348623157e308"


def _arrow_table(block: bytes) -> Any:
    """``block`` (whole JSONL lines) as an Arrow table, tags rewritten; None when that is not possible."""
    import pyarrow as pa
    import pyarrow.json as pj

    text = block
    for tag in (b'"$float"', b'"float"'):  # the codec's tag, and the one of logs written before it
        text = text.replace(b"{" + tag + b': "nan"}', b"null").replace(b"{" + tag + b': "inf"}', _MAXF)
        text = text.replace(b"{" + tag + b': "-inf"}', b"-" + _MAXF)
    text = re.sub(rb'\{"\$?datetime": ("\d{4}-\d\d-\d\d[^"\\]*")\}', rb"\1", text)
    if re.search(rb'\{"\$?(float|bytes|datetime)"', text):
        return None
    try:
        table = pj.read_json(pa.BufferReader(text), read_options=pj.ReadOptions(block_size=4 << 20))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    # the record rules of featurekit.serving_log; a block breaking any of them is read line by line
    schema, names = table.schema, set(table.column_names)
    if (
        not {"input", "output", "fingerprint"} <= names
        or not pa.types.is_struct(schema.field("input").type)
        or not pa.types.is_struct(schema.field("output").type)
        or table.column("input").null_count
    ):
        return None
    text_types = (pa.types.is_string, pa.types.is_large_string, pa.types.is_null)
    if not any(t(schema.field("fingerprint").type) for t in text_types):
        return None
    if "time" in names and not any(t(schema.field("time").type) for t in (*text_types, pa.types.is_timestamp)):
        return None
    if "omitted" in names:
        kind = schema.field("omitted").type
        if not (pa.types.is_null(kind) or pa.types.is_list(kind) and any(t(kind.value_type) for t in text_types)):
            return None
    return table


def iter_blocks(source: Any, stats_: LogStats, arrow: bool = True) -> Iterator[ArrowBlock | list[dict[str, Any]]]:
    """An :class:`ArrowBlock` for each JSONL block Arrow can read (only lists of records when not
    ``arrow``), else lists of valid records."""
    if not _is_paths(source):
        yield from iter_records(source, stats_)
        return
    for path in log_paths(source):
        if is_parquet(path):
            yield from parquet_records(path, stats_)
            continue
        for first, block in read_blocks(path, stats_):
            table = _arrow_table(block) if arrow and _arrow_safe(block) else None
            if table is not None:
                lines = [ln for ln in block.split(b"\n") if ln.strip()]
                if table.num_rows == len(lines):
                    yield ArrowBlock(table, lines, block, path, first)
                    continue
            chunk: list[dict[str, Any]] = []
            for rec in parse_lines(block, stats_, path, first):
                chunk.append(rec)
                if len(chunk) >= CHUNK:
                    yield chunk
                    chunk = []
            if chunk:
                yield chunk


_MAX_OPEN = 256
_OPENS = bytes.maketrans(b"[", b"{")
_NOT_OPENS = bytes(range(256)).translate(None, b"{[\n")
_NOT_AN_OBJECT = re.compile(rb"\n[ \t\r]*[^{ \t\r\n]")


def _arrow_safe(block: bytes) -> bool:
    """Whether pyarrow's JSON reader may see ``block``: pyarrow 26 segfaults when a chunk it
    parses starts with a ``null`` line and on lines nested ~20,000 deep, and takes invalid
    UTF-8 it then cannot decode. Such blocks are read line by line instead (about 0.05 s per
    50 MB block for these checks).

    >>> _arrow_safe(b'{"input": {}}\\n'), _arrow_safe(b'{"input": {}}\\nnull\\n'), _arrow_safe(b'{"\\xff": 1}\\n')
    (True, False, False)
    """
    return _objects_only(block) and _shallow(block) and _utf8(block)


def _objects_only(block: bytes) -> bool:
    """True when every non-blank line of ``block`` starts with ``{``."""
    return re.match(rb"[ \t\r\n]*(?:\{|\Z)", block) is not None and _NOT_AN_OBJECT.search(block) is None


def _shallow(block: bytes) -> bool:
    """True when no line of ``block`` opens more than 256 objects or arrays (a bound on its depth).

    >>> _shallow(b'{"input": {"x": [1]}}\\n'), _shallow(b"[" * 300 + b"\\n")
    (True, False)
    """
    return max(map(len, block.translate(_OPENS, _NOT_OPENS).split(b"\n"))) <= _MAX_OPEN


def _utf8(block: bytes) -> bool:
    """True when ``block`` is valid UTF-8 (checked by Arrow without a copy)."""
    import array

    import pyarrow as pa

    offsets = pa.py_buffer(array.array("q", [0, len(block)]).tobytes())
    try:
        pa.Array.from_buffers(pa.large_binary(), 1, [None, offsets, pa.py_buffer(block)]).cast(pa.large_string())
    except pa.ArrowInvalid:
        return False
    return True


_ARROW_OK = {
    "float": ("double", "int64", "null"),
    "int": ("int64", "null"),
    "bool": ("bool", "null"),
    "str": ("string", "large_string", "null"),
    "category": ("string", "large_string", "null"),
    "timestamp": ("string", "large_string", "null", "timestamp"),
}


def arrow_fits(table: Any, types: Mapping[tuple[str, str], str]) -> bool:
    """Whether every declared column of ``table`` has an Arrow type its declared type takes
    (``types``: (role, name) -> declared type); else the block is read record by record."""
    for role in ("input", "output"):
        st = table.schema.field(role).type
        for i in range(st.num_fields):
            f = st.field(i)
            type_name = types.get((role, f.name))
            if type_name is None:
                continue
            if str(f.type).split("[")[0] not in _ARROW_OK[type_name]:
                return False
    return True


@dataclasses.dataclass
class ArrowColumns:
    """What one Arrow block holds: fingerprint counts, undeclared input fields, and per declared
    (role, name) column its Arrow array (None: the field is absent from the block) and how many
    records lack the field."""

    fingerprints: Counter
    extra: Counter
    columns: dict[tuple[str, str], tuple[Any, int]]


def arrow_columns(ab: ArrowBlock, inputs: Mapping[str, Any], outputs: Mapping[str, Any]) -> ArrowColumns:
    """The declared columns of one Arrow block (``inputs``/``outputs``: the declared names)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table, block = ab.table, ab.block
    n = table.num_rows
    vc = pc.value_counts(table.column("fingerprint"))
    fps = Counter({str(k): int(v) for k, v in zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist())})
    extra: Counter = Counter()
    if "omitted" in table.column_names and pa.types.is_list(table.schema.field("omitted").type):
        vc = pc.value_counts(pc.list_flatten(table.column("omitted")))
        extra.update(dict(zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist())))
    out_type = table.schema.field("output").type
    out_fields = {out_type.field(j).name for j in range(out_type.num_fields)}
    columns: dict[tuple[str, str], tuple[Any, int]] = {}
    for role in ("input", "output"):
        col = table.column(role).combine_chunks()
        st = col.type
        fields = {st.field(i).name: i for i in range(st.num_fields)}
        outer_null = col.is_null()
        for name, i in fields.items():
            if role == "input" and name not in inputs:
                extra[name] += n - col.field(i).null_count
        for name in inputs if role == "input" else outputs:
            if name not in fields:
                columns[(role, name)] = (None, n if role == "input" else 0)
                continue
            arr = pc.if_else(outer_null, pa.nulls(n, col.field(fields[name]).type), col.field(fields[name]))
            missing = 0
            if role == "input":  # a key counted in the raw text, less the same key in outputs
                present_keys = block.count(b'"' + name.encode() + b'": ')
                if name in outputs and name in out_fields:
                    present_keys -= n - table.column("output").combine_chunks().field(name).null_count
                missing = max(n - present_keys, 0)
            columns[(role, name)] = (arr, missing)
    return ArrowColumns(fps, extra, columns)


def record_columns(
    chunk: list[dict[str, Any]], inputs: Mapping[str, str], outputs: Mapping[str, str]
) -> dict[tuple[str, str], list[Any]]:
    """Per declared (role, name) column (``inputs``/``outputs``: name -> declared type) the decoded
    values of the records in ``chunk`` (:data:`MISSING` for an absent field; timestamps stay ISO
    text, checked when the record was read)."""
    rows = [r["input"] for r in chunk]
    outs = [r.get("output") or {} for r in chunk]
    columns = {}
    for role, names, source in (("input", inputs, rows), ("output", outputs, outs)):
        for name, type_name in names.items():
            values = [row.get(name, MISSING) for row in source]
            columns[(role, name)] = _decoded(values, KIND_OF_TYPE[type_name])
    return columns


def _decoded(values: list[Any], kind: str) -> list[Any]:
    if not any(type(v) is dict for v in values):
        return values
    if kind == "ts":  # keep the ISO text; an untagged object stays a value of the wrong type
        return [_datetime_text(v) if type(v) is dict else v for v in values]
    return [decode_logged(v) if type(v) is dict else v for v in values]


def _datetime_text(v: dict[str, Any]) -> Any:
    """The ISO text of a datetime tag (``$datetime`` or the legacy ``datetime``), else ``v``."""
    if len(v) == 1:
        text = v.get("$datetime", v.get("datetime"))
        if type(text) is str:
            return text
    return v
