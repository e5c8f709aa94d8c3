"""Serving logger: record what the row path served, for skew reports (:mod:`featurekit.skew`).

>>> logger = ServingLogger("logs/serving.jsonl", sample_rate=0.1)      # doctest: +SKIP
>>> features = fitted.transform_row(row, log=logger)                  # doctest: +SKIP
>>> logger.close()                                                    # doctest: +SKIP

The sink protocol: ``transform_row(row, log=sink)`` calls ``sink(row, out, fingerprint,
inputs)`` once per call, on the calling thread, after the features are computed: ``row`` is
the mapping passed in (not copied), ``out`` the dict about to be returned (do not change
it), ``fingerprint`` the artifact fingerprint (``str``) and ``inputs`` the tuple of the
spec's declared input names. Whatever the sink returns is ignored. If it raises, the features
are still returned; the first failure of each sink (by qualified name) is reported with a
:class:`LogSinkWarning`, every failure is counted in :func:`sink_failures`. A
:class:`ServingLogger` is such a sink and never raises.

One JSON line per served (sampled) record::

    {"time": "2026-01-05T10:00:00.123456+00:00", "fingerprint": "<artifact fingerprint>",
     "input": {...}, "output": {...}, "omitted": ["request_id"]}

``input`` holds the spec's declared inputs only, unless ``extra_fields`` names other request
fields to log (``"*"``: all of them). ``omitted`` (present only when not empty) names the
undeclared fields the request carried but that were not logged (up to 32 names), so the skew
report can still count unexpected fields without their values reaching the disk. Called by
hand without ``inputs``, the logger writes ``row`` as given.

Values are written with the tags of :mod:`featurekit.values.codec`: datetimes as
``{"$datetime": iso}``, non-finite floats as ``{"$float": "nan"}`` (``"inf"``, ``"-inf"``),
bytes as ``{"$bytes": base64}``. :func:`featurekit.values.codec.decode_row` reads them, and
the untagged ``{"float"}``/``{"datetime"}``/``{"bytes"}`` of logs written before.

Cost on the serving thread: the call takes a sampling decision, copies the input dict
(shallow) and appends a tuple to an in-memory buffer under a lock. Selecting fields, encoding
and writing happen on a background thread, flushed every ``flush_interval`` seconds, when
``flush_rows`` records are buffered, and on :meth:`flush` / :meth:`close`. If the buffer
holds ``max_buffer`` records (the sink cannot keep up), new records are dropped and counted.

Failure policy: the logger never raises into serving, and one record never costs another.
A record that cannot be encoded (an int too long to print, an object whose ``str`` raises, a
numpy array) is dropped alone and counted in :attr:`unencodable` (and :attr:`dropped`). A
sink error (``OSError``: disk full, permission denied; or any exception from a callable
sink) drops the records of that write, adds them to :attr:`dropped` and keeps the exception
in :attr:`last_error`. A file write is one ``os.write`` of whole lines under an advisory
lock; if it fails part-way (disk full, file size limit), the file is truncated back to the
end of the last complete record, so the log stays line-valid and ``logged`` counts exactly
the records on disk.

Rotation: before a write would make the file larger than ``max_bytes``, ``logs/serving.jsonl``
is renamed to ``logs/serving.1.jsonl`` (older ones shift to ``.2`` ... ``.{backups}``; the
oldest is deleted), so a glob like ``'logs/*.jsonl'`` reads all of them.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import os
import random
import threading
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any

from featurekit.values import codec

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: appends are not locked between processes
    fcntl = None  # type: ignore[assignment]

__all__ = ["LogSinkWarning", "ServingLogger", "encode_value", "encode_record", "sink_failures"]

_UTC = _dt.UTC
OMITTED_NAMES = 32
"""At most this many undeclared field names are listed in a record's ``omitted``."""


def encode_value(v: Any) -> Any:
    """The JSON-able form of one logged value: :func:`featurekit.values.codec.encode_scalar`,
    and ``str(v)`` for anything that is not a scalar (lists, arbitrary objects)."""
    try:
        return codec.encode_scalar(v)
    except TypeError:
        if hasattr(v, "item"):  # a numpy array: one element is that value, more make the record unencodable
            return encode_value(v.item())
        return str(v)


def _default(v: Any) -> Any:
    return encode_value(v)


def encode_record(
    t: float, fingerprint: str, row: Mapping[str, Any], out: Mapping[str, Any], omitted: Sequence[str] = ()
) -> dict[str, Any]:
    """The record dict of one served row (all values JSON-able)."""
    rec = {
        "time": _dt.datetime.fromtimestamp(t, _UTC).isoformat(),
        "fingerprint": fingerprint,
        "input": {str(k): encode_value(v) for k, v in row.items()},
        "output": {k: encode_value(v) for k, v in out.items()},
    }
    if omitted:
        rec["omitted"] = list(omitted)
    return rec


