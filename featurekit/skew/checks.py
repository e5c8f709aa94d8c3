"""The skew checks: logged serving records against the training baseline of a fitted transform.

Records are read in chunks and folded into mergeable per-column accumulators (counts, bin
counts on the baseline histogram edges, value counts), so memory stays bounded and a million
records take seconds. The transformation check recomputes a deterministic systematic sample
of records (``transform_sample``, default 20,000) through the batch path.
"""

from __future__ import annotations

import copy
import json
import math
import os
import re
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from featurekit.skew import stats
from featurekit.skew.records import (
    CHUNK,
    LogStats,
    SkewInputError,
    _is_paths,
    decode_row,
    decode_value,
    iter_records,
    log_paths,
    no_records,
    parse_lines,
    parse_record,
    read_blocks,
)
from featurekit.skew.report import Finding, SkewReport

DEFAULT_THRESHOLDS: dict[str, Any] = {
    "z": 4.0,  # normal score of the noise bounds (per metric, per column)
    "null_rate": 0.02,  # min |change| of the null rate
    "out_of_range": 0.01,  # min increase of the share outside the training [min, max]
    "unseen_rate": 0.01,  # min increase of the share of values outside a fitted vocabulary
    "psi": 0.2,  # min population stability index (numbers, training histogram bins)
    "js": 0.1,  # min Jensen-Shannon distance (base 2)
    "linf": 0.05,  # min L-infinity distance of category shares (and bool true rate)
    "missing_field": 0.01,  # share of records without a declared input field
    "unexpected_field": 0.01,  # share of records with an undeclared input field
    "type_change": 0.001,  # share of values of a type the contract does not take
    "fingerprint_mismatch": 0.0,  # share of records served by another artifact fingerprint
    "mismatch_rate": 0.0,  # share of recomputed records whose served output differs
    "transform_sample": 20_000,  # records recomputed through the batch path (0: all)
    "max_examples": 5,
    "columns": {},  # per-column overrides: {column: {metric: value}}
}

_VALUE_CAP = 200_000


class _Missing:
    __slots__ = ()

    def __repr__(self) -> str:
        return "<missing>"


MISSING = _Missing()


def load_thresholds(source: str | Mapping[str, Any] | None) -> dict[str, Any]:
    """Defaults overridden by a mapping or a YAML file (top level or under ``monitoring:``)."""
    out = copy.deepcopy(DEFAULT_THRESHOLDS)
    if source is None:
        return out
    if isinstance(source, (str, os.PathLike)):
        import yaml

        try:
            with open(source, encoding="utf-8") as fh:
                data = yaml.safe_load(fh) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise SkewInputError(
                f"thresholds {os.fspath(source)!r}: {exc}\n  Fix: pass a YAML mapping such as 'psi: 0.25'"
            ) from None
    else:
        data = dict(source)
    if isinstance(data, Mapping) and isinstance(data.get("monitoring"), Mapping):
        data = data["monitoring"]
    if not isinstance(data, Mapping):
        raise SkewInputError("thresholds: expected a mapping of metric -> value")
    for key, value in data.items():
        if key not in out:
            raise SkewInputError(f"thresholds: unknown key {key!r}\n  Fix: use one of {', '.join(sorted(out))}")
        if key == "columns":
            if not isinstance(value, Mapping):
                raise SkewInputError("thresholds: 'columns' must map column -> {metric: value}")
            out[key] = {str(c): dict(v) for c, v in value.items()}
        else:
            try:
                out[key] = float(value) if key not in ("transform_sample", "max_examples") else int(value)
            except (TypeError, ValueError):
                raise SkewInputError(f"thresholds: {key} must be a number; got {value!r}") from None
    return out


# ------------------------------------------------------------------------------ reading records


_MAXF = b"1.7976931348623157e308"


def _arrow_table(block: bytes) -> Any:
    """``block`` (whole JSONL lines) as an Arrow table, tags rewritten; None when that is not possible."""
    import pyarrow as pa
    import pyarrow.json as pj

    text = block.replace(b'{"float": "nan"}', b"null").replace(b'{"float": "inf"}', _MAXF)
    text = text.replace(b'{"float": "-inf"}', b"-" + _MAXF)
    text = re.sub(rb'\{"datetime": ("\d{4}-\d\d-\d\d[^"\\]*")\}', rb"\1", text)
    if b'{"float"' in text or b'{"bytes"' in text or b'{"datetime"' in text:
        return None
    try:
        table = pj.read_json(pa.BufferReader(text), read_options=pj.ReadOptions(block_size=4 << 20))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    # the record rules of featurekit.skew.records; a block breaking any of them is read line by line
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


