"""One pass over a serving log: column statistics, record-level counts and the recheck sample.

Every declared input and output column is summarised by the same analyzer as the training
baseline (:class:`featurekit.analyzers.columns.ColumnStats`), built with the training column as
its ``reference`` so it also counts what the metrics compare (values out of the training range,
on the training histogram's bins, outside a fitted vocabulary). Blocks are folded one at a time
and merged, so memory stays bounded by the statistics, not by the log.

The recheck sample is systematic: every ``stride``-th record (by position in the log) served by
this artifact's fingerprint; when it grows past ``cap`` the stride doubles and every second
sampled record is dropped, so the sample is the same for any block layout.

With a ``window`` function (:func:`featurekit.skew.windows.window_key`) every record is also
folded into one more set of accumulators, the one of its time window: memory grows with
windows x columns, not with the log. A column-wise block (Arrow JSONL block, parquet batch) is
split by the window of each row's ``time`` and each part folded column-wise too.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

from featurekit.analyzers.columns import ColumnStats, Reference
from featurekit.serving_log import CHUNK, LogStats, batch_records, parquet_record, parse_lines, parse_record
from featurekit.skew.reading import (
    ArrowBlock,
    ArrowColumns,
    ParquetBlock,
    arrow_columns,
    arrow_fits,
    iter_blocks,
    parquet_columns,
    record_columns,
)
from featurekit.skew.windows import UNKNOWN

__all__ = ["Served", "collect", "column_stats"]

SERVING_VALUE_CAP = 200_000  # distinct serving strings kept per column


@dataclasses.dataclass
class Sample:
    """The systematic recheck sample (see the module docstring); ``cap`` 0 keeps every record."""

    fingerprint: str
    cap: int
    stride: int = 1
    records: list[dict[str, Any]] = dataclasses.field(default_factory=list)

    def take(self, base: int, count: int, record_at: Callable[[int], dict[str, Any]]) -> None:
        """Offer the records ``base .. base + count - 1`` of the log (``record_at(i)``: the i-th of them)."""
        i = (-base) % self.stride
        while i < count:
            r = record_at(i)
            if r.get("fingerprint") == self.fingerprint:
                self.records.append(r)
                if self.cap and len(self.records) > self.cap:
                    self.stride *= 2
                    self.records = self.records[::2]
            i += 1
            i += (-(base + i)) % self.stride


@dataclasses.dataclass
class Served:
    """What the log holds: ``columns`` maps (role, name) to the serving summary of
    :meth:`ColumnStats.finalize`; ``times`` the first and last record time of each block."""

    records: int
    read: LogStats
    other_fingerprints: Counter
    extra_fields: Counter
    times: list[str]
    sample: Sample
    columns: dict[tuple[str, str], dict[str, Any]]
    windows: dict[str, tuple[int, dict[tuple[str, str], dict[str, Any]]]] = dataclasses.field(default_factory=dict)
    """Window start -> (records, serving summaries per column), in window order; empty without windows."""


def column_stats(
    types: Mapping[tuple[str, str], str], baseline: Mapping[str, Any], vocabularies: Mapping[str, list[frozenset]]
) -> dict[tuple[str, str], ColumnStats]:
    """The serving-side analyzer of every (role, name) column declared as ``types[(role, name)]``."""
    out = {}
    for (role, name), type_name in types.items():
        base = baseline[role + "s"].get(name) or {}
        vocabs = tuple(vocabularies.get(name, [])) if role == "input" else ()
        out[(role, name)] = ColumnStats(
            type_name, sketch=False, value_cap=SERVING_VALUE_CAP, reference=Reference(base, vocabs)
        )
    return out


def _json_record(line: bytes) -> dict[str, Any]:
    try:  # Arrow read these lines, so they are JSON objects (tags decode leniently) ...
        return json.loads(line)
    except ValueError:  # ... except a number Python will not parse (> 4,300 digits)
        return {}


_LONG_INT = re.compile(rb"\d{4301}")


class _Line:
    """A sampled line of an Arrow block, parsed when the sample is complete: most records the
    sample takes are dropped again as its stride doubles. ``get("fingerprint")`` is Arrow's."""

    __slots__ = ("fingerprint", "line")

    def __init__(self, line: bytes, fingerprint: Any) -> None:
        self.line, self.fingerprint = line, fingerprint

    def get(self, key: str) -> Any:
        assert key == "fingerprint"
        return self.fingerprint


