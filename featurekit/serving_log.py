"""Reading serving logs: files, lines and the record format of :mod:`featurekit.logger`.

A line is a record when it is a JSON object whose ``input`` is an object, ``output`` an
object (or absent), ``fingerprint`` and ``time`` strings (or absent), ``omitted`` a list of
strings (or absent), and whose tagged values are well formed (``{"$float": "nan"|"inf"|"-inf"}``,
``{"$datetime": <ISO-8601 string>}``, ``{"$bytes": <base64 string>}``, the tags of
:mod:`featurekit.values.codec`; logs written before it used the same tags without ``$``, which
are read too). Decoding the values is :func:`featurekit.values.codec.decode_row`. Any other line (not JSON,
nested too deeply, longer than :data:`MAX_LINE` bytes, a field of the wrong type, a malformed
tag) is counted in :class:`LogStats` with its file and line number, and reading goes on.

>>> from featurekit.values.codec import decode_row
>>> stats = LogStats()
>>> block = b'{"input": {"x": {"float": "nan"}}, "output": {}}\\n{"input": {"x": {"float": "abc"}}}\\n'
>>> [decode_row(r["input"]) for r in parse_lines(block, stats, "s.jsonl")]
[{'x': nan}]
>>> stats.unparseable
1
>>> print(stats.examples[0])
s.jsonl:2: input field 'x': {"float": ...} must be "nan", "inf" or "-inf"
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import glob
import gzip
import json
import os
import zlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from featurekit.errors import FeaturekitError

CHUNK = 50_000
BLOCK = 48 * 1024 * 1024
MAX_LINE = 64 * 1024 * 1024
"""A longer line is skipped unread (counted as unparseable)."""
MAX_EXAMPLES = 5
_FLOATS = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf")}


class SkewInputError(FeaturekitError):
    """A serving log (or the skew thresholds) cannot be read."""


@dataclasses.dataclass
class LogStats:
    """What reading a log found besides records: the files read and the unparseable lines."""

    files: list[str] = dataclasses.field(default_factory=list)
    unparseable: int = 0
    examples: list[str] = dataclasses.field(default_factory=list)
    """``"path:line: reason"`` of the first :data:`MAX_EXAMPLES` unparseable lines."""

    def bad(self, where: str, reason: str) -> None:
        self.unparseable += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(f"{where}: {reason}")

    def summary(self) -> str:
        """One sentence on the skipped lines, with the first few places ("" when none)."""
        if not self.unparseable:
            return ""
        return f"{self.unparseable:,} unparseable log line(s) skipped, e.g. " + "; ".join(self.examples)


# ------------------------------------------------------------------------------ files


LOG_SUFFIXES = (".jsonl", ".jsonl.gz", ".parquet")
"""The files a log directory is read for: JSONL, gzip-compressed JSONL and parquet."""


def log_paths(source: str | os.PathLike | Iterable[str | os.PathLike]) -> list[str]:
    """The files of a log: a file, a directory (its ``*.jsonl``, ``*.jsonl.gz`` and ``*.parquet``),
    a glob, or a list of those."""
    if isinstance(source, (str, os.PathLike)):
        pattern = os.path.expanduser(os.fspath(source))
        if os.path.isdir(pattern):
            found = sorted(
                p for suffix in LOG_SUFFIXES for p in glob.glob(os.path.join(glob.escape(pattern), "*" + suffix))
            )
        else:
            found = [pattern] if os.path.exists(pattern) else sorted(glob.glob(pattern))
        if not found:
            raise SkewInputError(
                f"no log files match {pattern!r}\n  Fix: pass a JSONL (.jsonl, .jsonl.gz) or parquet file, a "
                "directory or a quoted glob, e.g. --log 'logs/*.jsonl.gz'"
            )
        return found
    return [path for item in source for path in log_paths(item)]


def read_blocks(path: str, stats: LogStats, size: int = BLOCK) -> Iterator[tuple[int, bytes]]:
    """``(number of the first line, block of whole lines)`` of one log file (gzip-compressed when
    its name ends in ``.gz``), about ``size`` bytes each (uncompressed); a line longer than
    :data:`MAX_LINE` is skipped unread and counted."""
    stats.files.append(path)
    try:
        fh = gzip.open(path, "rb") if path.endswith(".gz") else open(path, "rb")  # noqa: SIM115 - closed below
    except OSError as exc:
        raise SkewInputError(
            f"cannot read log {path!r}: {exc.strerror or exc}\n  Fix: check the path and its permissions"
        ) from None
    with fh:
        line, rest, skipping = 1, b"", False
        while True:
            try:
                data = fh.read(size)
            except (OSError, EOFError, zlib.error) as exc:  # a directory, an I/O error, a broken gzip stream
                raise SkewInputError(f"cannot read log {path!r}: {getattr(exc, 'strerror', None) or exc}") from None
            if not data:
                if rest.strip():
                    yield line, rest
                return
            if skipping:
                cut = data.find(b"\n")
                if cut < 0:
                    continue
                data, skipping, line = data[cut + 1 :], False, line + 1
            data = rest + data
            cut = data.rfind(b"\n")
            block, rest = (data[: cut + 1], data[cut + 1 :]) if cut >= 0 else (b"", data)
            if block:
                yield line, block
                line += block.count(b"\n")
            if len(rest) > MAX_LINE:
                stats.bad(f"{path}:{line}", f"line longer than {MAX_LINE:,} bytes")
                rest, skipping = b"", True


# ------------------------------------------------------------------------------ records


def _tag_problem(key: str, value: Any) -> str | None:
    name = key[1:] if key.startswith("$") else key
    if name == "float":
        return None if type(value) is str and value in _FLOATS else f'{{"{key}": ...}} must be "nan", "inf" or "-inf"'
    if name == "datetime":
        if type(value) is str:
            try:
                _dt.datetime.fromisoformat(value)
                return None
            except ValueError:
                pass
        return f'{{"{key}": ...}} must be an ISO-8601 datetime string'
    if name == "bytes" and type(value) is not str:
        return f'{{"{key}": ...}} must be a string'
    return None


def record_problem(rec: Any) -> str | None:
    """Why ``rec`` is not a log record, or None when it is one."""
    if type(rec) is not dict and not isinstance(rec, Mapping):  # dicts first: ABC checks are slow
        return "not a JSON object"
    inp, out = rec.get("input"), rec.get("output")
    if type(inp) is not dict and not isinstance(inp, Mapping):
        return "'input' is not an object"
    if out is not None and type(out) is not dict and not isinstance(out, Mapping):
        return "'output' is not an object"
    for key in ("fingerprint", "time"):
        if rec.get(key) is not None and type(rec[key]) is not str:
            return f"{key!r} is not a string"
    omitted = rec.get("omitted")
    if omitted is not None and (type(omitted) is not list or any(type(x) is not str for x in omitted)):
        return "'omitted' is not a list of strings"
    for role, values in (("input", inp), ("output", out or {})):
        for name, v in values.items():
            if type(v) is dict and len(v) == 1:
                problem = _tag_problem(*next(iter(v.items())))
                if problem:
                    return f"{role} field {name!r}: {problem}"
    return None


def parse_record(line: bytes | str) -> tuple[dict[str, Any] | None, str | None]:
    """``(record, None)`` for a valid log line, else ``(None, reason)``."""
    try:
        rec = json.loads(line)
    except RecursionError:
        return None, "JSON nested too deeply"
    except ValueError as exc:  # JSONDecodeError, invalid UTF-8, an int too long to parse
        return None, f"not JSON ({str(exc)[:100]})"
    problem = record_problem(rec)
    return (None, problem) if problem else (rec, None)


def parse_lines(block: bytes, stats: LogStats, path: str, first_line: int = 1) -> Iterator[dict[str, Any]]:
    """The records of a block of JSONL lines; blank lines are skipped, bad ones counted."""
    for i, line in enumerate(block.split(b"\n")):
        if not line.strip():
            continue
        rec, problem = parse_record(line)
        if problem is not None:
            stats.bad(f"{path}:{first_line + i}", problem)
            continue
        yield rec  # type: ignore[misc]


def is_parquet(path: str) -> bool:
    """Whether the log file ``path`` is read as parquet (by its name)."""
    return path.endswith(".parquet")


def parquet_records(path: str, stats: LogStats, size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    """The records of a parquet log, ``size`` rows at a time: columns ``input`` and ``output``
    (structs, one field per logged name), ``fingerprint`` (string), and optionally ``time`` (ISO
    string or timestamp) and ``omitted`` (list of strings). Timestamps become ISO text, as in the
    JSONL log; a row that is not a record is counted in ``stats`` like a bad JSONL line."""
    for row, batch in parquet_batches(path, stats, size):
        chunk = batch_records(batch, stats, path, row)
        if chunk:
            yield chunk


def parquet_batches(path: str, stats: LogStats, size: int = CHUNK) -> Iterator[tuple[int, Any]]:
    """``(number of the first row, record batch)`` of a parquet log, checked as in
    :func:`parquet_records` (whose records :func:`batch_records` makes of each batch)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    stats.files.append(path)
    try:
        pf = pq.ParquetFile(path, pre_buffer=False)  # pre-buffered ranges stay cached until the file is closed
    except (OSError, pa.ArrowException) as exc:
        raise SkewInputError(f"cannot read parquet log {path!r}: {exc}\n  Fix: check the path and the file") from None
    names = set(pf.schema_arrow.names)
    if "input" not in names:
        raise SkewInputError(
            f"parquet log {path!r} has no 'input' column (columns: {', '.join(sorted(names))})\n  Fix: write "
            "'input' and 'output' as struct columns, 'fingerprint' and 'time' as columns (see docs/skew.md)"
        )
    row = 1
    for batch in pf.iter_batches(batch_size=size):
        yield row, batch
        row += batch.num_rows


