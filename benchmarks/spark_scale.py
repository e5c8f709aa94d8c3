"""Spark scale benchmark: fit and transform the churn spec on a parquet dataset with PySpark.

Generates ``--rows`` rows of the churn schema in ``--files`` parquet files (as
``benchmarks/dask_scale.py`` does), starts a local SparkSession (``--master``, default
``local[2]``), reads the files and

* fits the churn spec through the Spark engine (every analyzer pass and the baseline pass,
  :class:`featurekit.engines.spark.SparkEngine`), timed from the parquet read to the fitted
  transform;
* transforms lazily and runs the plan to the end with Spark's ``noop`` sink (every output
  row computed, nothing written), timed;
* fits the same files chunked with pandas (file by file, bounded memory) and checks that the
  fitted fingerprints (spec plus state) are identical.

Reports rows/s for fit and transform, the Python driver's peak RSS (``ru_maxrss``) and the
Spark JVM's (``VmHWM``: in local mode the executors run inside it), prints them and writes JSON.
``--approx EPS`` fits with ``approx=EPS`` on every quantile-based op (docs/scale.md).

    python benchmarks/spark_scale.py                       # 1M rows
    python benchmarks/spark_scale.py --rows 20000000 --files 100 --approx 0.001 --dir /work/fk-churn-20m
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.dask_scale import generate, run_pandas_chunked, with_approx  # noqa: E402


def _jvm_peak_rss_mb(spark) -> float | None:
    pid = spark._jvm.java.lang.ProcessHandle.current().pid()
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _session(master: str, driver_memory: str):
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    from pyspark.sql import SparkSession

    spark = (
        SparkSession.builder.master(master)
        .appName("featurekit-spark-scale")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.driver.memory", driver_memory)
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def run_spark(spec, data: Path, master: str, driver_memory: str) -> dict:
    spark = _session(master, driver_memory)
    t0 = time.perf_counter()
    sdf = spark.read.parquet(str(data))
    partitions = sdf.rdd.getNumPartitions()
    fitted = spec.fit(sdf)
    t_fit = time.perf_counter() - t0
    rows = sdf.count()
    t0 = time.perf_counter()
    fitted.transform(sdf).write.format("noop").mode("overwrite").save()
    t_transform = time.perf_counter() - t0
    result = {
        "engine": "spark",
        "master": master,
        "partitions": partitions,
        "rows": rows,
        "fit_s": t_fit,
        "fit_rows_per_s": rows / t_fit,
        "transform_s": t_transform,
        "transform_rows_per_s": rows / t_transform,
        "peak_rss_mb": {
            "python_driver": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "jvm": _jvm_peak_rss_mb(spark),
        },
        "fingerprint": fitted.fingerprint,
    }
    spark.stop()
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--files", type=int, default=10)
    p.add_argument("--master", default="local[2]")
    p.add_argument("--driver-memory", default="2g", help="the Spark JVM's heap (local mode: executors too)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dir", help="dataset directory (kept; default: a temporary directory)")
    p.add_argument("--approx", type=float, help="fit with approx=APPROX on the quantile-based ops")
    p.add_argument("--no-pandas", action="store_true", help="skip the pandas chunked fit and the state check")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "spark_scale.json"))
    args = p.parse_args(argv)

    import featurekit as fk

    warnings.simplefilter("ignore", FutureWarning)  # PySpark: "pandas >= 3 is not fully supported"
    spec = fk.load_spec(str(ROOT / "specs" / "churn.yaml"))
    if args.approx:
        spec = with_approx(spec, args.approx)
    tmp = None
    data = Path(args.dir) if args.dir else Path(tmp := tempfile.mkdtemp(prefix="fk-spark-scale-"))
    try:
        if not any(data.glob("*.parquet")):
            t0 = time.perf_counter()
            generate(data, args.rows, args.files, args.seed)
            print(f"generated {args.rows:,} rows in {args.files} files in {time.perf_counter() - t0:.1f}s")
        results = [run_spark(spec, data, args.master, args.driver_memory)]
        if not args.no_pandas:
            results.append(run_pandas_chunked(spec, data))
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
    same = len({r["fingerprint"] for r in results}) == 1
    for r in results:
        rss = ", ".join(f"{k} {v:,.0f} MB" for k, v in r["peak_rss_mb"].items() if v is not None)
        line = f"{r['engine']:>15}: {r['rows']:,} rows  fit {r['fit_rows_per_s']:,.0f} rows/s ({r['fit_s']:.1f}s)"
        if "transform_rows_per_s" in r:
            line += f"  transform {r['transform_rows_per_s']:,.0f} rows/s ({r['transform_s']:.1f}s)"
        print(f"{line}  peak RSS {rss}")
    print(f"fingerprints identical: {same}")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    report = {"approx": args.approx, "machine": platform.platform(), "cpus": os.cpu_count(), "results": results}
    out.write_text(json.dumps({**report, "fingerprints_identical": same}, indent=2))
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