def iter_blocks(source: Any, stats_: LogStats) -> Iterator[tuple[str, Any]]:
    """``("arrow", (table, lines, block))`` for JSONL blocks Arrow can read, else ``("records", [dict])``."""
    if not _is_paths(source):
        for chunk in iter_records(source, stats_):
            yield "records", chunk
        return
    for path in log_paths(source):
        for first, block in read_blocks(path, stats_):
            table = _arrow_table(block) if _arrow_safe(block) else None
            if table is not None:
                lines = [ln for ln in block.split(b"\n") if ln.strip()]
                if table.num_rows == len(lines):
                    yield "arrow", (table, lines, block, path, first)
                    continue
            chunk: list[dict[str, Any]] = []
            for rec in parse_lines(block, stats_, path, first):
                chunk.append(rec)
                if len(chunk) >= CHUNK:
                    yield "records", chunk
                    chunk = []
            if chunk:
                yield "records", chunk


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


def _arrow_fits(table: Any, accs: Mapping[tuple[str, str], _ColAcc]) -> bool:
    for role in ("input", "output"):
        st = table.schema.field(role).type
        for i in range(st.num_fields):
            f = st.field(i)
            acc = accs.get((role, f.name))
            if acc is None:
                continue
            tname = str(f.type).split("[")[0]
            if tname not in _ARROW_OK[acc.type]:
                return False
    return True


