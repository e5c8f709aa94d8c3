"""Benchmark featurekit on the churn reference workload against hand-written code, sklearn and ONNX.

Usage::

    .venv/bin/python benchmarks/run.py [--sizes 10000,100000,1000000] [--quick] [--no-onnx]
                                        [--out benchmarks/results/latest.json]

For each size n: training data ``make_churn(n, seed=0)``, evaluation data
``make_churn(min(n, 100000), seed=1, evaluation=True)``.

* fit times are measured on the n training rows;
* batch transform times (and rows/s, peak memory) are measured on the n training rows
  (so the "1M" figures are over 1M rows);
* row-path latencies are measured on the evaluation rows (cycled), one call timed at a time
  with ``time.perf_counter_ns`` after 1,000 warm-up calls, with the GC disabled; featurekit
  and hand-written calls alternate on each row over 9 passes of 5,000 calls, and p50/p99 are
  the medians of the per-pass figures;
* the correctness check uses the first 10,000 evaluation rows.

Every timing is the median of >= 5 repetitions (3 at >= 1M rows). Memory is reported two
ways: the RSS high-water-mark delta (``/proc/self/status`` VmHWM after resetting it through
``/proc/self/clear_refs``; includes Arrow/native allocations) and the ``tracemalloc`` peak
(Python and numpy allocations only; measured in a separate run because tracing slows code).
Progress goes to stderr, the table to stdout, every figure to the JSON file.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import importlib
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import tracemalloc
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

import featurekit as fk  # noqa: E402
from featurekit.datasets import make_churn, to_rows  # noqa: E402

SPEC_PATH = ROOT / "specs" / "churn.yaml"
WARMUP_CALLS = 1_000
ROW_CALLS = 5_000
PARITY_GIVEN_ROWS = 5_000
PARITY_FUZZ_ROWS = 20_000
SKLEARN_ROW_CALLS = 300
SKLEARN_ROW_WARMUP = 20
ONNX_ROW_CALLS = 5_000
ROW_PASSES = 9
PARITY_FUZZ_ROWS = 20_000
BATCH32 = 32
N_BATCH32 = 300
# Columns where featurekit and the hand-written pandas code may differ by a few ULPs: the
# z-scores (the hand-written code's mean/std are pandas' sums, featurekit's are correctly
# rounded), and log1p, which the hand-written batch takes from numpy (its SIMD kernel differs
# from the C library's by 1 ULP on some inputs on AVX-512 CPUs, and equals it elsewhere),
# while featurekit's batch path calls math.log1p like its row path.
EXPECTED_ULP_COLUMNS = {"spend_z", "session_z", "spend_log1p", "tickets_log1p"}
MAX_ULPS = 4


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ----------------------------------------------------------------------------- timing helpers
def parity_throughput(fitted, given, boundaries: int | None = None) -> dict:
    """Rows per second of ``featurekit.parity.check``: the given rows plus edge and fuzz rows
    and, with boundary search on (``boundaries=None``: check's default budget), the rows at the
    batch path's boundaries, through the batch path and the row path, compared value by value.
    The time includes the search's own batch calls; its probe rows are not counted as rows."""
    from featurekit.parity import check
    from featurekit.parity.boundaries import BUDGET

    budget = BUDGET if boundaries is None else boundaries
    t0 = time.perf_counter()
    report = check(fitted, given, fuzz=PARITY_FUZZ_ROWS, seed=0, boundaries=budget)
    seconds = time.perf_counter() - t0
    return {
        "boundaries": budget,
        "rows": report.rows,
        "given_rows": report.given_rows,
        "generated_rows": report.generated_rows,
        "seconds": seconds,
        "rows_per_s": report.rows / seconds,
        "ok": report.ok,
    }


def time_median(fn, repeats: int) -> tuple[float, list[float]]:
    return time_alternating([fn], repeats)[0]


def time_alternating(fns, repeats: int) -> list[tuple[float, list[float]]]:
    """``(median seconds, all seconds)`` of each of ``fns``, run in turn ``repeats`` times.

    Runs alternate (A B C, C B A, ...) so that drifting machine load falls on every function
    alike and their ratios are comparable (the same idea as :func:`_timed` for rows).
    """
    times: list[list[float]] = [[] for _ in fns]
    order = list(enumerate(fns))
    for r in range(repeats):
        for k, fn in order[::-1] if r & 1 else order:
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return [(statistics.median(t), t) for t in times]


def _timed(fns, items, calls: int, warmup: int, passes: int = 1) -> list[dict]:
    """Time each of ``fns`` on the same item, alternately, call by call (ns), GC disabled.

    On a shared machine load drifts between two separate loops; alternating puts the
    functions under the same conditions, so their ratio is comparable. The order flips on
    every item (A B, B A, ...): the first function to touch an item pays its cache misses, and
    a fixed order would charge them all to one side. With ``passes > 1`` the timed calls run
    as that many passes over successive items; p50 and p99 are the medians of the per-pass
    figures, so one burst of machine interference moves one pass, not the reported tail.
    """
    n = len(items)
    for i in range(warmup):
        for fn in fns:
            fn(items[i % n])
    samples = [[[0] * calls for _ in range(passes)] for _ in fns]
    forward = list(enumerate(fns))
    backward = forward[::-1]
    pc = time.perf_counter_ns
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for p in range(passes):
            start = warmup + p * calls
            for i in range(calls):
                it = items[(start + i) % n]
                for k, fn in backward if i & 1 else forward:
                    t0 = pc()
                    fn(it)
                    samples[k][p][i] = pc() - t0
    finally:
        if gc_was:
            gc.enable()
    out = []
    for per_pass in samples:
        arr = np.asarray(per_pass, dtype=np.float64) / 1e3  # µs, one row per pass
        p50s, p99s = np.percentile(arr, 50, axis=1), np.percentile(arr, 99, axis=1)
        out.append(
            {
                "calls": calls * passes,
                "warmup": warmup,
                "passes": passes,
                "p50_us": float(np.median(p50s)),
                "p99_us": float(np.median(p99s)),
                "p99_us_per_pass": [round(float(v), 3) for v in p99s],
                "mean_us": float(arr.mean()),
                "interleaved": len(fns) > 1,
            }
        )
    return out


def latency(fn, items, calls: int, warmup: int) -> dict:
    """Time ``fn(item)`` one call at a time, cycling through items."""
    return _timed([fn], items, calls, warmup)[0]


def latency_pair(fn_a, fn_b, items, calls: int, warmup: int, passes: int = 1) -> tuple[dict, dict]:
    """Time ``fn_a`` and ``fn_b`` alternately on the same items (see :func:`_timed`)."""
    a, b = _timed([fn_a, fn_b], items, calls, warmup, passes)
    return a, b


def _proc_status_kb(key: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def peak_memory(fn) -> dict:
    """RSS HWM delta (MiB) and tracemalloc peak (MiB) of one call of fn (two separate calls)."""
    out: dict = {
        "rss_method": "VmHWM delta after /proc/self/clear_refs reset",
        "tracemalloc_method": "tracemalloc peak (Python + numpy allocations; not Arrow)",
    }
    gc.collect()
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        base = _proc_status_kb("VmRSS")
        res = fn()
        peak = _proc_status_kb("VmHWM")
        del res
        out["rss_delta_mib"] = (peak - base) / 1024.0
    except Exception as exc:  # pragma: no cover - non-Linux
        out["rss_delta_mib"] = None
        out["rss_error"] = repr(exc)
    gc.collect()
    tracemalloc.start()
    try:
        res = fn()
        _, peak = tracemalloc.get_traced_memory()
        del res
    finally:
        tracemalloc.stop()
    out["tracemalloc_peak_mib"] = peak / 2**20
    gc.collect()
    return out


def safe_ratio(a, b):
    try:
        if a is None or b is None or b == 0:
            return None
        return a / b
    except TypeError:
        return None


# ----------------------------------------------------------------------------- correctness
def _ulps(a: np.ndarray, b: np.ndarray) -> float:
    with np.errstate(invalid="ignore", divide="ignore"):
        sp = np.spacing(np.maximum(np.abs(a), np.abs(b)))
        u = np.abs(a - b) / sp
    u = u[np.isfinite(u)]
    return float(u.max()) if u.size else 0.0


def correctness(fitted, hw, c_hw, ev: pd.DataFrame) -> dict:
    ev = ev.iloc[:10_000]
    rows = to_rows(ev)
    cols = list(fitted.output_columns)
    batch = fitted.transform(ev)
    row_out = fitted.transform_rows(rows)
    # 1) batch == row, bit for bit (value and Python type class int/float)
    batch_vs_row = {}
    for col in cols:
        b = batch[col].to_numpy()
        r = [d[col] for d in row_out]
        if b.dtype.kind == "f":
            rv = np.array([np.nan if v is None else v for v in r], dtype=np.float64)
            same = (b.view(np.int64) == rv.view(np.int64)) | (np.isnan(b) & np.isnan(rv))
            type_ok = all(isinstance(v, float) for v in r if v is not None)
        else:
            rv = np.array(r, dtype=object)
            same = np.array([x == y for x, y in zip(b.tolist(), r)])
            type_ok = (
                all(isinstance(v, int) and not isinstance(v, bool) for v in r if v is not None)
                if b.dtype.kind in "iu"
                else True
            )
        batch_vs_row[col] = {"differing": int((~same).sum()), "row_types_ok": bool(type_ok)}
    batch_row_exact = all(v["differing"] == 0 and v["row_types_ok"] for v in batch_vs_row.values())
    # 2) featurekit (its own fit) vs hand-written (its own fit)
    hwb = hw.transform_batch_handwritten(ev, c_hw)
    hw_rows = [hw.transform_row_handwritten(r, c_hw) for r in rows]
    per_col = {}
    for col in cols:
        a = batch[col].to_numpy(dtype=np.float64)
        b = hwb[col].to_numpy(dtype=np.float64)
        diff = ~((a == b) | (np.isnan(a) & np.isnan(b)))
        with np.errstate(invalid="ignore"):
            mad = float(np.nanmax(np.abs(a - b))) if diff.any() else 0.0
        scale = float(np.nanmax(np.abs(b))) if b.size else 0.0
        per_col[col] = {
            "differing": int(diff.sum()),
            "max_abs_diff": mad,
            "max_ulps_elementwise": _ulps(a[diff], b[diff]) if diff.any() else 0.0,
            # |diff| in units of the spacing at the column's largest magnitude: a 1-ULP change
            # of a fitted mean shows up as ~1 here even where the output is close to 0
            "max_ulps_of_column_scale": mad / float(np.spacing(scale)) if scale else 0.0,
        }
    hw_row_vs_batch = 0
    for col in cols:
        bl = hwb[col].tolist()
        hw_row_vs_batch += sum(1 for d, y in zip(hw_rows, bl) if not (d[col] == y or (d[col] != d[col] and y != y)))
    differing_cols = sorted(c for c, v in per_col.items() if v["differing"])
    consts = _compare_state(fitted, c_hw)
    const_ulps = [v["mean_ulps"] for v in consts.get("pairs", {}).values()] + [
        v["std_ulps"] for v in consts.get("pairs", {}).values()
    ]
    consts_ok = len(consts.get("pairs", {})) == 2 and max(const_ulps) <= MAX_ULPS
    unexpected = [
        c
        for c in differing_cols
        if c not in EXPECTED_ULP_COLUMNS or per_col[c]["max_ulps_of_column_scale"] > 4 * MAX_ULPS
    ]
    fk_vs_hw_ok = not unexpected and list(hwb.columns) == cols and consts_ok
    return {
        "rows": len(ev),
        "batch_equals_row_bit_exact": batch_row_exact,
        "batch_vs_row": batch_vs_row,
        "fk_vs_handwritten": per_col,
        "fk_vs_handwritten_differing_columns": differing_cols,
        "fk_vs_handwritten_unexpected": unexpected,
        "fk_vs_handwritten_ok": fk_vs_hw_ok,
        "handwritten_row_vs_batch_differing_values": hw_row_vs_batch,
        "fitted_constants_compare": consts,
        "fitted_constants_ok": consts_ok,
        "passed": bool(batch_row_exact and fk_vs_hw_ok),
    }


def _compare_state(fitted, c_hw) -> dict:
    """featurekit's z-score mean/std vs the hand-written constants, in ULPs (the ~1 ULP story)."""
    out: dict = {"pairs": {}}
    try:
        fk_ms = [
            (k, float(st["mean"]), float(st["std"]))
            for k, st in fitted.state_.items()
            if isinstance(st, dict) and "mean" in st and "std" in st
        ]
        for name in ("spend_clip", "session"):
            hm, hs = float(c_hw[f"{name}_mean"]), float(c_hw[f"{name}_std"])
            key, fm, fs = min(fk_ms, key=lambda t: abs(t[1] - hm))
            out["pairs"][name] = {
                "featurekit_state_key": key[:12],
                "featurekit_mean": repr(fm),
                "handwritten_mean": repr(hm),
                "mean_ulps": abs(fm - hm) / float(np.spacing(abs(hm))) if hm else abs(fm),
                "featurekit_std": repr(fs),
                "handwritten_std": repr(hs),
                "std_ulps": abs(fs - hs) / float(np.spacing(abs(hs))) if hs else abs(fs),
            }
    except Exception as exc:  # pragma: no cover
        out["error"] = repr(exc)
    return out


# ----------------------------------------------------------------------------- onnx
def ensure_onnx() -> tuple[bool, str]:
    try:
        importlib.import_module("onnxruntime")
        importlib.import_module("skl2onnx")
        return True, "importable"
    except ImportError as exc:
        reason = f"not importable ({exc}); trying pip install onnxruntime skl2onnx"
        log(reason)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "onnxruntime", "skl2onnx"],
            capture_output=True,
            text=True,
            timeout=600,
        )
        if proc.returncode != 0:
            return False, f"pip install failed (rc={proc.returncode}): {proc.stderr.strip()[-500:]}"
        importlib.invalidate_caches()
        importlib.import_module("onnxruntime")
        importlib.import_module("skl2onnx")
        return True, "installed at run time"
    except Exception as exc:
        return False, f"install/import failed: {exc!r}"