def parquet_record(rec: dict[str, Any]) -> dict[str, Any]:
    """A parquet row (``to_pylist``) as a log record: datetimes become ISO text."""
    rec = {k: _iso(v) for k, v in rec.items()}
    for role in ("input", "output"):
        if type(rec.get(role)) is dict:
            rec[role] = {k: _iso(v) for k, v in rec[role].items()}
    return rec


def batch_records(batch: Any, stats: LogStats, path: str, row: int) -> list[dict[str, Any]]:
    """The valid records of one parquet record batch (its first row is number ``row``)."""
    chunk = []
    for rec in batch.to_pylist():
        rec = parquet_record(rec)
        problem = record_problem(rec)
        if problem is not None:
            stats.bad(f"{path}:row {row}", problem)
        else:
            chunk.append(rec)
        row += 1
    return chunk


def _iso(v: Any) -> Any:
    return v.isoformat() if isinstance(v, (_dt.datetime, _dt.date)) else v


def _is_paths(source: Any) -> bool:
    return isinstance(source, (str, os.PathLike)) or (
        isinstance(source, (list, tuple)) and bool(source) and all(isinstance(x, (str, os.PathLike)) for x in source)
    )


def iter_records(source: Any, stats: LogStats, size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    """Lists of at most ``size`` valid records from log files (see :func:`log_paths`) or from an
    iterable of record dicts; everything else is counted in ``stats``."""
    chunk: list[dict[str, Any]] = []
    if _is_paths(source):
        for path in log_paths(source):
            if is_parquet(path):
                yield from parquet_records(path, stats, size)
                continue
            for first, block in read_blocks(path, stats):
                for rec in parse_lines(block, stats, path, first):
                    chunk.append(rec)
                    if len(chunk) >= size:
                        yield chunk
                        chunk = []
    else:
        for i, rec in enumerate(source):
            problem = record_problem(rec)
            if problem is not None:
                stats.bad(f"record {i}", problem)
                continue
            chunk.append(rec)
            if len(chunk) >= size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def no_records(stats: LogStats) -> SkewInputError:
    """The error for a log without a single valid record."""
    where = f" in {', '.join(stats.files[:3])}" + (" ..." if len(stats.files) > 3 else "") if stats.files else ""
    found = f"; {stats.summary()}" if stats.unparseable else ""
    return SkewInputError(
        f"no parseable log record{where}{found}\n  Fix: pass the JSONL written by "
        "featurekit.ServingLogger: one JSON object per line with 'input' and 'output' objects"
    )
