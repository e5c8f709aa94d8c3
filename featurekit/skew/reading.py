"""Reading serving logs for the skew report: blocks of records, Arrow-read when possible.

:func:`iter_blocks` yields the log in blocks: an :class:`ArrowBlock` for a JSONL block Arrow's
JSON reader can read whole (the fast path: float tags rewritten to plain JSON first, datetime
tags read as one-field structs and unwrapped, see :func:`_arrow_table`), a :class:`ParquetBlock`
for a parquet record batch whose rows are all records (:func:`_records_only`), else lists of
record dicts parsed and checked line by line (or row by row) by :mod:`featurekit.serving_log`
(which also reads gzip-compressed JSONL). :func:`arrow_columns`, :func:`parquet_columns` and
:func:`record_columns` then give, per declared input and output column, the values the column
statistics (:class:`featurekit.analyzers.columns.ColumnStats`) accumulate; the three give the
same statistics for the same records. The next block is read on a thread (:func:`_read_ahead`)
while the current one is folded.

>>> import pyarrow as pa
>>> table = _arrow_table(b'{"input": {"x": {"float": "nan"}}, "output": {"y": 1}, "fingerprint": "f"}\\n')
>>> table.column("input").to_pylist()
[{'x': None}]
>>> record_columns([{"input": {"x": {"float": "inf"}}}, {"input": {}}], {"x": "float"}, {})[("input", "x")]
[inf, <missing>]
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

from featurekit.analyzers.columns import KIND_OF_TYPE, MISSING
from featurekit.serving_log import (
    CHUNK,
    MAX_EXAMPLES,
    LogStats,
    _is_paths,
    batch_records,
    is_parquet,
    iter_records,
    log_paths,
    parquet_batches,
    parse_lines,
    read_blocks,
)
from featurekit.values.codec import decode_logged

__all__ = [
    "ArrowBlock",
    "ParquetBlock",
    "arrow_columns",
    "arrow_fits",
    "iter_blocks",
    "parquet_columns",
    "record_columns",
]


PARQUET_BATCH = CHUNK
"""Rows of a parquet log read at a time."""


@dataclasses.dataclass
class ArrowBlock:
    """One JSONL block read by Arrow: the table, its non-blank lines, the raw bytes, where it is."""

    table: Any
    lines: list[bytes]
    block: bytes
    path: str
    first: int


@dataclasses.dataclass
class ParquetBlock:
    """One parquet record batch whose rows are all records (see :func:`_records_only`), as a table."""

    table: Any
    path: str
    first: int


_MAXF = b"1.7976931348623157e308"
_MAX = 1.7976931348623157e308
_TAG_NAMES = frozenset({"$float", "float", "$bytes", "bytes", "$datetime", "datetime"})
_ISO_TEXT = r'^\d{4}-\d\d-\d\d[^"\\]*$'


def _arrow_table(block: bytes) -> Any:
    """``block`` (whole JSONL lines) as an Arrow table, tags rewritten; None when that is not possible.

    Float tags are rewritten in the text (``nan`` to null, ``+-inf`` to ``+-`` the largest double,
    which the table then maps back to ``+-inf``: exact, as the block is read line by line when it
    holds that number otherwise); a datetime tag is read as a struct and replaced by its text (or
    timestamp) field. Any other tag (or a malformed one) sends the block line by line.
    """
    import pyarrow as pa
    import pyarrow.json as pj

    text = block
    infs = [0, 0]
    for tag in (b'"$float"', b'"float"'):  # the codec's tag, and the one of logs written before it
        if tag not in text:
            continue
        if _MAXF in block:
            return None
        text = text.replace(b"{" + tag + b': "nan"}', b"null")
        for k, (value, number) in enumerate(((b'"inf"}', _MAXF), (b'"-inf"}', b"-" + _MAXF))):
            pattern = b"{" + tag + b": " + value
            infs[k] += text.count(pattern)
            text = text.replace(pattern, number)
    try:
        table = pj.read_json(pa.BufferReader(text), read_options=pj.ReadOptions(block_size=4 << 20, use_threads=False))
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
    if any(_has_tag(schema.field(c).type) for c in names - {"input", "output"}):
        return None
    found = [0, 0]
    for role in ("input", "output"):
        col = _untagged(table.column(role).combine_chunks(), found)
        if col is None:
            return None
        table = table.set_column(table.column_names.index(role), role, col)
    if found != infs:  # a tagged infinity elsewhere, or the largest double itself
        return None
    if infs != [0, 0]:
        for role in ("input", "output"):
            table = table.set_column(table.column_names.index(role), role, _with_infs(table.column(role).chunk(0)))
    return table


def _has_tag(kind: Any) -> bool:
    """Whether the Arrow type ``kind`` holds an object with a tag's key (at any depth)."""
    import pyarrow as pa

    if pa.types.is_struct(kind):
        return any(kind.field(i).name in _TAG_NAMES or _has_tag(kind.field(i).type) for i in range(kind.num_fields))
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        return _has_tag(kind.value_type)
    if pa.types.is_map(kind):
        return _has_tag(kind.key_type) or _has_tag(kind.item_type)
    return False