def _fold_arrow(
    table: Any, block: bytes, accs: Mapping[tuple[str, str], _ColAcc], spec_inputs: Any, out_cols: Any
) -> tuple[Any, Counter]:
    """Fold one Arrow block into the accumulators; returns (fingerprint counts, extra field counts)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    n = table.num_rows
    fps = Counter(
        {
            str(k): int(v)
            for k, v in zip(
                *(lambda vc: (vc.field("values").to_pylist(), vc.field("counts").to_pylist()))(
                    pc.value_counts(table.column("fingerprint"))
                )
            )
        }
    )
    extra: Counter = Counter()
    if "omitted" in table.column_names and pa.types.is_list(table.schema.field("omitted").type):
        vc = pc.value_counts(pc.list_flatten(table.column("omitted")))
        extra.update(dict(zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist())))
    for role in ("input", "output"):
        col = table.column(role).combine_chunks()
        st = col.type
        fields = {st.field(i).name: i for i in range(st.num_fields)}
        outer_null = col.is_null()
        for name, i in fields.items():
            if role == "input" and name not in spec_inputs:
                extra[name] += n - col.field(i).null_count
        names = spec_inputs if role == "input" else out_cols
        for name in names:
            acc = accs[(role, name)]
            acc.n += n
            if name not in fields:
                acc.nulls += n
                if role == "input":
                    acc.missing += n
                continue
            arr = pc.if_else(outer_null, pa.nulls(n, col.field(fields[name]).type), col.field(fields[name]))
            if role == "input":
                present_keys = block.count(b'"' + name.encode() + b'": ')
                if name in out_cols:
                    present_keys -= (
                        n - table.column("output").combine_chunks().field(name).null_count
                        if name
                        in {
                            table.schema.field("output").type.field(j).name
                            for j in range(table.schema.field("output").type.num_fields)
                        }
                        else 0
                    )
                acc.missing += max(n - present_keys, 0)
            acc.nulls += arr.null_count
            valid = arr.drop_null()
            if acc.kind == "num":
                acc.add_numbers(np.asarray(valid.cast(pa.float64()).to_numpy(zero_copy_only=False)))
            elif acc.kind == "bool":
                acc.present += len(valid)
                acc.trues += int(pc.sum(valid).as_py() or 0)
            elif acc.kind == "str":
                vc = pc.value_counts(valid)
                acc.add_counts(
                    Counter(dict(zip(vc.field("values").to_pylist(), vc.field("counts").to_pylist()))), len(valid)
                )
            else:
                if pa.types.is_timestamp(valid.type):
                    import pandas as pd

                    acc.add_times(pd.Series(valid.to_pandas()))
                else:
                    acc.add_times(valid.to_pylist())
    return fps, extra


# ------------------------------------------------------------------------------ spec lineage


def _lineage(fitted: Any) -> dict[str, Any]:
    """Per output column its upstream inputs; per input the ops (with state) that consume it."""
    from featurekit.ir.nodes import CallNode, InputNode, walk

    graph = fitted.spec.graph
    upstream: dict[str, list[str]] = {}
    consumers: dict[str, list[dict[str, Any]]] = {}
    for feature in graph.outputs:
        nodes = walk([graph.features[feature]])
        ins = sorted({n.name for n in nodes if isinstance(n, InputNode)})
        for col in fitted.output_names[feature]:
            upstream[col] = ins
        for node in nodes:
            if not isinstance(node, CallNode):
                continue
            sub = {n.name for n in walk(list(node.args)) if isinstance(n, InputNode)}
            for name in sub:
                consumers.setdefault(name, []).append(
                    {
                        "feature": feature,
                        "op": node.op,
                        "params": dict(node.params),
                        "state": fitted.state_.get(node.key),
                    }
                )
    return {"upstream": upstream, "consumers": consumers}


# ------------------------------------------------------------------------------ accumulators

_ACCEPT = {
    "float": (float, int),
    "int": (int,),
    "bool": (bool,),
    "str": (str,),
    "category": (str,),
    "timestamp": (str,),
}


def _kind(type_name: str) -> str:
    return {"int": "num", "float": "num", "bool": "bool", "str": "str", "category": "str", "timestamp": "ts"}[type_name]


def _as_float(v: int | float) -> float:
    try:
        return float(v)
    except OverflowError:
        return math.inf if v > 0 else -math.inf


class _ColAcc:
    def __init__(
        self, name: str, role: str, type_name: str, base: Mapping[str, Any] | None, vocabs: list[tuple[str, frozenset]]
    ) -> None:
        self.name, self.role, self.type, self.base = name, role, type_name, base or {}
        self.kind = _kind(type_name)
        self.n = self.missing = self.nulls = 0
        self.bad: Counter = Counter()
        self.bad_examples: list[Any] = []
        self.vocabs = vocabs
        self.unseen = [0 for _ in vocabs]
        self.unseen_values: Counter = Counter()
        hist = self.base.get("histogram") or {}
        self.edges = list(hist.get("edges") or [])
        self.bins = [0] * (len(self.edges) + 1) if self.edges else []
        self.out_of_range = 0
        self.present = 0
        self.values: Counter = Counter()
        self.capped = False
        self.trues = 0
        self.sum = 0.0
        self.min: Any = None
        self.max: Any = None

    def add(self, values: list[Any]) -> None:
        import numpy as np

        self.n += len(values)
        if any(type(v) is dict for v in values):  # tagged values; an untagged object stays a bad type
            if self.kind == "ts":  # keep the ISO text (checked when the record was read)
                values = [
                    v["datetime"] if type(v) is dict and len(v) == 1 and type(v.get("datetime")) is str else v
                    for v in values
                ]
            else:
                values = [decode_value(v) if type(v) is dict else v for v in values]
        types = Counter(map(type, values))
        miss = types.pop(_Missing, 0)
        nones = types.pop(type(None), 0)
        self.missing += miss
        self.nulls += miss + nones
        accept = _ACCEPT[self.type]
        for t, c in types.items():
            if t not in accept:
                self.bad[t.__name__] += c
                if len(self.bad_examples) < 5:
                    self.bad_examples += [v for v in values if type(v) is t][: 5 - len(self.bad_examples)]
        if self.kind == "num":
            nums = [v for v in values if type(v) in accept]
            try:
                arr = np.asarray(nums, dtype=np.float64)
            except OverflowError:  # an int beyond the float range counts as +-inf
                arr = np.asarray([_as_float(v) for v in nums], dtype=np.float64)
            self.add_numbers(arr)
        elif self.kind == "bool":
            self.present += types.get(bool, 0)
            self.trues += sum(1 for v in values if v is True)
        elif self.kind == "str":
            strs = [v for v in values if type(v) is str]
            self.add_counts(Counter(strs), len(strs))
        else:  # timestamps: ISO strings (tagged {"datetime": iso} or plain)
            self.add_times([v for v in values if type(v) is str])

    def add_numbers(self, arr: Any) -> None:
        import numpy as np

        with np.errstate(over="ignore", invalid="ignore"):  # huge values sum to inf
            nan = np.isnan(arr)
            k = int(nan.sum())
            if k:
                self.nulls += k
                arr = arr[~nan]
            self.present += arr.size
            if not arr.size:
                return
            fin = arr[np.isfinite(arr)]
            if fin.size:
                self.sum += float(fin.sum())
                lo, hi = float(fin.min()), float(fin.max())
                self.min = lo if self.min is None else min(self.min, lo)
                self.max = hi if self.max is None else max(self.max, hi)
            bmin, bmax = self.base.get("min"), self.base.get("max")
            if bmin is not None and bmax is not None:
                self.out_of_range += int(np.count_nonzero((arr < bmin) | (arr > bmax)))
            if self.edges:
                idx = np.searchsorted(np.asarray(self.edges, dtype=np.float64), arr, side="left")
                idx[arr == self.edges[0]] = 1
                counts = np.bincount(idx, minlength=len(self.edges) + 1)
                self.bins = [a + int(b) for a, b in zip(self.bins, counts)]

    def add_counts(self, counts: Mapping[str, int], present: int) -> None:
        self.present += present
        for i, (_, vocab) in enumerate(self.vocabs):
            unseen = {v: c for v, c in counts.items() if v not in vocab}
            self.unseen[i] += sum(unseen.values())
            if i == 0:
                self.unseen_values.update(unseen)
        self.values.update(counts)
        if len(self.values) > _VALUE_CAP:
            self.capped = True
            self.values = Counter(dict(self.values.most_common(_VALUE_CAP // 2)))
        if len(self.unseen_values) > 10_000:
            self.unseen_values = Counter(dict(self.unseen_values.most_common(1000)))

    def add_times(self, strs: Any) -> None:
        import pandas as pd

        self.present += len(strs)
        if not len(strs) or self.base.get("min") is None:
            return
        try:
            if isinstance(strs, pd.Series):
                ts = strs.dt.tz_localize("UTC") if strs.dt.tz is None else strs
            else:
                ts = pd.to_datetime(pd.Series(strs), utc=True, format="ISO8601", errors="coerce")
        except (ValueError, TypeError):
            return
        lo = pd.Timestamp(self.base["min"])
        hi = pd.Timestamp(self.base["max"])
        self.out_of_range += int(((ts < lo) | (ts > hi)).sum())
        bad = int(ts.isna().sum())
        if bad:
            self.bad["unparseable timestamp"] += bad
        if ts.notna().any():
            tmin, tmax = ts.min().isoformat(), ts.max().isoformat()
            self.min = tmin if self.min is None else min(self.min, tmin)
            self.max = tmax if self.max is None else max(self.max, tmax)


# ------------------------------------------------------------------------------ the report


def _thr(t: Mapping[str, Any], col: str, metric: str) -> float:
    return float(t.get("columns", {}).get(col, {}).get(metric, t[metric]))


def skew_report(
    fitted: Any, records: Any, thresholds: str | Mapping[str, Any] | None = None, *, label: str | None = None
) -> SkewReport:
    """Compare logged serving ``records`` (JSONL path/glob, list of paths or iterable of dicts)
    with ``fitted.baseline_`` and with the batch path. See docs/skew.md."""
    from featurekit.parity.compare import column_tolerances
    from featurekit.parity.runner import _compare_rows, _jsonable_row, _show, _tolerances, run_fitted_batch

    started = time.perf_counter()
    t = thresholds if isinstance(thresholds, dict) and "z" in thresholds else load_thresholds(thresholds)
    z = float(t["z"])
    baseline = getattr(fitted, "baseline_", None)
    if not baseline:
        raise SkewInputError(
            "the artifact has no training baseline (baseline.json)\n  Fix: refit with this "
            "featurekit version and save the artifact again"
        )
    lineage = _lineage(fitted)
    spec_inputs = {i.name: i for i in fitted.spec.inputs}
    out_types = {c: ty.rstrip("?") for c, ty in fitted.output_types.items()}
    vocabs: dict[str, list[tuple[str, frozenset]]] = {}
    vocab_info: dict[str, list[dict[str, Any]]] = {}
    for name, cons in lineage["consumers"].items():
        for c in cons:
            if c["op"] in ("vocab", "one_hot") and isinstance(c["state"], Mapping) and "vocab" in c["state"]:
                vocabs.setdefault(name, []).append((c["feature"], frozenset(c["state"]["vocab"])))
                vocab_info.setdefault(name, []).append(c)
    accs: dict[tuple[str, str], _ColAcc] = {}
    for name, inp in spec_inputs.items():
        accs[("input", name)] = _ColAcc(name, "input", inp.type, baseline["inputs"].get(name), vocabs.get(name, []))
    for col, ty in out_types.items():
        accs[("output", col)] = _ColAcc(col, "output", ty, baseline["outputs"].get(col), [])
    read = LogStats()
    n = 0
    other_fp: Counter = Counter()
    extra_fields: Counter = Counter()
    cap = int(t["transform_sample"])
    stride, sample = 1, []  # systematic sample of (record index, record) with matching fingerprint
    fp = fitted.fingerprint
    times: list[str] = []

    def _fold_records(chunk: list[dict[str, Any]]) -> None:
        nonlocal n, stride, sample
        base_n = n
        n += len(chunk)
        if chunk:
            times.extend([str(chunk[0].get("time")), str(chunk[-1].get("time"))])
        fps = Counter(r.get("fingerprint") for r in chunk)
        for f, c in fps.items():
            if f != fp:
                other_fp[str(f)] += c
        keysets = Counter(tuple(r["input"]) + tuple(r.get("omitted") or ()) for r in chunk)
        for keys, c in keysets.items():
            for k in keys:
                if k not in spec_inputs:
                    extra_fields[k] += c
        inputs = [r["input"] for r in chunk]
        for name in spec_inputs:
            accs[("input", name)].add([row.get(name, MISSING) for row in inputs])
        outputs = [r.get("output") or {} for r in chunk]
        for col in out_types:
            accs[("output", col)].add([o.get(col, MISSING) for o in outputs])
        for i, r in enumerate(chunk):
            if (base_n + i) % stride == 0 and r.get("fingerprint") == fp:
                sample.append(r)
                if cap and len(sample) > cap:
                    stride *= 2
                    sample = sample[::2]

    for what, payload in iter_blocks(records, read):
        if what == "arrow":
            table, lines, block, path, first = payload
            if _arrow_fits(table, accs):
                base_n = n
                n += len(lines)
                times += [str((parse_record(lines[k])[0] or {}).get("time")) for k in (0, -1)]
                fps, extra = _fold_arrow(table, block, accs, spec_inputs, out_types)
                for f, c in fps.items():
                    if f != fp:
                        other_fp[f] += c
                extra_fields.update(extra)
                i = (-base_n) % stride
                while i < len(lines):
                    try:  # Arrow read these lines, so they are JSON objects (tags decode leniently) ...
                        r = json.loads(lines[i])
                    except ValueError:  # ... except a number Python will not parse (> 4,300 digits)
                        r = {}
                    if r.get("fingerprint") == fp:
                        sample.append(r)
                        if cap and len(sample) > cap:
                            stride *= 2
                            sample = sample[::2]
                    i += 1
                    i += (-(base_n + i)) % stride
                continue
            recs = list(parse_lines(block, read, path, first))
            chunks = [recs[k : k + CHUNK] for k in range(0, len(recs), CHUNK)]
        else:
            chunks = [payload]
        for chunk in chunks:
            _fold_records(chunk)

    if n == 0:
        raise no_records(read)
    findings: list[Finding] = []
    columns: dict[str, dict[str, Any]] = {}

    def add(
        severity: str,
        kind: str,
        col: str,
        role: str,
        metric: str,
        value: float,
        threshold: float,
        message: str,
        remedy_kind: str,
        remedy: str,
    ) -> None:
        findings.append(
            Finding(
                severity=severity,
                kind=kind,
                column=col,
                role=role,
                metric=metric,
                value=value,
                threshold=threshold,
                message=message,
                remedy_kind=remedy_kind,
                remedy=remedy,
            )
        )

    # -- record level: fingerprints, corrupt lines, unexpected fields ----------------------------
    fp_share = sum(other_fp.values()) / n
    thr = float(t["fingerprint_mismatch"])
    if fp_share > thr:
        shown = ", ".join(f"{f[:12]} ({c:,})" for f, c in other_fp.most_common(3))
        add(
            "critical",
            "state",
            "<records>",
            "record",
            "fingerprint_mismatch",
            fp_share,
            thr,
            f"{fp_share:.1%} of records were served by another artifact: {shown}",
            "close",
            f"deploy this artifact ({fitted.pin[: len(fitted.spec.name) + len(fitted.spec.version) + 14]}) "
            "everywhere, or report on the logs of the artifact that served them",
        )
    if read.unparseable:
        share = read.unparseable / (n + read.unparseable)
        add(
            "warning",
            "schema",
            "<records>",
            "record",
            "unparseable_records",
            share,
            0.0,
            f"{read.unparseable:,} log line(s) are not valid records and were skipped, e.g. "
            + "; ".join(read.examples[:3]),
            "close",
            "fix the logging sink (truncated writes? a hand-written logger?) and keep using featurekit.ServingLogger",
        )
    for field, c in sorted(extra_fields.items()):
        share = c / n
        thr = _thr(t, field, "unexpected_field")
        if share > thr:
            add(
                "warning",
                "schema",
                field,
                "input",
                "unexpected_field",
                share,
                thr,
                f"input field {field!r} is not declared by the spec ({share:.1%} of records)",
                "restrict",
                f"declare {field} under inputs: (if a feature needs it) or stop sending it; "
                "undeclared fields are ignored by transform_row",
            )

    # -- per column -----------------------------------------------------------------------------
    failing_inputs: set[str] = set()
    for (role, name), acc in accs.items():
        b = acc.base
        info: dict[str, Any] = {"role": role, "type": acc.type, "records": acc.n, "metrics": {}}
        columns[f"{role}:{name}"] = info
        metrics = info["metrics"]
        cons = lineage["consumers"].get(name, []) if role == "input" else []
        feats = sorted({c["feature"] for c in cons})

        def metric(key: str, value: float, threshold: float, **extra: Any) -> bool:
            failed = value > threshold
            metrics[key] = {"value": value, "threshold": threshold, "failed": failed, **extra}  # noqa: B023 (called only in this iteration)
            return failed

        # schema: missing fields, types
        if role == "input" and acc.missing:
            share = acc.missing / acc.n
            thr = _thr(t, name, "missing_field")
            if metric("missing_field", share, thr):
                failing_inputs.add(name)
                nullable = spec_inputs[name].nullable
                add(
                    "warning",
                    "schema",
                    name,
                    role,
                    "missing_field",
                    share,
                    thr,
                    f"input {name} is missing from {share:.1%} of records",
                    "close" if not nullable else "restrict",
                    f"fix the caller to send {name}"
                    + (
                        " (the contract declares it nullable: false, so these rows are rejected)"
                        if not nullable
                        else f"; or declare nullable: false so transform_row rejects "
                        f"such rows (used by {', '.join(feats) or 'no feature'})"
                    ),
                )
        bad = sum(acc.bad.values())
        if bad:
            share = bad / acc.n
            thr = _thr(t, name, "type_change")
            if metric("type_change", share, thr, types=dict(acc.bad)):
                if role == "input":
                    failing_inputs.add(name)
                got = ", ".join(f"{k} ({c:,})" for k, c in acc.bad.most_common())
                add(
                    "critical" if role == "output" else "warning",
                    "schema",
                    name,
                    role,
                    "type_change",
                    share,
                    thr,
                    f"{role} {name}: {share:.2%} of values are {got}, not {acc.type} "
                    f"(e.g. {', '.join(repr(v)[:40] for v in acc.bad_examples[:3])})",
                    "restrict" if role == "input" else "close",
                    (
                        f"the contract declares {name}: {{type: {acc.type}}}; fix the caller's encoding (close) or "
                        "keep strict coercion so bad values are rejected (restrict)"
                    )
                    if role == "input"
                    else f"serving emits {name} with the wrong type: serve with this artifact's transform_row",
                )
        if not b:
            continue
        # data: null rate
        p_s = acc.nulls / acc.n
        p_t = b.get("null_rate") or 0.0
        n_t = int(b.get("count") or 0)
        bound = stats.rate_bound(p_t, p_s, acc.n, n_t, z)
        thr = _thr(t, name, "null_rate") + bound
        info["null_rate"] = {"training": p_t, "serving": p_s}
        if metric("null_rate", abs(p_s - p_t), thr, training=p_t, serving=p_s):
            if role == "input":
                failing_inputs.add(name)
            imputes = [c for c in cons if c["op"] in ("impute", "coalesce")]
            if imputes:
                fills = ", ".join(
                    f"{c['feature']} ({c['op']}"
                    + (f" fill={c['state'].get('fill')!r}" if isinstance(c["state"], Mapping) else "")
                    + ")"
                    for c in imputes[:3]
                )
                remedy = (
                    f"nulls are handled by {fills}; the imputed value now stands for {p_s:.1%} of rows: find "
                    f"why the upstream source stopped sending {name} (close) or refit"
                )
                rk = "close"
            else:
                remedy = (
                    f'add impute({name}, strategy="median") or coalesce(...) where {name} is used '
                    f"({', '.join(feats) or 'outputs'}) (robustify), or declare nullable: false (restrict)"
                )
                rk = "robustify"
            add(
                "warning",
                "data",
                name,
                role,
                "null_rate",
                abs(p_s - p_t),
                thr,
                f"{role} {name}: null rate {p_s:.1%} in serving vs {p_t:.1%} in training",
                rk,
                remedy,
            )
        nn_t = max(int(round(n_t * (1 - p_t))), 1)
        if acc.kind in ("num", "ts") and acc.present:
            share = acc.out_of_range / acc.present
            bound = stats.rate_bound(0.0, share, acc.present, nn_t, z)
            thr = _thr(t, name, "out_of_range") + bound
            if metric(
                "out_of_range",
                share,
                thr,
                training_min=b.get("min"),
                training_max=b.get("max"),
                serving_min=acc.min,
                serving_max=acc.max,
            ):
                if role == "input":
                    failing_inputs.add(name)
                clips = [c for c in cons if c["op"] in ("clip", "bucketize")]
                scaled = [c for c in cons if c["op"] in ("minmax", "zscore")]
                if clips:
                    rk, remedy = (
                        "close",
                        (
                            f"{', '.join(sorted({c['feature'] for c in clips}))} bound it with fitted "
                            "edges, so extreme values saturate; refit on recent data (close)"
                        ),
                    )
                else:
                    rk, remedy = (
                        "robustify",
                        (
                            f"add clip({name}, lower_pct=1, upper_pct=99) before "
                            f"{', '.join(sorted({c['feature'] for c in scaled}) or feats) or 'use'}"
                            f" (robustify) or min/max in the input contract (restrict)"
                        ),
                    )
                add(
                    "warning",
                    "data",
                    name,
                    role,
                    "out_of_range",
                    share,
                    thr,
                    f"{role} {name}: {share:.1%} of values outside the training range "
                    f"[{b.get('min')}, {b.get('max')}] (serving [{acc.min}, {acc.max}])",
                    rk,
                    remedy,
                )
        if acc.kind == "num" and acc.edges and acc.present:
            train = [0] + list(b["histogram"]["counts"]) + [0]
            serve = acc.bins
            n_tr = sum(train)
            k = sum(1 for a, s in zip(train, serve) if a or s)
            info["histogram"] = {"edges": acc.edges, "training": train, "serving": serve}
            if acc.present and acc.min is not None:
                mean = acc.sum / max(acc.present, 1)
                info["mean"] = {"training": b.get("mean"), "serving": mean}
            psi = stats.psi(train, serve)
            js = stats.js_distance(train, serve)
            thr_p = _thr(t, name, "psi") + stats.psi_bound(k, acc.present, n_tr, z)
            thr_j = _thr(t, name, "js") + stats.js_bound(k, acc.present, n_tr, z)
            f1 = metric("psi", psi, thr_p)
            f2 = metric("js", js, thr_j)
            if f1 or f2:
                if role == "input":
                    failing_inputs.add(name)
                stateful = sorted({c["feature"] for c in cons if c["state"]})
                if stateful:
                    rk, remedy = (
                        "close",
                        (
                            f"the distribution moved away from what {', '.join(stateful)} were fitted "
                            "on (fitted statistics: "
                            + ", ".join(sorted({c["op"] for c in cons if c["state"]}))
                            + "); refit on recent data and retrain the model (close)"
                        ),
                    )
                else:
                    rk, remedy = (
                        "monitor",
                        (
                            f"no fitted state depends on {name}; keep watching and retrain the model "
                            "if its quality drops"
                        ),
                    )
                add(
                    "warning",
                    "data",
                    name,
                    role,
                    "psi" if f1 else "js",
                    psi if f1 else js,
                    thr_p if f1 else thr_j,
                    f"{role} {name}: distribution shift, PSI {psi:.3f} (threshold {thr_p:.3f}), JS distance "
                    f"{js:.3f} (threshold {thr_j:.3f})",
                    rk,
                    remedy,
                )
        if acc.kind == "bool" and acc.present and b.get("true_rate") is not None:
            r_s, r_t = acc.trues / acc.present, b["true_rate"]
            thr = _thr(t, name, "linf") + stats.rate_bound(r_t, r_s, acc.present, nn_t, z)
            if metric("linf", abs(r_s - r_t), thr, training=r_t, serving=r_s):
                if role == "input":
                    failing_inputs.add(name)
                add(
                    "warning",
                    "data",
                    name,
                    role,
                    "linf",
                    abs(r_s - r_t),
                    thr,
                    f"{role} {name}: true rate {r_s:.1%} vs {r_t:.1%} in training",
                    "monitor",
                    "keep watching; retrain the model if the share of true values keeps moving",
                )
        if acc.kind == "str" and acc.present:
            top = b.get("top") or []
            sample_nn = max(int(round((baseline.get("sample", {}).get("rows") or n_t) * (1 - p_t))), 1)
            # ``top`` holds every value of the baseline's (sampled) rows unless it was cut at its
            # length limit; then a value outside it had a share of at most the last one kept
            complete = (b.get("distinct") or 0) <= len(top)
            bound = 0.0 if complete else top[-1][1] / sample_nn
            t_share = {v: c / sample_nn for v, c in top}
            rows = []
            worst, worst_v = 0.0, None
            for v, c in acc.values.most_common(50):
                s = c / acc.present
                tr = t_share.get(v)
                gap = abs(s - tr) if tr is not None else max(s - bound, 0.0)  # the least change it can be
                rows.append([v, tr if tr is not None or not complete else 0.0, s])
                if gap > worst:
                    worst, worst_v = gap, v
            for v, tr in t_share.items():
                s = acc.values.get(v, 0) / acc.present
                if abs(s - tr) > worst:
                    worst, worst_v = abs(s - tr), v
                if v not in acc.values:
                    rows.append([v, tr, 0.0])
            info["top"] = sorted(rows, key=lambda r: -max(r[1] or 0.0, r[2]))[:30]
            info["top_training"] = {
                "rows": sample_nn,
                "sampled": (baseline.get("sample", {}).get("stride") or 1) > 1,
                "complete": complete,
                "bound": None if complete else bound,
            }
            thr = _thr(t, name, "linf") + stats.linf_bound(acc.present, sample_nn, z)
            linf_failed = metric("linf", worst, thr, value_of=worst_v)
            unseen_failed = False
            for i, (feature, vocab) in enumerate(acc.vocabs):
                u_s = acc.unseen[i] / acc.present
                # values outside ``top`` count as unseen: exact when it is complete, else an upper bound
                u_t = max(0.0, 1.0 - sum(c for v, c in top if v in vocab) / sample_nn) if top else 0.0
                thr_u = _thr(t, name, "unseen_rate") + stats.rate_bound(u_t, u_s, acc.present, sample_nn, z)
                key = "unseen_rate" if i == 0 else f"unseen_rate[{feature}]"
                info["unseen"] = [[v, c] for v, c in acc.unseen_values.most_common(20)]
                if metric(key, u_s - u_t, thr_u, training=u_t, serving=u_s, feature=feature):
                    unseen_failed = True
                    failing_inputs.add(name)
                    c = vocab_info[name][i]
                    params = c["params"]
                    examples = ", ".join(repr(v)[:40] for v, _ in acc.unseen_values.most_common(5))
                    oov = params.get("num_oov_buckets")
                    if c["op"] == "one_hot":
                        rk, remedy = (
                            "close",
                            (
                                f"one_hot in {feature} encodes unseen values as all zeros: refit on recent "
                                f"data (close) or list the allowed values in the contract (restrict)"
                            ),
                        )
                    elif oov:
                        rk, remedy = (
                            "close",
                            (
                                f"vocabulary of {feature} ({len(vocab)} values, top_k="
                                f"{params.get('top_k')}) sends them all to its {oov} OOV bucket(s): "
                                f"refit on recent data (close) or raise top_k / num_oov_buckets "
                                "(robustify)"
                            ),
                        )
                    else:
                        rk, remedy = (
                            "robustify",
                            (f"vocabulary has no OOV bucket → add num_oov_buckets: 1 to {feature} or refit"),
                        )
                    add(
                        "warning",
                        "data",
                        name,
                        role,
                        "unseen_rate",
                        u_s - u_t,
                        thr_u,
                        f"feature {feature}: {u_s:.1%} unseen categories of {name} (training {u_t:.1%}; "
                        f"e.g. {examples})",
                        rk,
                        remedy,
                    )
            if linf_failed and not unseen_failed:
                failing_inputs.add(name) if role == "input" else None
                stateful = sorted({c["feature"] for c in cons if c["state"]})
                add(
                    "warning",
                    "data",
                    name,
                    role,
                    "linf",
                    worst,
                    thr,
                    f"{role} {name}: category shares moved, largest change {worst:.1%} for {worst_v!r}",
                    "close" if stateful else "monitor",
                    (
                        f"refit {', '.join(stateful)} on recent data (close)"
                        if stateful
                        else "no fitted state depends on it; keep watching (monitor)"
                    ),
                )

    # -- transformation: recompute through the batch path ---------------------------------------
    mismatched: set[str] = set()
    transformation: dict[str, Any] = {"sampled": len(sample), "stride": stride, "columns": {}}
    if sample:
        inputs = [decode_row(r["input"]) for r in sample]
        served = [decode_row(r.get("output") or {}) for r in sample]
        cols = fitted.output_columns
        tol = _tolerances(cols, column_tolerances(fitted), 0.0, 0.0, None)
        batch = run_fitted_batch(fitted, inputs)
        found = _compare_rows(inputs, batch, served, cols, tol)
        thr = float(t["mismatch_rate"])
        for col in cols:
            items = found.get(col, [])
            rate = len(items) / len(sample)
            kinds = Counter(k for _, k, _, _ in items)
            ex = [
                {
                    "input": _jsonable_row(inputs[i]),
                    "kind": k,
                    "batch": _show(bv),
                    "served": _show(sv),
                    "time": sample[i].get("time"),
                }
                for i, k, bv, sv in items[: int(t["max_examples"])]
            ]
            transformation["columns"][col] = {
                "mismatches": len(items),
                "rate": rate,
                "kinds": dict(kinds),
                "examples": _jsonable_examples(ex),
            }
            columns.setdefault(f"output:{col}", {"role": "output", "metrics": {}})
            columns[f"output:{col}"]["metrics"]["mismatch_rate"] = {
                "value": rate,
                "threshold": thr,
                "failed": rate > _thr(t, col, "mismatch_rate"),
            }
            if rate > _thr(t, col, "mismatch_rate"):
                mismatched.add(col)
                first = ex[0]
                add(
                    "critical",
                    "transformation",
                    col,
                    "output",
                    "mismatch_rate",
                    rate,
                    thr,
                    f"feature {col}: {rate:.1%} of {len(sample):,} recomputed records differ from the served value "
                    f"({', '.join(f'{k} {c}' for k, c in kinds.items())}; e.g. batch {first['batch']!r} vs served "
                    f"{first['served']!r})",
                    "close",
                    f"serving code for {col} no longer matches this spec (patched code or a stale artifact): serve "
                    f"with this artifact's transform_row (fp {fp[:12]}) and rerun featurekit parity",
                )

    # -- diagnosis: output findings explained by an input or transformation finding -------------
    for f in findings:
        if f.role != "output" or f.kind not in ("data", "schema"):
            continue
        causes = [i for i in lineage["upstream"].get(f.column, []) if i in failing_inputs]
        if f.column in mismatched:
            causes.append(f"transformation of {f.column}")
        if causes:
            f.severity = "info"
            f.derived_from = causes
            f.remedy_kind = "monitor"
            f.remedy = f"follows from {', '.join(causes)}; fix that first"
    times = [x for x in times if x and x != "None"]
    return SkewReport(
        label=label or f"{fitted.spec.name}@{fitted.spec.version}: serving log vs training baseline",
        fingerprint=fp,
        records=n,
        files=read.files,
        seconds=time.perf_counter() - started,
        thresholds=t,
        findings=findings,
        columns=columns,
        transformation=transformation,
        period=[min(times), max(times)] if times else None,
        lineage=lineage["upstream"],
        unparseable=read.unparseable,
    )


def _jsonable_examples(ex: list[dict[str, Any]]) -> list[dict[str, Any]]:
    def fix(v: Any) -> Any:
        if isinstance(v, float) and not math.isfinite(v):
            return {"float": repr(v)}
        if isinstance(v, dict):
            return {k: fix(x) for k, x in v.items()}
        if hasattr(v, "isoformat"):
            return {"datetime": v.isoformat()}
        return v

    return [fix(e) for e in ex]


def read_log(source: Any) -> Iterable[dict[str, Any]]:
    """All records of a log (paths/globs or iterable), for small logs and tests."""
    for chunk in iter_records(source, LogStats()):
        yield from chunk
