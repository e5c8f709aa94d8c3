"""Skew report at scale, and the serving logger's overhead per call.

    .venv/bin/python benchmarks/skew_scale.py [--rows 1000000] [--skip-logger] [--formats jsonl,gz,parquet]

1. Logger overhead: median (and mean) time of ``transform_row(row)`` on the churn spec without
   a logger, with ``log=None``, and with a ServingLogger at sample_rate 1.0 and 0.1 (timeit,
   many repeats of 200 calls each; the logger writes to a temporary file on a background thread).
   With ``--old-row-source PATH`` it also times the row function compiled by another version of
   featurekit/compile/row.py (e.g. ``git show HEAD:featurekit/compile/row.py > /tmp/row_old.py``).
2. Skew report: writes ``--rows`` logged records (20,000 distinct served rows repeated) as a
   JSONL file, a gzip-compressed JSONL file and a parquet file (input/output structs), and times
   ``skew_report`` on each in a fresh process (``--formats`` picks them; ``--by day`` adds time
   windows), printing the seconds and that process's peak RSS (``VmHWM``, Linux), so memory can be
   compared with the log size.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
import tempfile
import time
import timeit

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import featurekit as fk  # noqa: E402
from featurekit.datasets import make_churn, to_rows  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def per_call(stmt: str, env: dict, rows: list, repeat: int = 300) -> tuple[float, float]:
    """Median and mean seconds per call of ``stmt`` (``r`` is the row), over ``repeat`` runs of all rows."""
    timer = timeit.Timer(f"for r in rows: {stmt}", globals={**env, "rows": rows})
    times = [t / len(rows) for t in timer.repeat(number=1, repeat=repeat)]
    return statistics.median(times) * 1e6, statistics.fmean(times) * 1e6


def logger_overhead(fitted, old_row: str | None) -> None:
    rows = to_rows(make_churn(200, seed=3))
    env = {"tf": fitted.transform_row}
    cases = [("no log argument", "tf(r)"), ("log=None", "tf(r, log=None)")]
    if old_row:
        spec = importlib.util.spec_from_file_location("row_old", old_row)
        mod = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(mod)
        env["old"], _ = mod.compile_row(fitted.spec.graph, fitted.state_, fitted.spec, fitted.output_names, "old")
        cases.insert(0, ("previous row.py (no log parameter)", "old(r)"))
    results = {}
    with tempfile.TemporaryDirectory() as d:
        loggers = {}
        for rate in (1.0, 0.1):
            loggers[rate] = fk.ServingLogger(os.path.join(d, f"s{rate}.jsonl"), sample_rate=rate, seed=0, max_bytes=0)
            env[f"L{int(rate * 10)}"] = loggers[rate]
            cases.append((f"ServingLogger sample_rate={rate}", f"tf(r, log=L{int(rate * 10)})"))
        for _ in range(2):  # interleave the cases twice; keep the better median (less disturbed)
            for name, stmt in cases:
                m = per_call(stmt, env, rows)
                if name not in results or m[0] < results[name][0]:
                    results[name] = m
        for rate, log in loggers.items():
            log.close()
            print(f"  (sample_rate={rate}: logged {log.logged:,}, dropped {log.dropped})")
    base = results["no log argument"][0]
    print("transform_row per call (churn spec, 30 columns)   median µs   mean µs   vs no log argument (median)")
    for k, v in results.items():
        print(f"  {k:44s} {v[0]:8.2f}  {v[1]:8.2f}   {v[0] - base:+6.2f}")


def write_log(fitted, path: str, n: int) -> None:
    from featurekit.logger import encode_line  # the logger's own line encoder

    rows = to_rows(make_churn(20_000, seed=7))
    t = time.time()
    lines = [encode_line(t, fitted.fingerprint, r, fitted.transform_row(r)) for r in rows]
    block = b"".join(lines)
    with open(path, "wb") as fh:
        for _ in range(n // len(lines)):
            fh.write(block)
        rest = n % len(lines)
        if rest:
            fh.write(b"".join(lines[:rest]))


def write_gz(src: str, path: str) -> None:
    import gzip
    import shutil

    with open(src, "rb") as fh, gzip.open(path, "wb", compresslevel=1) as out:
        shutil.copyfileobj(fh, out, 16 << 20)


def write_parquet(src: str, path: str, n: int) -> None:
    """The parquet layout of docs/skew.md, written in row groups of 100,000 records.

    The log repeats 20,000 records, so one row group of its first 100,000 records is converted
    once and written as many times as it fits (the file is the one converting every line gives)."""
    import json

    import pyarrow as pa
    import pyarrow.parquet as pq

    from featurekit.values.codec import decode_row

    group = 100_000
    with open(src, encoding="utf-8") as fh:
        rows = []
        for line in (line for _, line in zip(range(min(group, n)), fh)):
            r = json.loads(line)
            rows.append(
                {
                    "time": r["time"],
                    "fingerprint": r["fingerprint"],
                    "input": decode_row(r["input"]),
                    "output": decode_row(r["output"]),
                }
            )
    table = pa.Table.from_pylist(rows)
    with pq.ParquetWriter(path, table.schema) as writer:
        for _ in range(n // group):
            writer.write_table(table)
        if n % group:
            writer.write_table(table.slice(0, n % group))


def peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM; ru_maxrss would carry the parent's over fork+exec)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    raise OSError("no VmHWM in /proc/self/status (Linux only)")


def report_child(path: str, artifact: str, by: str | None) -> None:
    """Run in a fresh process: load ``artifact``, time skew_report on ``path``, print seconds and peak RSS."""
    fitted = fk.load(artifact)
    from featurekit.skew import skew_report

    before = peak_rss_mb()
    t0 = time.perf_counter()
    report = skew_report(fitted, path, by=by)
    secs = time.perf_counter() - t0
    peak = peak_rss_mb()
    print(
        f"  {os.path.basename(path):18s} {os.path.getsize(path) / 1e6:8.0f} MB  {report.records:>11,} records  "
        f"{secs:7.1f}s  peak RSS {peak:6.0f} MB (after loading {before:.0f} MB)  "
        f"{report.transformation['sampled']:,} recomputed; ok={report.ok}, findings={len(report.findings)}"
        + (f", {len(report.windows)} windows" if by else ""),
        flush=True,
    )


def main() -> None:
    import subprocess

    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--skip-logger", action="store_true")
    ap.add_argument("--old-row-source")
    ap.add_argument("--formats", default="jsonl,gz,parquet", help="comma-separated: jsonl, gz, parquet")
    ap.add_argument("--by", choices=("day", "hour"), help="also measure per time window")
    ap.add_argument("--dir", help="where to write the logs (default: a temporary directory)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        report_child(*args.child, args.by)
        return
    fitted = fk.load_spec(os.path.join(ROOT, "specs", "churn.yaml")).fit(make_churn(100_000, seed=0))
    if not args.skip_logger:
        logger_overhead(fitted, args.old_row_source)
    formats = args.formats.split(",")
    with tempfile.TemporaryDirectory(dir=args.dir) as d:
        path = os.path.join(d, "serving.jsonl")
        t0 = time.perf_counter()
        write_log(fitted, path, args.rows)
        print(f"wrote {args.rows:,} records ({os.path.getsize(path) / 1e6:.0f} MB) in {time.perf_counter() - t0:.1f}s")
        artifact = fitted.save(os.path.join(d, "artifact"))
        paths = {"jsonl": path}
        if "gz" in formats:
            paths["gz"] = path + ".gz"
            write_gz(path, paths["gz"])
        if "parquet" in formats:
            t0 = time.perf_counter()
            paths["parquet"] = os.path.join(d, "serving.parquet")
            write_parquet(path, paths["parquet"], args.rows)
            print(f"wrote parquet in {time.perf_counter() - t0:.1f}s")
        print("skew_report (fresh process each)" + (f", by {args.by}" if args.by else "") + ":")
        for fmt in formats:
            cmd = [sys.executable, os.path.abspath(__file__), "--child", paths[fmt], artifact] + (
                ["--by", args.by] if args.by else []
            )
            subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