def encode_line(
    t: float, fingerprint: str, row: Mapping[str, Any], out: Mapping[str, Any], omitted: Sequence[str] = ()
) -> bytes:
    """One record as a UTF-8 JSON line; raises when a value cannot be encoded.

    >>> encode_line(0.0, "fp", {"x": float("nan")}, {"y": 1})
    b'{"time": "1970-01-01T00:00:00+00:00", "fingerprint": "fp", "input": {"x": {"$float": "nan"}}, "output": {"y": 1}}\\n'
    """
    rec: dict[str, Any] = {
        "time": _dt.datetime.fromtimestamp(t, _UTC).isoformat(),
        "fingerprint": fingerprint,
        "input": row,
        "output": out,
    }
    if omitted:
        rec["omitted"] = list(omitted)
    try:  # fast path: no non-finite floats anywhere
        text = json.dumps(rec, allow_nan=False, default=_default, ensure_ascii=False)
    except (ValueError, TypeError):
        rec = encode_record(t, fingerprint, row, out, omitted)
        text = json.dumps(rec, allow_nan=False, default=_default, ensure_ascii=False)
    try:
        return text.encode("utf-8") + b"\n"
    except UnicodeEncodeError:  # a lone surrogate: \u escapes keep the line valid JSON
        return json.dumps(rec, allow_nan=False, default=_default).encode("ascii") + b"\n"


# -- the sink protocol of transform_row(row, log=sink) ---------------------------------------


class LogSinkWarning(UserWarning):
    """A ``transform_row(row, log=sink)`` sink raised: that call's record was not logged."""


_failures_lock = threading.Lock()
_failures: dict[str, int] = {}


def _sink_name(sink: Any) -> str:
    module = getattr(sink, "__module__", None) or type(sink).__module__
    name = getattr(sink, "__qualname__", None) or type(sink).__qualname__
    return f"{module}.{name}"


def sink_failed(sink: Any, exc: BaseException) -> None:
    """Count a failed ``log=`` call; warn the first time this sink (by qualified name) fails.

    Called by the generated ``transform_row``; the warning points at the caller's line (under a
    warnings-as-errors filter it is raised from ``transform_row``, as the filter asks).
    """
    name = _sink_name(sink)
    with _failures_lock:
        first = name not in _failures
        _failures[name] = _failures.get(name, 0) + 1
    if first:
        try:
            what = f"{type(exc).__name__}: {str(exc)[:200]}"
        except Exception:  # noqa: BLE001 - an exception whose str() raises
            what = type(exc).__name__
        warnings.warn(
            f"transform_row: the log sink {name} raised {what}; this call's "
            "record was not logged (the features were still returned). Further failures of this sink are "
            "counted in featurekit.logger.sink_failures() without a warning.\n  Fix: a log sink is called as "
            "sink(row, out, fingerprint, inputs) after each transform_row call; pass a featurekit.ServingLogger "
            "or a function with that signature",
            LogSinkWarning,
            stacklevel=3,
        )


def sink_failures() -> dict[str, int]:
    """Failed ``transform_row(..., log=sink)`` calls so far, by the sink's qualified name.

    >>> isinstance(sink_failures(), dict)
    True
    """
    with _failures_lock:
        return dict(_failures)


# -- appending whole lines to a file -----------------------------------------------------------


@contextlib.contextmanager
def _locked(fd: int) -> Iterator[None]:
    """Hold an exclusive advisory lock on ``fd`` (processes sharing one log append in turn)."""
    if fcntl is None:  # pragma: no cover - Windows
        yield
        return
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def append_lines(fd: int, lines: Sequence[bytes]) -> tuple[int, OSError | None]:
    """Append ``lines`` (each ending in ``\\n``) to the file ``fd`` (opened with ``O_APPEND``):
    ``(lines written, None)``, or ``(whole lines kept, error)`` when a write fails part-way.

    After a failed write (disk full, file size limit) the file is truncated back to the end of
    the last whole line written, so no torn line stays behind. A file whose last line is torn
    already (a crashed writer) gets a newline first, so the new lines stay whole.
    """
    with _locked(fd):
        start = os.lseek(fd, 0, os.SEEK_END)
        prefix = b""
        if start:
            os.lseek(fd, start - 1, os.SEEK_SET)
            prefix = b"" if os.read(fd, 1) == b"\n" else b"\n"
        data = memoryview(prefix + b"".join(lines))
        done = 0
        try:
            while done < len(data):
                done += os.write(fd, data[done:])
        except OSError as exc:
            keep = len(prefix) if done >= len(prefix) else 0
            kept = 0
            for line in lines:
                if keep + len(line) > done:
                    break
                keep += len(line)
                kept += 1
            try:
                os.ftruncate(fd, start + keep)
            except OSError:  # the torn tail stays; the next append starts on a new line
                pass
            return kept, exc
    return len(lines), None