def bench_onnx(train, ev_rows, repeats) -> dict:
    import onnxruntime as ort
    import sklearn_baseline as sb
    from skl2onnx import to_onnx
    from skl2onnx.common.data_types import FloatTensorType

    pipe = sb.build_onnx_pipeline()
    Xtr = sb.onnx_matrix(train)
    pipe.fit(Xtr)
    model = to_onnx(pipe, initial_types=[("X", FloatTensorType([None, Xtr.shape[1]]))], target_opset=17)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    sess = ort.InferenceSession(model.SerializeToString(), so, providers=["CPUExecutionProvider"])
    in_name = sess.get_inputs()[0].name
    cols = sb.ONNX_INPUT_COLUMNS

    def run_batch():
        return sess.run(None, {in_name: sb.onnx_matrix(train)})

    med, _ = time_median(run_batch, repeats)

    def one(row):
        x = np.array([[np.nan if row[c] is None else row[c] for c in cols]], dtype=np.float32)
        return sess.run(None, {in_name: x})

    lat = latency(one, ev_rows, ONNX_ROW_CALLS, WARMUP_CALLS)
    return {
        "status": "ok",
        "columns": sb.ONNX_OUTPUT_COLUMNS,
        "n_columns": len(sb.ONNX_OUTPUT_COLUMNS),
        "dtype": "float32",
        "batch_s": med,
        "batch_rows_per_s": len(train) / med,
        "row": lat,
        "note": "numeric subset only; row time includes dict -> float32 array; 1 intra-op thread",
    }


