"""The Spark engine: run featurekit's passes and the batch transform on a PySpark DataFrame.

Spark partitions reach Python as pandas batches (``mapInPandas``), so every chunk runs the same
pandas code as the other engines:

* :meth:`SparkEngine.aggregate` runs one :class:`~featurekit.engines.protocol.Aggregation` in a
  single Spark job: each partition folds its batches (joined into chunks of
  :data:`CHUNK_ROWS` rows) into ONE state (merged in groups of :data:`FAN_IN` as they stream by), pickled into a binary column; the driver collects the small
  states in partition order and merges them in a tree of fan-in :data:`FAN_IN`. Every built-in
  aggregation merges exactly, so the result is identical for any partitioning and any tree.
  A job with an ``accumulate_at(chunk, start)`` method (the baseline pass: it needs each row's
  global position) gets it, after a first (JVM-only) Spark job counts the rows of each
  partition. A Spark plan need not give the same partitions twice (``repartitionByRange``
  samples its range bounds anew in every job): the accumulating job reports the rows it saw per
  partition, and when they do not match the count, both jobs run again on the data persisted
  on disk.
* :meth:`SparkEngine.map_frames` is lazy: ``mapInPandas(fn)`` with an explicit Spark schema
  derived from ``meta``'s dtypes (:func:`spark_schema`), returning a Spark DataFrame.

Timestamps cross the Python boundary as UTC microseconds (``unix_micros``) and are rebuilt as
``datetime64[us, UTC]`` in each batch, so the session time zone never shifts a value (PySpark
would otherwise hand over naive wall-clock times of ``spark.sql.session.timeZone``).
``TimestampNTZType`` columns arrive as naive ``datetime64`` unchanged.

A :class:`~featurekit.errors.FeaturekitError` raised on a worker (a contract violation, a
missing column, a spec whose fingerprint differs on the worker) is re-raised on the driver with
its own type, message and fields (:func:`worker_errors`), not as a Py4J/``PythonException``
traceback. ``aggregate`` does this itself; the frame ``map_frames`` returns is lazy, so wrap the
action that runs it (``with worker_errors(): out.write.parquet(...)``).

This module imports PySpark only inside the functions that run Spark work; the rest of featurekit never does (``accepts`` checks
``sys.modules``), so installing ``featurekit[spark]`` costs nothing until a Spark DataFrame is
passed in.

>>> spark_type_name("Int64"), spark_type_name("datetime64[us, UTC]"), spark_type_name("str")
('long', 'timestamp', 'string')
"""

from __future__ import annotations

import base64
import contextlib
import pickle
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import cloudpickle
import pandas as pd

from featurekit.errors import FeaturekitError

if TYPE_CHECKING:
    from featurekit.engines.protocol import Aggregation

FAN_IN = 8
"""States merged at once: per partition as chunks stream by, and in the driver's merge tree."""

CHUNK_ROWS = 100_000
"""Rows an aggregation's ``accumulate`` gets at once (Arrow batches joined up to this size)."""

_MARKER = "featurekit-worker-error:"
_ENCODED = re.compile(re.escape(_MARKER) + r"([A-Za-z0-9+/=]+)")
_STATE_SCHEMA = "partition int, rows long, state binary"

__all__ = ["CHUNK_ROWS", "FAN_IN", "SparkEngine", "kept_columns", "spark_schema", "spark_type_name", "worker_errors"]


# -- types -----------------------------------------------------------------------------------


def spark_type_name(dtype: Any) -> str:
    """The Spark SQL type name of a pandas output dtype (the featurekit output types only).

    float64 -> double, int64 / Int64 -> long, bool / boolean -> boolean, str / object strings
    -> string, datetime64[*, UTC] -> timestamp. Anything else is refused, so a schema never
    silently widens or truncates a column.
    """
    dtype = pd.api.types.pandas_dtype(dtype)
    if isinstance(dtype, pd.DatetimeTZDtype):
        if str(dtype.tz) != "UTC":
            raise TypeError(f"spark engine: timestamps must be UTC, got {dtype}")
        return "timestamp"
    if pd.api.types.is_bool_dtype(dtype):
        return "boolean"
    if pd.api.types.is_float_dtype(dtype) and dtype.itemsize == 8:
        return "double"
    if pd.api.types.is_integer_dtype(dtype) and dtype.itemsize == 8 and pd.api.types.is_signed_integer_dtype(dtype):
        return "long"
    if pd.api.types.is_string_dtype(dtype):
        return "string"
    raise TypeError(f"spark engine: no Spark type for output dtype {dtype}")


