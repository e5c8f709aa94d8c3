"""Dask scale benchmark: fit and transform the churn spec on a partitioned parquet dataset.

Generates ``--rows`` rows of the churn schema in ``--files`` parquet files (one
``make_churn`` call per file, so generation never holds the whole set), then

* pandas: reads everything into one frame, fits and transforms (skipped above
  ``--pandas-max-rows``, when it would not fit in memory);
* Dask: a ``LocalCluster`` of ``--workers`` worker processes (1 thread each) with
  ``--memory-limit`` per worker; fit with ``spec.fit(ddf)`` (the Dask engine; baseline
  statistics included, as for pandas), transform
  lazily and write parquet (so the output never gathers on the client).

* pandas chunked (``--pandas-chunked``): fits file by file in one process (bounded memory
  with ``--approx``), to check the Dask state against it when pandas cannot hold the data.

``--approx EPS`` fits the churn spec with ``approx=EPS`` on every quantile-based op (the
median imputations, the percentile clip and the quantile buckets; docs/scale.md).

Reports rows/s for fit and transform, peak RSS per worker (``resource.getrusage`` ``ru_maxrss``
in each worker process), checks that every engine's fingerprint (spec and fitted state)
agrees, prints a table and writes JSON.

    python benchmarks/dask_scale.py --rows 5000000 --files 50 --out benchmarks/results/dask_scale.json
    python benchmarks/dask_scale.py --rows 100000000 --files 500 --memory-limit 1GB --approx 0.001 \
        --pandas-chunked --dir /work/fk-churn-100m
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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def generate(path: Path, rows: int, files: int, seed: int) -> None:
    from featurekit.datasets import make_churn

    path.mkdir(parents=True, exist_ok=True)
    per = -(-rows // files)
    for i in range(files):
        n = min(per, rows - i * per)
        if n <= 0:
            break
        make_churn(n, seed=seed + i).to_parquet(path / f"part-{i:05d}.parquet", index=False)


def with_approx(spec, eps: float):
    """``spec`` with ``approx=eps`` on every quantile-based op."""
    import featurekit as fk
    from featurekit.ir.nodes import Call, to_source
    from featurekit.spec.expr_parser import parse

    def declare(expr):
        if not isinstance(expr, Call):
            return expr
        params = dict(expr.params)
        if (
            expr.op == "robust_scale"
            or (expr.op == "clip" and {"lower_pct", "upper_pct"} & set(params))
            or (expr.op == "bucketize" and "quantiles" in params)
            or (expr.op == "impute" and params.get("strategy") == "median")
        ):
            params["approx"] = eps
        return Call(expr.op, tuple(declare(a) for a in expr.args), tuple(sorted(params.items())))

    data = spec.to_dict()
    data["features"] = {
        name: to_source(declare(parse(f if isinstance(f, str) else f["expr"]))) for name, f in data["features"].items()
    }
    return fk.spec_from_dict(data)


def run_pandas_chunked(spec, data: Path) -> dict:
    import pandas as pd

    files = sorted(data.glob("*.parquet"))
    t0 = time.perf_counter()
    fitted = spec.fit(lambda: (pd.read_parquet(f) for f in files), baseline=False)
    t_fit = time.perf_counter() - t0
    rows = fitted.fit_info_["rows"]
    return {
        "engine": "pandas-chunked",
        "rows": rows,
        "fit_s": t_fit,
        "fit_rows_per_s": rows / t_fit,
        "peak_rss_mb": {"driver": _peak_rss_mb()},
        "fingerprint": fitted.fingerprint,
    }


def run_pandas(spec, data: Path, out_dir: Path) -> dict:
    import pandas as pd

    t0 = time.perf_counter()
    df = pd.read_parquet(data)
    t_read = time.perf_counter() - t0
    t0 = time.perf_counter()
    fitted = spec.fit(df)
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    out = fitted.transform(df)
    t_tr = time.perf_counter() - t0
    out_dir.mkdir(parents=True, exist_ok=True)
    out.to_parquet(out_dir / "out.parquet", index=False)
    rows = len(df)
    return {
        "engine": "pandas",
        "rows": rows,
        "read_s": t_read,
        "fit_s": t_fit,
        "transform_s": t_tr,
        "fit_rows_per_s": rows / t_fit,
        "transform_rows_per_s": rows / t_tr,
        "peak_rss_mb": {"driver": _peak_rss_mb()},
        "fingerprint": fitted.fingerprint,
    }


def run_dask(spec, data: Path, out_dir: Path, workers: int, memory_limit: str) -> dict:
    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, memory_limit=memory_limit, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(lambda: __import__("featurekit.engines.dask"))  # warm imports outside the timings
        ddf = dd.read_parquet(str(data))
        t0 = time.perf_counter()
        fitted = spec.fit(ddf, progress=lambda m: print("  dask:", m, file=sys.stderr))
        t_fit = time.perf_counter() - t0
        rows = fitted.fit_info_["rows"]
        t0 = time.perf_counter()
        fitted.transform(ddf).to_parquet(str(out_dir), write_index=False)
        t_tr = time.perf_counter() - t0
        peaks = client.run(_peak_rss_mb)
    return {
        "engine": "dask",
        "workers": workers,
        "memory_limit": memory_limit,
        "partitions": ddf.npartitions,
        "rows": rows,
        "fit_s": t_fit,
        "transform_s": t_tr,
        "fit_rows_per_s": rows / t_fit,
        "transform_rows_per_s": rows / t_tr,
        "peak_rss_mb": {f"worker{i}": v for i, v in enumerate(peaks.values())} | {"driver": _peak_rss_mb()},
        "fingerprint": fitted.fingerprint,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=5_000_000)
    p.add_argument("--files", type=int, default=50)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--memory-limit", default="2GB", help="per Dask worker")
    p.add_argument("--pandas-max-rows", type=int, default=10_000_000, help="skip pandas above this size")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--dir", help="dataset directory (kept; default: a temporary directory)")
    p.add_argument("--approx", type=float, help="fit with approx=APPROX on the quantile-based ops")
    p.add_argument("--pandas-chunked", action="store_true", help="also fit with pandas, file by file")
    p.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "dask_scale.json"))
    args = p.parse_args(argv)

    import featurekit as fk

    spec = fk.load_spec(str(ROOT / "specs" / "churn.yaml"))
    if args.approx:
        spec = with_approx(spec, args.approx)
    tmp = Path(tempfile.mkdtemp(prefix="fk-dask-scale-"))
    data = Path(args.dir) if args.dir else tmp / "data"
    try:
        if not any(data.glob("*.parquet")):
            t0 = time.perf_counter()
            generate(data, args.rows, args.files, args.seed)
            print(
                f"generated {args.rows:,} rows in {args.files} files in {time.perf_counter() - t0:.1f}s",
                file=sys.stderr,
            )
        results = []
        # Dask first, so the driver's peak RSS is not inflated by the in-memory pandas run.
        results.append(run_dask(spec, data, tmp / "out_dask", args.workers, args.memory_limit))
        if args.pandas_chunked:  # after Dask too: the driver's RSS is then the chunked fit's
            results.append(run_pandas_chunked(spec, data))
        if args.rows <= args.pandas_max_rows:
            results.append(run_pandas(spec, data, tmp / "out_pandas"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    fps = {r["fingerprint"] for r in results}
    report = {
        "rows": args.rows,
        "files": args.files,
        "approx": args.approx,
        "memory_limit": args.memory_limit,
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_avg_at_end": os.getloadavg(),
        "same_fingerprint": len(fps) == 1,
        "results": results,
    }
    print(
        f"\n{'engine':14s} {'rows':>11s} {'fit s':>8s} {'fit rows/s':>12s} {'tr s':>8s} {'tr rows/s':>12s}  peak RSS MB"
    )
    for r in results:
        peaks = ", ".join(f"{k}={v:,.0f}" for k, v in r["peak_rss_mb"].items())
        tr = (
            f"{r['transform_s']:>8.1f} {r['transform_rows_per_s']:>12,.0f}"
            if "transform_s" in r
            else f"{'-':>8s} {'-':>12s}"
        )
        print(f"{r['engine']:14s} {r['rows']:>11,} {r['fit_s']:>8.1f} {r['fit_rows_per_s']:>12,.0f} {tr}  {peaks}")
    print(f"same fingerprint: {report['same_fingerprint']}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2, default=float))
    return 0 if report["same_fingerprint"] else 1


if __name__ == "__main__":
    sys.exit(main())