# ----------------------------------------------------------------------------- per size
def bench_size(n: int, args, hw, spec, onnx_ok: bool, onnx_reason: str) -> dict:
    import sklearn_baseline as sb

    repeats = 3 if n >= 1_000_000 else args.repeats
    res: dict = {"n": n, "repeats": repeats}
    log(f"size {n:,}: generating data")
    train = make_churn(n, seed=0)
    ev = make_churn(min(n, 100_000), seed=1, evaluation=True)
    ev_rows = to_rows(ev)
    res["eval_rows"] = len(ev)

    # ---- featurekit and hand-written, timed alternately (see time_alternating)
    log(f"size {n:,}: fit x{repeats} (featurekit, featurekit without baseline stats, hand-written)")
    fitted_box: dict = {}
    c_box: dict = {}

    def do_fit():
        fitted_box["f"] = spec.fit(train)

    def hw_fit():
        c_box["c"] = hw.fit_handwritten(train)

    (fit_s, fit_all), (fit_nb_s, _), (hfit_s, _) = time_alternating(
        [do_fit, lambda: spec.fit(train, baseline=False), hw_fit], repeats
    )
    fitted, c_hw = fitted_box["f"], c_box["c"]
    log(f"size {n:,}: batch transform x{repeats} (featurekit, hand-written)")
    fitted.transform(train.iloc[:1000])  # warm any lazy imports
    hw.transform_batch_handwritten(train.iloc[:1000], c_hw)
    (tr_s, tr_all), (htr_s, htr_all) = time_alternating(
        [lambda: fitted.transform(train), lambda: hw.transform_batch_handwritten(train, c_hw)], repeats
    )
    log(f"size {n:,}: batch memory (featurekit, hand-written)")
    mem = peak_memory(lambda: fitted.transform(train))
    hmem = peak_memory(lambda: hw.transform_batch_handwritten(train, c_hw))
    log(f"size {n:,}: row latency (featurekit and hand-written alternately)")
    row_fk, hrow = latency_pair(
        fitted.transform_row,
        lambda r: hw.transform_row_handwritten(r, c_hw),
        ev_rows,
        max(ROW_CALLS, 5_000),
        WARMUP_CALLS,
        ROW_PASSES,
    )
    batches = [ev_rows[i : i + BATCH32] for i in range(0, len(ev_rows) - BATCH32 + 1, BATCH32)]
    b32 = latency(fitted.transform_rows, batches, N_BATCH32, 30)
    b32["per_row_p50_us"] = b32["p50_us"] / BATCH32
    b32["per_row_mean_us"] = b32["mean_us"] / BATCH32
    load: dict
    try:
        fk_load = fk.load
        with tempfile.TemporaryDirectory() as td:
            path = fitted.save(os.path.join(td, "artifact"))
            load_s, _ = time_median(lambda: fk_load(path), args.repeats)
            load = {"status": "ok", "load_s": load_s}
    except Exception as exc:
        load = {"status": "n/a", "reason": f"{type(exc).__name__}: {exc}"}
    log(f"size {n:,}: parity fuzz (both paths)")
    parity = parity_throughput(fitted, ev.iloc[:PARITY_GIVEN_ROWS])
    res["featurekit"] = {
        "fit_s": fit_s,
        "fit_all_s": fit_all,
        "fit_no_baseline_s": fit_nb_s,
        "batch_s": tr_s,
        "batch_all_s": tr_all,
        "batch_rows_per_s": n / tr_s,
        "batch_memory": mem,
        "row": row_fk,
        "transform_rows_32": b32,
        "artifact_load": load,
        "parity": parity,
    }
    res["handwritten"] = {
        "fit_s": hfit_s,
        "batch_s": htr_s,
        "batch_all_s": htr_all,
        "batch_rows_per_s": n / htr_s,
        "batch_memory": hmem,
        "row": hrow,
    }

    # ---- scikit-learn
    if args.no_sklearn:
        res["sklearn"] = {"status": "skipped"}
    else:
        log(f"size {n:,}: sklearn fit/batch/row")
        try:
            p_box = {}

            def sk_fit():
                p_box["p"] = sb.build_pipeline().fit(train)

            sfit_s, _ = time_median(sk_fit, repeats)
            pipe = p_box["p"]
            str_s, _ = time_median(lambda: pipe.transform(train), repeats)
            dtypes = train.dtypes
            srow = latency(
                lambda r: pipe.transform(sb.one_row_frame(r, dtypes)),
                ev_rows,
                args.sklearn_row_calls,
                SKLEARN_ROW_WARMUP,
            )
            # agreement with featurekit on the evaluation rows (informational)
            sk_out = pipe.transform(ev.iloc[:10_000])
            fk_out = fitted.transform(ev.iloc[:10_000]).to_numpy(dtype=np.float64)
            agree = {
                c: int((~((sk_out[:, i] == fk_out[:, i]) | (np.isnan(sk_out[:, i]) & np.isnan(fk_out[:, i])))).sum())
                for i, c in enumerate(sb.OUTPUT_COLUMNS)
            }
            res["sklearn"] = {
                "status": "ok",
                "fit_s": sfit_s,
                "batch_s": str_s,
                "batch_rows_per_s": n / str_s,
                "row": srow,
                "row_method": "one-row DataFrame cast to training dtypes per call",
                "differing_vs_featurekit": agree,
            }
        except Exception as exc:
            log(f"sklearn failed: {exc!r}")
            res["sklearn"] = {"status": "error", "reason": traceback.format_exc()[-1500:]}

    # ---- onnx
    if args.no_onnx:
        res["onnx"] = {"status": "skipped", "reason": "--no-onnx"}
    elif not onnx_ok:
        res["onnx"] = {"status": "n/a", "reason": onnx_reason}
    else:
        log(f"size {n:,}: onnxruntime")
        try:
            res["onnx"] = bench_onnx(train, ev_rows, repeats)
        except Exception as exc:
            log(f"onnx failed: {exc!r}")
            res["onnx"] = {"status": "n/a", "reason": f"{type(exc).__name__}: {exc}"[:1500]}

    # ---- correctness
    log(f"size {n:,}: correctness")
    res["correctness"] = correctness(fitted, hw, c_hw, ev)

    # ---- ratios (all from this run)
    f, h = res["featurekit"], res["handwritten"]
    sk, ox = res["sklearn"], res["onnx"]
    res["ratios"] = {
        "fk_over_hw_row_p50": safe_ratio(f["row"]["p50_us"], h["row"]["p50_us"]),
        "fk_over_hw_row_p99": safe_ratio(f["row"]["p99_us"], h["row"]["p99_us"]),
        "fk_over_hw_batch_throughput": safe_ratio(f["batch_rows_per_s"], h["batch_rows_per_s"]),
        "fk_over_hw_fit_time": safe_ratio(f["fit_s"], h["fit_s"]),
        "fk_over_hw_fit_time_without_baseline_stats": safe_ratio(f["fit_no_baseline_s"], h["fit_s"]),
        "fk_over_hw_batch_memory_rss": safe_ratio(
            f["batch_memory"]["rss_delta_mib"], h["batch_memory"]["rss_delta_mib"]
        ),
        "fk_over_hw_batch_memory_tracemalloc": safe_ratio(
            f["batch_memory"]["tracemalloc_peak_mib"], h["batch_memory"]["tracemalloc_peak_mib"]
        ),
        "sklearn_over_fk_row_p50": safe_ratio(sk.get("row", {}).get("p50_us"), f["row"]["p50_us"]),
        "sklearn_over_fk_row_p99": safe_ratio(sk.get("row", {}).get("p99_us"), f["row"]["p99_us"]),
        "fk_over_sklearn_batch_throughput": safe_ratio(f["batch_rows_per_s"], sk.get("batch_rows_per_s")),
        "onnx_over_fk_row_p50": safe_ratio(ox.get("row", {}).get("p50_us"), f["row"]["p50_us"]),
        "onnx_over_fk_row_p99": safe_ratio(ox.get("row", {}).get("p99_us"), f["row"]["p99_us"]),
    }
    gc.collect()
    return res