def spark_schema(meta: pd.DataFrame) -> Any:
    """The Spark schema of frames shaped like ``meta`` (all columns nullable)."""
    from pyspark.sql import types as T  # PySpark only when Spark work runs

    parsed = {"double": T.DoubleType(), "long": T.LongType(), "boolean": T.BooleanType(), "string": T.StringType()}
    parsed["timestamp"] = T.TimestampType()
    return T.StructType(
        [T.StructField(str(name), parsed[spark_type_name(dtype)], True) for name, dtype in meta.dtypes.items()]
    )


_KEPT_DTYPES = {
    "bigint": "Int64",
    "int": "Int64",
    "smallint": "Int64",
    "tinyint": "Int64",
    "double": "float64",
    "float": "float64",
    "string": "str",
    "boolean": "boolean",
    "timestamp": "datetime64[us, UTC]",
}
"""Spark column type -> the pandas dtype a copied column (``--keep``) is declared with."""


def kept_columns(sdf: Any, names: Sequence[str]) -> pd.DataFrame:
    """Zero rows of the columns ``names`` of ``sdf``, typed so that copying them through a
    transform (``FrameTransform(keep=names)``) keeps their Spark types (timestamps as UTC).

    Raises :class:`FeaturekitError` naming a missing column or one of a type it cannot copy."""
    types = {f.name: f.dataType.simpleString() for f in sdf.schema.fields}
    out = {}
    for name in names:
        if name not in types:
            raise FeaturekitError(
                f"--keep {name!r}: no such column in the data (columns: {', '.join(types)})\n"
                "  Fix: name an input column of the data"
            )
        if types[name] not in _KEPT_DTYPES:
            raise FeaturekitError(
                f"--keep {name!r}: a {types[name]} column cannot be copied through the transform\n"
                f"  Fix: keep columns of type {', '.join(sorted(_KEPT_DTYPES))}, or cast it first"
            )
        out[name] = pd.Series([], dtype=_KEPT_DTYPES[types[name]])
    return pd.DataFrame(out)