class ServingLogger:
    """Append-only JSONL log of served rows; pass it as ``transform_row(row, log=logger)``.

    ``path``: a file path, or any callable ``sink(record_dict)``. ``sample_rate``: share of
    calls that are logged (a seeded ``random.Random`` when ``seed`` is given). ``extra_fields``:
    undeclared request fields to log besides the spec's inputs (``"*"``: every field; the
    default logs none). ``max_bytes`` / ``backups``: size-based rotation (``max_bytes=0``
    disables it). ``background=False`` encodes and writes on the calling thread at each flush
    (no thread is started). ``clock`` returns the record time in epoch seconds (for
    simulations).

    Counters: ``seen`` (calls), ``logged`` (records written), ``dropped`` (records lost for
    any reason), ``unencodable`` (the part of ``dropped`` that could not be encoded);
    :meth:`stats` returns them.
    """

    def __init__(
        self,
        path: str | os.PathLike | Callable[[dict[str, Any]], Any],
        sample_rate: float = 1.0,
        *,
        extra_fields: Iterable[str] | str = (),
        max_bytes: int = 100 * 1024 * 1024,
        backups: int = 5,
        seed: int | None = None,
        flush_rows: int = 512,
        flush_interval: float = 1.0,
        max_buffer: int = 100_000,
        background: bool = True,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not 0.0 <= float(sample_rate) <= 1.0:
            raise ValueError(f"sample_rate must be within [0, 1]; got {sample_rate!r}")
        if isinstance(extra_fields, str) and extra_fields != "*":
            raise ValueError(
                f"extra_fields must be a list of field names or '*'; got {extra_fields!r}\n"
                f"  Fix: extra_fields=[{extra_fields!r}]"
            )
        self.sink: Callable[[dict[str, Any]], Any] | None = None
        self.path: str | None = None
        if callable(path):
            self.sink = path
        else:
            self.path = os.fspath(path)
        self.sample_rate = float(sample_rate)
        self.extra_fields: frozenset[str] | str = extra_fields if extra_fields == "*" else frozenset(extra_fields)
        self.max_bytes = int(max_bytes)
        self.backups = int(backups)
        self.flush_rows = int(flush_rows)
        self.flush_interval = float(flush_interval)
        self.max_buffer = int(max_buffer)
        self._rand = random.Random(seed).random
        self._clock = clock
        self._lock = threading.Lock()  # guards the buffer and the counters
        self._write_lock = threading.Lock()  # one writer at a time
        self._wake = threading.Event()
        self._buffer: list[tuple[float, str, dict, Any, Any]] = []
        self._allowed: dict[tuple, frozenset] = {}
        self._fd: int | None = None
        self.seen = 0  # calls
        self.logged = 0  # records written
        self.dropped = 0  # records lost (unencodable, sink errors, full buffer, logged after close)
        self.unencodable = 0  # records dropped because they could not be encoded
        self.last_error: BaseException | None = None
        self.closed = False
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(target=self._run, name="featurekit-serving-logger", daemon=True)
            self._thread.start()

    # -- the serving-thread side ------------------------------------------------------------

    def __call__(
        self, row: Mapping[str, Any], out: Mapping[str, Any], fingerprint: str, inputs: Sequence[str] | None = None
    ) -> None:
        try:
            self.seen += 1  # approximate under threads; only informative
            if self.sample_rate < 1.0 and self._rand() >= self.sample_rate:
                return
            item = (self._clock(), fingerprint, dict(row), dict(out), inputs)
            with self._lock:
                if self.closed or len(self._buffer) >= self.max_buffer:
                    self.dropped += 1
                    return
                self._buffer.append(item)
                full = len(self._buffer) >= self.flush_rows
            if full:
                if self._thread is not None:
                    self._wake.set()
                else:
                    self.flush()
        except Exception as exc:  # noqa: BLE001 - never raise into serving
            self._count(dropped=1, error=exc)

    log = __call__

    # -- writing -------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            self.flush()
            if self.closed:
                return

    def _count(
        self, *, logged: int = 0, dropped: int = 0, unencodable: int = 0, error: BaseException | None = None
    ) -> None:
        with self._lock:
            self.logged += logged
            self.dropped += dropped + unencodable
            self.unencodable += unencodable
            if error is not None:
                self.last_error = error

    def _select(self, row: dict, inputs: Sequence[str] | None) -> tuple[dict, list[str]]:
        """The fields of ``row`` to log, and the names of the undeclared ones left out."""
        if inputs is None or self.extra_fields == "*":
            return row, []
        key = tuple(inputs)
        allowed = self._allowed.get(key)
        if allowed is None:
            allowed = self._allowed[key] = frozenset(key) | self.extra_fields  # type: ignore[operator]
        if all(k in allowed for k in row):
            return row, []
        omitted = list(dict.fromkeys(str(k)[:200] for k in row if k not in allowed))
        return {k: v for k, v in row.items() if k in allowed}, omitted[:OMITTED_NAMES]

    def flush(self) -> None:
        """Encode and write the buffered records now (never raises)."""
        with self._write_lock:
            with self._lock:
                items, self._buffer = self._buffer, []
            if not items:
                return
            if self.sink is not None:
                self._flush_sink(items)
                return
            lines, bad, error = [], 0, None
            for t, fp, row, out, inputs in items:
                try:
                    logged, omitted = self._select(row, inputs)
                    lines.append(encode_line(t, fp, logged, out, omitted))
                except Exception as exc:  # noqa: BLE001 - this record alone is lost
                    bad, error = bad + 1, exc
            if bad:
                self._count(unencodable=bad, error=error)
            if not lines:
                return
            try:
                written, error = self._write(lines)
            except Exception as exc:  # noqa: BLE001 - cannot open or rotate: permission, missing folder...
                written, error = 0, exc
            self._count(logged=written, dropped=len(lines) - written, error=error)
            if error is not None:
                self._close_fd()

    def _flush_sink(self, items: list[tuple[float, str, dict, Any, Any]]) -> None:
        assert self.sink is not None
        for t, fp, row, out, inputs in items:
            try:
                logged, omitted = self._select(row, inputs)
                rec = encode_record(t, fp, logged, out, omitted)
            except Exception as exc:  # noqa: BLE001
                self._count(unencodable=1, error=exc)
                continue
            try:
                self.sink(rec)
            except Exception as exc:  # noqa: BLE001
                self._count(dropped=1, error=exc)
            else:
                self._count(logged=1)

    def _write(self, lines: list[bytes]) -> tuple[int, OSError | None]:
        assert self.path is not None
        if self._fd is None:
            folder = os.path.dirname(self.path)
            if folder:
                os.makedirs(folder, exist_ok=True)
            self._fd = self._open()
        size = sum(map(len, lines))
        end = os.fstat(self._fd).st_size
        if self.max_bytes and end and end + size > self.max_bytes:
            self._rotate()
        assert self._fd is not None
        return append_lines(self._fd, lines)

    def _open(self) -> int:
        assert self.path is not None
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
        return os.open(self.path, flags, 0o644)

    def rotated_name(self, i: int) -> str:
        assert self.path is not None
        stem, ext = os.path.splitext(self.path)
        return f"{stem}.{i}{ext or '.jsonl'}"

    def _rotate(self) -> None:
        assert self.path is not None  # rotation happens only when writing to a file
        self._close_fd()
        if self.backups > 0:
            oldest = self.rotated_name(self.backups)
            if os.path.exists(oldest):
                os.remove(oldest)
            for i in range(self.backups - 1, 0, -1):
                if os.path.exists(self.rotated_name(i)):
                    os.replace(self.rotated_name(i), self.rotated_name(i + 1))
            os.replace(self.path, self.rotated_name(1))
        else:
            os.remove(self.path)
        self._fd = self._open()

    def _close_fd(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            try:
                os.close(fd)
            except OSError:
                pass

    def close(self) -> None:
        """Flush, stop the background thread and close the file (idempotent)."""
        with self._lock:
            if self.closed:
                return
            self.closed = True
        self._wake.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=30)
        self.flush()
        with self._write_lock:
            self._close_fd()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "seen": self.seen,
                "logged": self.logged,
                "dropped": self.dropped,
                "unencodable": self.unencodable,
                "buffered": len(self._buffer),
                "last_error": None if self.last_error is None else repr(self.last_error),
            }

    def __enter__(self) -> ServingLogger:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        target = self.path if self.path is not None else repr(self.sink)
        return (
            f"ServingLogger({target!r}, sample_rate={self.sample_rate}, logged={self.logged}, dropped={self.dropped})"
        )