# ----------------------------------------------------------------------------- output
def fmt(v, spec="{:.3g}", na="n/a"):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return na
    return spec.format(v)


def table(results: list[dict]) -> str:
    lines = []
    for r in results:
        f, h, sk, ox, ra, co = (
            r["featurekit"],
            r["handwritten"],
            r["sklearn"],
            r["onnx"],
            r["ratios"],
            r["correctness"],
        )
        n = r["n"]
        lines.append(
            f"\n=== n = {n:,} training rows (batch on {n:,} rows; rows from {r['eval_rows']:,} eval rows; "
            f"median of {r['repeats']}) ==="
        )
        hdr = f"{'':<26}{'featurekit':>14}{'hand-written':>14}{'sklearn':>14}{'onnx(5 cols)':>14}"
        lines.append(hdr)
        lines.append("-" * len(hdr))

        def row(label, a, b, c, d):
            lines.append(f"{label:<26}{a:>14}{b:>14}{c:>14}{d:>14}")

        g = lambda d, *ks: _get(d, *ks)  # noqa: E731
        row("fit (s)", fmt(f["fit_s"], "{:.4f}"), fmt(h["fit_s"], "{:.4f}"), fmt(g(sk, "fit_s"), "{:.4f}"), "-")
        row("fit without baseline stats (s)", fmt(f.get("fit_no_baseline_s"), "{:.4f}"), "-", "-", "-")
        row(
            "batch transform (s)",
            fmt(f["batch_s"], "{:.4f}"),
            fmt(h["batch_s"], "{:.4f}"),
            fmt(g(sk, "batch_s"), "{:.4f}"),
            fmt(g(ox, "batch_s"), "{:.4f}"),
        )
        row(
            "batch rows/s",
            fmt(f["batch_rows_per_s"], "{:,.0f}"),
            fmt(h["batch_rows_per_s"], "{:,.0f}"),
            fmt(g(sk, "batch_rows_per_s"), "{:,.0f}"),
            fmt(g(ox, "batch_rows_per_s"), "{:,.0f}"),
        )
        row(
            "batch peak RSS delta MiB",
            fmt(f["batch_memory"]["rss_delta_mib"], "{:.1f}"),
            fmt(h["batch_memory"]["rss_delta_mib"], "{:.1f}"),
            "-",
            "-",
        )
        row(
            "batch tracemalloc MiB",
            fmt(f["batch_memory"]["tracemalloc_peak_mib"], "{:.1f}"),
            fmt(h["batch_memory"]["tracemalloc_peak_mib"], "{:.1f}"),
            "-",
            "-",
        )
        row(
            "row p50 (µs)",
            fmt(f["row"]["p50_us"], "{:.2f}"),
            fmt(h["row"]["p50_us"], "{:.2f}"),
            fmt(g(sk, "row", "p50_us"), "{:.1f}"),
            fmt(g(ox, "row", "p50_us"), "{:.2f}"),
        )
        row(
            "row p99 (µs)",
            fmt(f["row"]["p99_us"], "{:.2f}"),
            fmt(h["row"]["p99_us"], "{:.2f}"),
            fmt(g(sk, "row", "p99_us"), "{:.1f}"),
            fmt(g(ox, "row", "p99_us"), "{:.2f}"),
        )
        row("transform_rows/32 µs/row", fmt(f["transform_rows_32"]["per_row_p50_us"], "{:.2f}"), "-", "-", "-")
        load = f["artifact_load"]
        row("artifact load (s)", fmt(load.get("load_s"), "{:.4f}"), "-", "-", "-")
        par = f["parity"]
        row("parity fuzz rows/s", fmt(par["rows_per_s"], "{:,.0f}") + ("" if par["ok"] else " MISMATCH"), "-", "-", "-")
        lines.append("ratios (same run):")
        for k, v in ra.items():
            lines.append(f"  {k:<40}{fmt(v, '{:.2f}')}")
        if load["status"] != "ok":
            lines.append(f"  artifact load n/a: {load.get('reason')}")
        if ox.get("status") != "ok":
            lines.append(f"  onnx n/a: {str(ox.get('reason'))[:300]}")
        if sk.get("status") == "ok":
            d = {k: v for k, v in sk["differing_vs_featurekit"].items() if v}
            lines.append(f"  sklearn columns differing from featurekit (of 10k eval rows): {d}")
        lines.append(
            f"correctness on {co['rows']:,} eval rows: batch == row bit-exact: "
            f"{co['batch_equals_row_bit_exact']}; featurekit vs hand-written (own fits) differing columns: "
            + (
                ", ".join(
                    f"{c} ({co['fk_vs_handwritten'][c]['differing']} values, max |d| "
                    f"{co['fk_vs_handwritten'][c]['max_abs_diff']:.3g}, "
                    f"{co['fk_vs_handwritten'][c]['max_ulps_of_column_scale']:.2g} ULP of column scale)"
                    for c in co["fk_vs_handwritten_differing_columns"]
                )
                or "none"
            )
            + f"; unexpected: {co['fk_vs_handwritten_unexpected'] or 'none'}; PASSED={co['passed']}"
        )
        for name, pr in co["fitted_constants_compare"].get("pairs", {}).items():
            lines.append(
                f"  fitted {name}: mean fk {pr['featurekit_mean']} vs hw {pr['handwritten_mean']} "
                f"({pr['mean_ulps']:.0f} ULP); std fk {pr['featurekit_std']} vs hw {pr['handwritten_std']} "
                f"({pr['std_ulps']:.0f} ULP)"
            )
    return "\n".join(lines)