def _untagged(col: Any, found: list[int]) -> Any:
    """The struct array ``col`` (input or output) with its datetime-tag fields replaced by their
    text; None when a field holds another tag, or a datetime tag that is not ISO-like text.
    ``found`` counts the largest doubles (positive, negative) of its float fields."""
    import pyarrow as pa
    import pyarrow.compute as pc

    st = col.type
    fields, children, changed = [], [], False
    for i in range(st.num_fields):
        f, child = st.field(i), col.field(i)
        if pa.types.is_struct(f.type) and f.type.num_fields == 1 and f.type.field(0).name in ("$datetime", "datetime"):
            inner = child.field(0)
            ok_type = pa.types.is_timestamp(inner.type) or pa.types.is_string(inner.type)
            if not ok_type or inner.null_count != child.null_count or _has_tag(inner.type):
                return None
            if child.null_count and not pc.all(pc.equal(child.is_null(), inner.is_null())).as_py():
                return None
            if pa.types.is_string(inner.type) and pc.all(pc.match_substring_regex(inner, _ISO_TEXT)).as_py() is False:
                return None
            f, child, changed = pa.field(f.name, inner.type), inner, True
        elif _has_tag(f.type):
            return None
        elif pa.types.is_floating(f.type):
            found[0] += int(pc.sum(pc.equal(child, _MAX)).as_py() or 0)
            found[1] += int(pc.sum(pc.equal(child, -_MAX)).as_py() or 0)
        fields.append(f)
        children.append(child)
    if not changed:
        return col
    return pa.StructArray.from_arrays(children, fields=fields, mask=col.is_null() if col.null_count else None)


def _with_infs(col: Any) -> Any:
    """The struct array ``col`` with the largest doubles of its float fields back to +-inf."""
    import pyarrow as pa
    import pyarrow.compute as pc

    st = col.type
    fields = [st.field(i) for i in range(st.num_fields)]
    children = []
    for i, f in enumerate(fields):
        child = col.field(i)
        if pa.types.is_floating(f.type):
            child = pc.if_else(pc.equal(child, _MAX), math.inf, child)
            child = pc.if_else(pc.equal(child, -_MAX), -math.inf, child)
        children.append(child)
    return pa.StructArray.from_arrays(children, fields=fields, mask=col.is_null() if col.null_count else None)


def iter_blocks(
    source: Any, stats_: LogStats, arrow: bool = True
) -> Iterator[ArrowBlock | ParquetBlock | list[dict[str, Any]]]:
    """An :class:`ArrowBlock` for each JSONL block Arrow can read and a :class:`ParquetBlock` for
    each parquet batch of records only (only lists of records when not ``arrow``), else lists of
    valid records."""
    if not _is_paths(source):
        yield from iter_records(source, stats_)
        return
    if arrow:
        yield from _read_ahead(source, stats_)
    else:
        yield from _path_blocks(source, stats_, arrow)


def _path_blocks(
    source: Any, stats_: LogStats, arrow: bool
) -> Iterator[ArrowBlock | ParquetBlock | list[dict[str, Any]]]:
    for path in log_paths(source):
        if is_parquet(path):
            for row, batch in parquet_batches(path, stats_, PARQUET_BATCH):
                if arrow and _records_only(batch):
                    import pyarrow as pa

                    yield ParquetBlock(pa.Table.from_batches([batch]), path, row)
                    continue
                records = batch_records(batch, stats_, path, row)
                if records:
                    yield records
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


def _read_ahead(source: Any, stats_: LogStats) -> Iterator[ArrowBlock | ParquetBlock | list[dict[str, Any]]]:
    """:func:`_path_blocks` read one block ahead on a thread (Arrow's JSON and parquet readers
    release the GIL, so reading the next block overlaps folding this one). What reading a block
    adds to the log statistics is kept with it and added to ``stats_`` when the block is handed
    over, in the order of a plain read."""
    import queue
    import threading

    handoff: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(message: tuple[str, Any, LogStats]) -> None:
        while not stop.is_set():
            try:
                handoff.put(message, timeout=0.1)
                return
            except queue.Full:
                continue

    def read() -> None:
        local = LogStats()
        try:
            for item in _path_blocks(source, local, True):
                put(("item", item, _taken(local)))
                if stop.is_set():
                    return
            put(("end", None, _taken(local)))
        except BaseException as exc:  # handed to the reading thread, raised there
            put(("error", exc, _taken(local)))

    reader = threading.Thread(target=read, name="featurekit-skew-read-ahead", daemon=True)
    reader.start()
    try:
        while True:
            kind, value, delta = handoff.get()
            stats_.files += delta.files
            stats_.unparseable += delta.unparseable
            stats_.examples += delta.examples[: max(MAX_EXAMPLES - len(stats_.examples), 0)]
            if kind == "error":
                raise value
            if kind == "end":
                return
            yield value
    finally:
        stop.set()
        reader.join()


