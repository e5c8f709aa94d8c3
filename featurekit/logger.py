"""Serving logger: record what the row path served, for skew reports (:mod:`featurekit.skew`).

>>> logger = ServingLogger("logs/serving.jsonl", sample_rate=0.1)      # doctest: +SKIP
>>> features = fitted.transform_row(row, log=logger)                  # doctest: +SKIP
>>> logger.close()                                                    # doctest: +SKIP

One JSON line per served (sampled) row::

    {"time": "2026-01-05T10:00:00.123456+00:00", "fingerprint": "<artifact fingerprint>",
     "input": {...}, "output": {...}}

Datetimes are written as ``{"datetime": iso}`` and non-finite floats as ``{"float": "nan"}``
(``"inf"``, ``"-inf"``): the tags :func:`featurekit.parity.runner._decode_row` reads.

Cost on the serving thread: the call takes a sampling decision, copies the input dict
(shallow) and appends a tuple to an in-memory buffer under a lock. Encoding and writing
happen on a background thread, flushed every ``flush_interval`` seconds, when
``flush_rows`` records are buffered, and on :meth:`flush` / :meth:`close`. If the buffer
holds ``max_buffer`` records (the sink cannot keep up), new records are dropped and counted.

Failure policy: the logger never raises into serving. A sink error (``OSError``: disk full,
permission denied, closed file; or any exception from a callable sink) drops the records of
that write, adds them to :attr:`dropped` and keeps the exception in :attr:`last_error`.

Rotation: before a write would make the file larger than ``max_bytes``, ``logs/serving.jsonl``
is renamed to ``logs/serving.1.jsonl`` (older ones shift to ``.2`` ... ``.{backups}``; the
oldest is deleted), so a glob like ``'logs/*.jsonl'`` reads all of them.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import os
import random
import threading
import time
from typing import Any, Callable, Mapping

__all__ = ["ServingLogger", "encode_value", "encode_record"]

_UTC = _dt.timezone.utc


def encode_value(v: Any) -> Any:
    """The JSON-able form of one logged value (datetimes and non-finite floats tagged)."""
    if type(v) is float and not math.isfinite(v):
        return {"float": "nan" if v != v else ("inf" if v > 0 else "-inf")}
    if isinstance(v, _dt.datetime):
        return {"datetime": v.isoformat()}
    if isinstance(v, _dt.date):
        return {"datetime": _dt.datetime(v.year, v.month, v.day).isoformat()}
    if isinstance(v, bytes):
        return {"bytes": v.decode("latin-1")}
    if v is None or isinstance(v, (str, int, float, bool)):
        return v
    if hasattr(v, "item"):  # numpy scalars
        return encode_value(v.item())
    return str(v)


def _default(v: Any) -> Any:
    if isinstance(v, (_dt.datetime, _dt.date, bytes)) or hasattr(v, "item"):
        return encode_value(v)
    return str(v)


def encode_record(t: float, fingerprint: str, row: Mapping[str, Any], out: Mapping[str, Any]) -> dict[str, Any]:
    """The record dict of one served row (all values JSON-able)."""
    return {"time": _dt.datetime.fromtimestamp(t, _UTC).isoformat(), "fingerprint": fingerprint,
            "input": {str(k): encode_value(v) for k, v in row.items()},
            "output": {k: encode_value(v) for k, v in out.items()}}


def _dumps(t: float, fingerprint: str, row: Mapping[str, Any], out: Mapping[str, Any]) -> str:
    rec = {"time": _dt.datetime.fromtimestamp(t, _UTC).isoformat(), "fingerprint": fingerprint,
           "input": row, "output": out}
    try:  # fast path: no non-finite floats anywhere
        return json.dumps(rec, allow_nan=False, default=_default, ensure_ascii=False)
    except (ValueError, TypeError):
        return json.dumps(encode_record(t, fingerprint, row, out), allow_nan=False, ensure_ascii=False)


class ServingLogger:
    """Append-only JSONL log of served rows; pass it as ``transform_row(row, log=logger)``.

    ``path``: a file path, or any callable ``sink(record_dict)``. ``sample_rate``: share of
    calls that are logged (a seeded ``random.Random`` when ``seed`` is given). ``max_bytes``
    / ``backups``: size-based rotation (``max_bytes=0`` disables it). ``background=False``
    encodes and writes on the calling thread at each flush (no thread is started). ``clock``
    returns the record time in epoch seconds (for simulations).
    """

    def __init__(self, path: str | os.PathLike | Callable[[dict[str, Any]], Any], sample_rate: float = 1.0, *,
                 max_bytes: int = 100 * 1024 * 1024, backups: int = 5, seed: int | None = None,
                 flush_rows: int = 512, flush_interval: float = 1.0, max_buffer: int = 100_000,
                 background: bool = True, clock: Callable[[], float] = time.time) -> None:
        if not 0.0 <= float(sample_rate) <= 1.0:
            raise ValueError(f"sample_rate must be within [0, 1]; got {sample_rate!r}")
        self.sink: Callable[[dict[str, Any]], Any] | None = path if callable(path) else None
        self.path = None if self.sink is not None else os.fspath(path)  # type: ignore[arg-type]
        self.sample_rate = float(sample_rate)
        self.max_bytes = int(max_bytes)
        self.backups = int(backups)
        self.flush_rows = int(flush_rows)
        self.flush_interval = float(flush_interval)
        self.max_buffer = int(max_buffer)
        self._rand = random.Random(seed).random
        self._clock = clock
        self._lock = threading.Lock()          # guards the buffer and the counters
        self._write_lock = threading.Lock()    # one writer at a time
        self._wake = threading.Event()
        self._buffer: list[tuple[float, str, dict, Any]] = []
        self._fh: Any = None
        self.seen = 0        # calls
        self.logged = 0      # records written
        self.dropped = 0     # records lost (sink errors, full buffer, logged after close)
        self.last_error: BaseException | None = None
        self.closed = False
        self._thread: threading.Thread | None = None
        if background:
            self._thread = threading.Thread(target=self._run, name="featurekit-serving-logger", daemon=True)
            self._thread.start()

    # -- the serving-thread side ------------------------------------------------------------

    def __call__(self, row: Mapping[str, Any], out: Mapping[str, Any], fingerprint: str) -> None:
        try:
            self.seen += 1  # approximate under threads; only informative
            if self.sample_rate < 1.0 and self._rand() >= self.sample_rate:
                return
            item = (self._clock(), fingerprint, dict(row), dict(out))
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
            self.dropped += 1
            self.last_error = exc

    log = __call__

    # -- writing -------------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._wake.wait(self.flush_interval)
            self._wake.clear()
            self.flush()
            if self.closed:
                return

    def flush(self) -> None:
        """Encode and write the buffered records now (never raises)."""
        with self._write_lock:
            with self._lock:
                items, self._buffer = self._buffer, []
            if not items:
                return
            try:
                if self.sink is not None:
                    for t, fp, row, out in items:
                        try:
                            self.sink(encode_record(t, fp, row, out))
                            self.logged += 1
                        except Exception as exc:  # noqa: BLE001
                            self.dropped += 1
                            self.last_error = exc
                    return
                data = "".join(_dumps(t, fp, row, out) + "\n" for t, fp, row, out in items).encode("utf-8")
                self._write(data)
                self.logged += len(items)
            except Exception as exc:  # noqa: BLE001 - disk full, permission, closed file...
                self.dropped += len(items)
                self.last_error = exc
                self._close_fh()

    def _write(self, data: bytes) -> None:
        assert self.path is not None
        if self._fh is None:
            folder = os.path.dirname(self.path)
            if folder:
                os.makedirs(folder, exist_ok=True)
            self._fh = open(self.path, "ab")  # noqa: SIM115 - kept open between flushes
        if self.max_bytes and self._fh.tell() and self._fh.tell() + len(data) > self.max_bytes:
            self._rotate()
        self._fh.write(data)
        self._fh.flush()

    def rotated_name(self, i: int) -> str:
        assert self.path is not None
        stem, ext = os.path.splitext(self.path)
        return f"{stem}.{i}{ext or '.jsonl'}"

    def _rotate(self) -> None:
        self._close_fh()
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
        self._fh = open(self.path, "ab")  # noqa: SIM115

    def _close_fh(self) -> None:
        fh, self._fh = self._fh, None
        if fh is not None:
            try:
                fh.close()
            except Exception:  # noqa: BLE001
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
            self._close_fh()

    def stats(self) -> dict[str, Any]:
        return {"seen": self.seen, "logged": self.logged, "dropped": self.dropped,
                "buffered": len(self._buffer),
                "last_error": None if self.last_error is None else repr(self.last_error)}

    def __enter__(self) -> "ServingLogger":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        target = self.path if self.path is not None else repr(self.sink)
        return (f"ServingLogger({target!r}, sample_rate={self.sample_rate}, logged={self.logged}, "
                f"dropped={self.dropped})")