def _line_at(ab: ArrowBlock, fingerprints: Any) -> Callable[[int], Any]:
    """The i-th record of an Arrow block for the sample: a :class:`_Line` when Python's JSON
    reading of the line is sure to give Arrow's fingerprint (one ``"fingerprint"`` key, no integer
    Python refuses), else the record itself."""

    def at(i: int) -> Any:
        line = ab.lines[i]
        if line.count(b'"fingerprint"') != 1 or (len(line) > 4300 and _LONG_INT.search(line)):
            return _json_record(line)
        return _Line(line, fingerprints[i].as_py())

    return at


def _rows_by_window(table: Any, window: Callable[[Mapping[str, Any]], str]) -> dict[str, list[int]]:
    """Row positions of a column-wise block by the window of their ``time`` (as a record's).

    >>> import pyarrow as pa
    >>> from featurekit.skew.windows import window_key
    >>> times = ["2026-01-19T23:30:00+00:00", "2026-01-19T23:30:00-02:00", None]
    >>> _rows_by_window(pa.table({"time": times}), window_key("day"))
    {'2026-01-19T00:00:00+00:00': [0], '2026-01-20T00:00:00+00:00': [1], 'unknown': [2]}
    """
    import datetime as dt

    out: dict[str, list[int]] = {}
    times = table.column("time").to_pylist() if "time" in table.column_names else [None] * table.num_rows
    for i, t in enumerate(times):
        if isinstance(t, dt.datetime):  # a reader that typed the column: the same instant as text
            t = (t.replace(tzinfo=dt.UTC) if t.tzinfo is None else t).isoformat()
        out.setdefault(window({"time": t}), []).append(i)
    return out