def _quoted(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def _timestamps_as_micros(sdf: Any) -> tuple[Any, list[str]]:
    """``sdf`` with its ``TimestampType`` columns as UTC microseconds, and their names."""
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    names = [f.name for f in sdf.schema.fields if isinstance(f.dataType, T.TimestampType)]
    if not names:
        return sdf, []
    cols = [F.unix_micros(F.col(_quoted(c))).alias(c) if c in names else F.col(_quoted(c)) for c in sdf.columns]
    return sdf.select(*cols), names


def _restore_timestamps(batch: pd.DataFrame, names: Sequence[str]) -> pd.DataFrame:
    """Microsecond columns back to ``datetime64[us, UTC]`` (nulls as NaT)."""
    for name in names:
        micros = batch[name]
        if micros.dtype != "int64":  # nulls: Int64 or float64 depending on the batch
            micros = micros.astype("Int64")
        batch[name] = pd.to_datetime(micros, unit="us", utc=True).astype("datetime64[us, UTC]")
    return batch


# -- errors ----------------------------------------------------------------------------------


def _encode(exc: FeaturekitError) -> str:
    return _MARKER + base64.b64encode(pickle.dumps(exc)).decode("ascii")


class _WorkerError(RuntimeError):
    """Carries a pickled :class:`FeaturekitError` from a worker through Spark's error text."""


@contextlib.contextmanager
def worker_errors() -> Iterator[None]:
    """Re-raise featurekit errors raised on Spark workers in the block with their own type.

    Spark reports a Python worker's exception as a ``PythonException`` whose text holds the
    worker's traceback; featurekit's worker code encodes its errors in that text, and this
    decodes them. Other exceptions pass through unchanged.
    """
    try:
        yield
    except Exception as exc:
        found = _ENCODED.search(str(exc))
        if found is None:
            raise
        try:
            original = pickle.loads(base64.b64decode(found.group(1)))
        except Exception:
            raise exc from None
        raise original from None


def _reraising(call: Callable[[], Iterator[pd.DataFrame]]) -> Iterator[pd.DataFrame]:
    """Run a worker generator, turning a featurekit error into an encoded :class:`_WorkerError`."""
    try:
        yield from call()
    except FeaturekitError as exc:
        raise _WorkerError(_encode(exc)) from None


# -- worker functions (picklable; shipped to every task) ---------------------------------------


def _partition_id() -> int:
    from pyspark import TaskContext

    context = TaskContext.get()
    return context.partitionId() if context is not None else 0


def _merge_tree(job: Aggregation, states: list[Any], fan_in: int) -> Any:
    """One state from ``states`` by merging groups of ``fan_in`` until one is left."""
    while len(states) > 1:
        states = [
            job.merge(states[i : i + fan_in]) if i + 1 < len(states) else states[i]
            for i in range(0, len(states), fan_in)
        ]
    return states[0]


def _chunks(batches: Iterator[pd.DataFrame], rows: int) -> Iterator[pd.DataFrame]:
    """Consecutive non-empty batches joined into chunks of at least ``rows`` rows (the last may
    be smaller): fewer, larger chunks cost the analyzers less than Arrow's 10,000-row batches."""
    held: list[pd.DataFrame] = []
    size = 0
    for batch in batches:
        if len(batch):
            held.append(batch)
            size += len(batch)
        if size >= rows:
            yield held[0] if len(held) == 1 else pd.concat(held, ignore_index=True)
            held, size = [], 0
    if held:
        yield held[0] if len(held) == 1 else pd.concat(held, ignore_index=True)


class _Accumulate:
    """The ``mapInPandas`` function of one pass: a partition's batches -> one pickled state."""

    def __init__(
        self, job: Aggregation, timestamps: list[str], offsets: dict[int, int] | None, fan_in: int, chunk_rows: int
    ) -> None:
        self.job, self.timestamps, self.offsets, self.fan_in = job, timestamps, offsets, fan_in
        self.chunk_rows = chunk_rows

    def __call__(self, batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        return _reraising(lambda: self._run(batches))

    def _run(self, batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        partition = _partition_id()
        start = None if self.offsets is None else self.offsets.get(partition, 0)
        pending: list[Any] = []
        rows = 0
        for batch in _chunks(batches, self.chunk_rows):
            batch = _restore_timestamps(batch, self.timestamps)
            if start is None:
                pending.append(self.job.accumulate(batch))
            else:
                pending.append(self.job.accumulate_at(batch, start + rows))  # type: ignore[attr-defined]  # optional
            rows += len(batch)
            if len(pending) == self.fan_in:
                pending = [self.job.merge(pending)]
        state = cloudpickle.dumps(_merge_tree(self.job, pending, self.fan_in)) if pending else None
        yield pd.DataFrame({"partition": [partition], "rows": [rows], "state": [state]})


class _MapFrames:
    """The ``mapInPandas`` function of a transform: ``fn`` on each batch, columns as in ``meta``."""

    def __init__(self, fn: Callable[[pd.DataFrame], pd.DataFrame], timestamps: list[str], columns: list[str]) -> None:
        self.fn, self.timestamps, self.columns = fn, timestamps, columns

    def __call__(self, batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        return _reraising(lambda: self._run(batches))

    def _run(self, batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            out = self.fn(_restore_timestamps(batch, self.timestamps))
            yield out[self.columns]


# -- the engine ------------------------------------------------------------------------------


class SparkEngine:
    """The engine for PySpark DataFrames (see the module docstring).

    ``fan_in``: states merged at once; ``chunk_rows``: rows per ``accumulate`` call (at least).
    """

    name = "spark"
    kinds = "a PySpark DataFrame"

    def __init__(self, fan_in: int = FAN_IN, chunk_rows: int = CHUNK_ROWS) -> None:
        if fan_in < 2:
            raise ValueError("fan_in must be >= 2")
        if chunk_rows < 1:
            raise ValueError("chunk_rows must be >= 1")
        self.fan_in, self.chunk_rows = fan_in, chunk_rows

    @staticmethod
    def accepts(data: Any) -> bool:
        """Whether ``data`` is a PySpark DataFrame (never imports PySpark to find out)."""
        sql = sys.modules.get("pyspark.sql")
        return sql is not None and isinstance(data, sql.DataFrame)

    def aggregate(self, data: Any, job: Aggregation, *, progress: Callable[[str], None] | None = None) -> Any:
        """Run ``job`` over every partition of ``data`` and merge the states on the driver."""
        sdf, timestamps = _timestamps_as_micros(data)
        if not callable(getattr(job, "accumulate_at", None)):
            rows = self._run(sdf, _Accumulate(job, timestamps, None, self.fan_in, self.chunk_rows))
        else:
            rows = self._run_at(sdf, job, timestamps)
        states = [pickle.loads(r["state"]) for r in sorted(rows, key=lambda r: r["partition"]) if r["state"]]
        if progress:
            progress(f"spark: merging the states of {len(states)} partition(s)")
        return _merge_tree(job, states, self.fan_in) if states else job.empty()

    def _run(self, sdf: Any, accumulate: _Accumulate) -> list[Any]:
        with worker_errors():
            return sdf.mapInPandas(accumulate, _STATE_SCHEMA).collect()

    def _run_at(self, sdf: Any, job: Aggregation, timestamps: list[str]) -> list[Any]:
        """Run a job that takes each chunk's global row position: count the rows of each partition
        (a JVM-only Spark job), then accumulate, and check that the accumulating job saw the
        partitions counted. A plan need not give the same partitions twice (repartitionByRange
        samples its bounds anew in every job): then run both again on the data persisted on disk."""
        offsets = self._offsets(sdf)
        rows = self._run(sdf, _Accumulate(job, timestamps, offsets, self.fan_in, self.chunk_rows))
        if self._offsets_match(offsets, rows):
            return rows
        cached = sdf.is_cached  # the caller's cache: use it, and leave it in place
        from pyspark import StorageLevel

        pinned = sdf if cached else sdf.persist(StorageLevel.DISK_ONLY)
        try:
            offsets = self._offsets(pinned)
            rows = self._run(pinned, _Accumulate(job, timestamps, offsets, self.fan_in, self.chunk_rows))
        finally:
            if not cached:
                pinned.unpersist()
        if not self._offsets_match(offsets, rows):
            raise RuntimeError("spark engine: the partitions changed between two jobs over data persisted on disk")
        return rows

    @staticmethod
    def _offsets(sdf: Any) -> dict[int, int]:
        """The global position of each partition's first row."""
        from pyspark.sql import functions as F

        counts = sdf.select(F.spark_partition_id().alias("p")).groupBy("p").count().collect()
        offsets, start = {}, 0
        for partition, rows in sorted((r["p"], r["count"]) for r in counts):
            offsets[partition] = start
            start += rows
        return offsets

    @staticmethod
    def _offsets_match(offsets: dict[int, int], rows: list[Any]) -> bool:
        """Whether the partitions of an accumulating job start where ``offsets`` says."""
        seen, start = {}, 0
        for r in sorted(rows, key=lambda r: r["partition"]):
            if r["rows"]:
                seen[r["partition"]] = start
            start += r["rows"]
        return all(offsets.get(p) == at for p, at in seen.items())

    def map_frames(self, data: Any, fn: Callable[[pd.DataFrame], pd.DataFrame], meta: pd.DataFrame) -> Any:
        """``fn`` over every batch of ``data``, lazily, as a Spark DataFrame with ``meta``'s schema."""
        schema = spark_schema(meta)
        sdf, timestamps = _timestamps_as_micros(data)
        return sdf.mapInPandas(_MapFrames(fn, timestamps, [str(c) for c in meta.columns]), schema)