def _taken(local: LogStats) -> LogStats:
    """What ``local`` holds, which it then forgets."""
    out = LogStats(list(local.files), local.unparseable, list(local.examples))
    local.files.clear()
    local.examples.clear()
    local.unparseable = 0
    return out


def _records_only(batch: Any) -> bool:
    """Whether every row of a parquet record batch is a log record (see
    :func:`featurekit.serving_log.record_problem`) without a tagged value: then its columns are
    read as they are, else it is read record by record."""
    import pyarrow as pa

    schema = batch.schema
    names = schema.names
    if len(set(names)) != len(names):
        return False
    text_types = (pa.types.is_string, pa.types.is_large_string, pa.types.is_null)
    for role in ("input", "output"):
        if role not in names:
            if role == "input":
                return False
            continue
        kind = schema.field(role).type
        if not pa.types.is_struct(kind) or (role == "input" and batch.column(role).null_count):
            return False
        children = [kind.field(i) for i in range(kind.num_fields)]
        if len({f.name for f in children}) != len(children) or any(pa.types.is_struct(f.type) for f in children):
            return False
    if "fingerprint" in names and not any(t(schema.field("fingerprint").type) for t in text_types):
        return False
    time_types = (*text_types, pa.types.is_timestamp, pa.types.is_date)
    if "time" in names and not any(t(schema.field("time").type) for t in time_types):
        return False
    if "omitted" in names:
        kind = schema.field("omitted").type
        if pa.types.is_null(kind):
            return True
        if not (pa.types.is_list(kind) or pa.types.is_large_list(kind)) or not any(
            t(kind.value_type) for t in text_types[:2]
        ):
            return False
        return batch.column("omitted").flatten().null_count == 0
    return True


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
        if role not in table.schema.names:
            continue
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
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    table = ab.table
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
            child = col.field(fields[name])
            arr = pc.if_else(outer_null, pa.nulls(n, child.type), child) if col.null_count else child
            missing = 0
            if role == "input" and arr.null_count:  # a null value: is its key in the line (less an output's)?
                key = b'"' + name.encode() + b'": '
                out = None
                if name in outputs and name in out_fields:
                    out = table.column("output").combine_chunks().field(name).is_valid().to_numpy(zero_copy_only=False)
                for i in np.flatnonzero(arr.is_null().to_numpy(zero_copy_only=False)).tolist():
                    if ab.lines[i].count(key) - (1 if out is not None and out[i] else 0) <= 0:
                        missing += 1
            columns[(role, name)] = (arr, missing)
    return ArrowColumns(fps, extra, columns)


def parquet_columns(pb: ParquetBlock, inputs: Mapping[str, Any], outputs: Mapping[str, Any]) -> ArrowColumns:
    """The declared columns of one parquet batch whose rows are all records, counted as
    :func:`record_columns` counts the records made of its rows: a struct field is present in every
    row (null or not), a null ``output`` lacks all of its fields."""
    import pyarrow as pa
    import pyarrow.compute as pc

    table = pb.table
    n, names = table.num_rows, table.column_names
    fps: Counter = Counter()
    if "fingerprint" not in names or pa.types.is_null(table.schema.field("fingerprint").type):
        fps["None"] = n
    else:
        vc = pc.value_counts(table.column("fingerprint"))
        for k, v in zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist()):
            fps[str(k)] += v
    extra: Counter = Counter()
    columns: dict[tuple[str, str], tuple[Any, int]] = {}
    for role in ("input", "output"):
        if role not in names:
            for name in outputs:
                columns[(role, name)] = (None, n)
            continue
        col = table.column(role).combine_chunks()
        st = col.type
        fields = {st.field(i).name: i for i in range(st.num_fields)}
        if role == "input":
            for name in fields:
                if name not in inputs:
                    extra[name] += n
        for name in inputs if role == "input" else outputs:
            if name not in fields:
                columns[(role, name)] = (None, n)
                continue
            child = col.field(fields[name])
            if col.null_count:
                child = pc.if_else(col.is_null(), pa.nulls(n, child.type), child)
            columns[(role, name)] = (child, col.null_count)
    if "omitted" in names and not pa.types.is_null(table.schema.field("omitted").type):
        vc = pc.value_counts(pc.list_flatten(table.column("omitted")))
        for k, v in zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist()):
            if k not in inputs:
                extra[k] += v
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