def collect(
    source: Any,
    stats: Mapping[tuple[str, str], ColumnStats],
    inputs: Mapping[str, str],
    sample: Sample,
    window: Callable[[Mapping[str, Any]], str] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Served:
    """Read ``source`` (paths/globs or record dicts) once; ``inputs``: declared input name -> type;
    ``window``: a record's window (see the module docstring); ``progress``: told the records of each block."""
    outputs = {name: s.type_name for (role, name), s in stats.items() if role == "output"}
    types = {key: s.type_name for key, s in stats.items()}
    accs = {key: s.create() for key, s in stats.items()}
    served = Served(0, LogStats(), Counter(), Counter(), [], sample, {})
    windows: dict[str, tuple[list[int], dict[tuple[str, str], Any]]] = {}

    def fold(key: tuple[str, str], part: dict[str, Any]) -> None:
        accs[key] = stats[key].merge([accs[key], part])

    def fold_windows(chunk: list[dict[str, Any]]) -> None:
        assert window is not None
        groups: dict[str, list[dict[str, Any]]] = {}
        for r in chunk:
            groups.setdefault(window(r), []).append(r)
        for w, recs in groups.items():
            count, waccs = windows.setdefault(w, ([0], {key: s.create() for key, s in stats.items()}))
            count[0] += len(recs)
            for key, values in record_columns(recs, inputs, outputs).items():
                waccs[key] = stats[key].merge([waccs[key], stats[key].accumulate_logged(values)])

    def fold_records(chunk: list[dict[str, Any]]) -> None:
        base, served.records = served.records, served.records + len(chunk)
        served.times += [str(chunk[0].get("time")), str(chunk[-1].get("time"))]
        for f, c in Counter(r.get("fingerprint") for r in chunk).items():
            if f != sample.fingerprint:
                served.other_fingerprints[str(f)] += c
        for keys, c in Counter(tuple(r["input"]) + tuple(r.get("omitted") or ()) for r in chunk).items():
            for k in keys:
                if k not in inputs:
                    served.extra_fields[k] += c
        for key, values in record_columns(chunk, inputs, outputs).items():
            fold(key, stats[key].accumulate_logged(values))
        if window is not None:
            fold_windows(chunk)
        sample.take(base, len(chunk), chunk.__getitem__)
        if progress is not None:
            progress(len(chunk))

    def column_parts(block: ArrowColumns, n: int) -> dict[tuple[str, str], Any]:
        return {
            key: stats[key].accumulate_absent(n, missing) if arr is None else stats[key].accumulate_arrow(arr, missing)
            for key, (arr, missing) in block.columns.items()
        }

    def fold_columns(block: ArrowColumns, n: int) -> None:
        for f, c in block.fingerprints.items():
            if f != sample.fingerprint:
                served.other_fingerprints[f] += c
        served.extra_fields.update(block.extra)
        for key, part in column_parts(block, n).items():
            fold(key, part)
        if progress is not None:
            progress(n)

    def fold_column_windows(table: Any, columns_of: Callable[[list[int]], ArrowColumns]) -> None:
        assert window is not None
        for w, idx in _rows_by_window(table, window).items():
            count, waccs = windows.setdefault(w, ([0], {key: s.create() for key, s in stats.items()}))
            count[0] += len(idx)
            for key, part in column_parts(columns_of(idx), len(idx)).items():
                waccs[key] = stats[key].merge([waccs[key], part])

    def fold_arrow(ab: ArrowBlock) -> None:
        base, served.records = served.records, served.records + len(ab.lines)
        served.times += [str((parse_record(ab.lines[k])[0] or {}).get("time")) for k in (0, -1)]
        fingerprints = ab.table.column("fingerprint")
        sample.take(base, len(ab.lines), _line_at(ab, fingerprints.combine_chunks()))
        fold_columns(arrow_columns(ab, inputs, outputs), len(ab.lines))
        if window is not None:
            fold_column_windows(
                ab.table,
                lambda idx: arrow_columns(
                    ArrowBlock(ab.table.take(idx), [ab.lines[i] for i in idx], b"", ab.path, ab.first), inputs, outputs
                ),
            )

    def fold_parquet(pb: ParquetBlock) -> None:
        n = pb.table.num_rows

        def record_at(i: int) -> dict[str, Any]:
            return parquet_record(pb.table.slice(i, 1).to_pylist()[0])

        base, served.records = served.records, served.records + n
        served.times += [str(record_at(k).get("time")) for k in (0, n - 1)]
        sample.take(base, n, record_at)
        fold_columns(parquet_columns(pb, inputs, outputs), n)
        if window is not None:
            fold_column_windows(
                pb.table,
                lambda idx: parquet_columns(ParquetBlock(pb.table.take(idx), pb.path, pb.first), inputs, outputs),
            )

    for item in iter_blocks(source, served.read):
        if isinstance(item, ParquetBlock):
            if arrow_fits(item.table, types):
                fold_parquet(item)
            else:
                fold_records(batch_records(item.table, served.read, item.path, item.first))
        elif not isinstance(item, ArrowBlock):
            fold_records(item)
        elif arrow_fits(item.table, types):
            fold_arrow(item)
        else:
            recs = list(parse_lines(item.block, served.read, item.path, item.first))
            for k in range(0, len(recs), CHUNK):
                fold_records(recs[k : k + CHUNK])
    sample.records = [_json_record(r.line) if isinstance(r, _Line) else r for r in sample.records]
    served.columns = {key: stats[key].finalize(acc) for key, acc in accs.items()}
    for w in sorted(windows, key=lambda w: (w == UNKNOWN, w)):
        count, waccs = windows[w]
        served.windows[w] = (count[0], {key: stats[key].finalize(acc) for key, acc in waccs.items()})
    return served