def _get(d, *ks):
    for k in ks:
        if not isinstance(d, dict) or k not in d:
            return None
        d = d[k]
    return d


def machine_info() -> dict:
    import sklearn

    info = {
        "platform": platform.platform(),
        "machine": platform.machine(),
        "processor": platform.processor(),
        "cpu_count": os.cpu_count(),
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "sklearn": sklearn.__version__,
        "featurekit": fk.__version__,
    }
    try:
        import pyarrow

        info["pyarrow"] = pyarrow.__version__
    except ImportError:
        pass
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu_model"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return info


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default=None, help="comma-separated training sizes (default 10000,100000,1000000)")
    ap.add_argument("--quick", action="store_true", help="10000 rows only (unless --sizes is given)")
    ap.add_argument("--out", default=str(HERE / "results" / "latest.json"))
    ap.add_argument("--no-onnx", action="store_true", help="skip onnxruntime (no install attempt)")
    ap.add_argument("--no-sklearn", action="store_true", help="skip the scikit-learn baseline")
    ap.add_argument(
        "--sklearn-row-calls",
        type=int,
        default=SKLEARN_ROW_CALLS,
        help=f"timed one-row sklearn calls (default {SKLEARN_ROW_CALLS}; each takes ~0.1 s)",
    )
    ap.add_argument("--repeats", type=int, default=5, help="timing repetitions below 1M rows (default 5)")
    args = ap.parse_args(argv)
    if args.sizes:
        sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    elif args.quick:
        sizes = [10_000]
    else:
        sizes = [10_000, 100_000, 1_000_000]

    import churn_handwritten as hw

    t_start = time.perf_counter()
    load_start = list(os.getloadavg())
    if args.no_onnx:
        onnx_ok, onnx_reason = False, "--no-onnx"
    else:
        onnx_ok, onnx_reason = ensure_onnx()
        log(f"onnx: {onnx_ok} ({onnx_reason})")
    spec = fk.load_spec(str(SPEC_PATH))
    results = []
    for n in sizes:
        results.append(bench_size(n, args, hw, spec, onnx_ok, onnx_reason))
    doc = {
        "schema": 1,
        "created_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "argv": sys.argv[1:],
        "machine": machine_info(),
        "method": {
            "timings": "median of repeats (5, or 3 at >= 1M rows); batch on the n training rows",
            "row_latency": (
                f"perf_counter_ns per call, gc disabled, {WARMUP_CALLS} warm-up calls; featurekit "
                f"and hand-written alternate call by call over {ROW_PASSES} passes of {ROW_CALLS} "
                "calls each; p50/p99 are medians of the per-pass figures"
            ),
            "sklearn_row_latency": f"{args.sklearn_row_calls} calls after {SKLEARN_ROW_WARMUP} warm-up, one-row DataFrame",
            "memory": "RSS VmHWM delta (clear_refs reset) and tracemalloc peak, separate runs",
            "onnx": onnx_reason,
        },
        "results": results,
        "correctness_passed": all(r["correctness"]["passed"] for r in results),
        "total_seconds": time.perf_counter() - t_start,
        "loadavg_start": load_start,
        "loadavg_end": list(os.getloadavg()),
    }
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=2, default=str, allow_nan=True))
    m = doc["machine"]
    print(
        f"featurekit benchmark — {m['platform']}, {m['cpu_count']} CPUs, Python {m['python']}, numpy {m['numpy']}, "
        f"pandas {m['pandas']}, sklearn {m['sklearn']}; load average start {doc['loadavg_start'][0]:.1f}, "
        f"end {doc['loadavg_end'][0]:.1f}"
    )
    print(table(results))
    print(
        f"\ncorrectness passed (all sizes): {doc['correctness_passed']}; wrote {out}; "
        f"total {doc['total_seconds']:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
