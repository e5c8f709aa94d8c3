"""Fit and transform a partitioned parquet dataset on a local Dask cluster.

    python examples/dask_scale/run.py [--rows 40000] [--files 8] [--workers 2] [--out DIR]

1. write the churn data as a directory of parquet files (one partition per file),
2. start a ``LocalCluster`` (worker processes, 1 thread each),
3. ``spec.fit(dask_frame)``: the analyzers accumulate per partition and merge exactly,
4. check the fitted state and fingerprint equal a pandas fit of the same rows,
5. ``fitted.transform(dask_frame).to_parquet(...)``: one output file per partition,
   and check the output equals the pandas batch path.

The command-line equivalent: ``featurekit fit specs/churn.yaml --data 'DIR/*.parquet'
--engine dask --workers 2 --out model/features``. See docs/dask.md.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=40_000)
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--out", default=str(HERE / "_work"))
    args = ap.parse_args(argv)

    import dask.dataframe as dd
    from distributed import Client, LocalCluster

    import featurekit as fk
    from featurekit.datasets import make_churn

    work = Path(args.out).resolve()
    data_dir = work / "train"
    data_dir.mkdir(parents=True, exist_ok=True)
    for old in data_dir.glob("*.parquet"):
        old.unlink()
    full = make_churn(args.rows, seed=0)
    per_file = -(-len(full) // args.files)
    for i in range(args.files):
        full.iloc[i * per_file : (i + 1) * per_file].to_parquet(data_dir / f"part-{i:03d}.parquet")
    print(f"wrote {args.rows:,} rows as {args.files} parquet files in {data_dir}")

    spec = fk.load_spec(ROOT / "specs" / "churn.yaml")
    with (
        LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None, memory_limit="1GB"
        ) as cluster,
        Client(cluster),
    ):
        ddf = dd.read_parquet(str(data_dir))
        started = time.perf_counter()
        fitted = spec.fit(ddf, progress=print)
        print(
            f"dask fit: {ddf.npartitions} partitions, {args.workers} workers, "
            f"{time.perf_counter() - started:.1f}s, fingerprint {fitted.fingerprint[:16]}"
        )
        reference = spec.fit(pd.read_parquet(data_dir))
        same = reference.fingerprint == fitted.fingerprint
        print(f"pandas fit of the same rows: fingerprint {reference.fingerprint[:16]} -> identical: {same}")
        fitted.save(work / "features")
        out_dir = work / "features_out"
        started = time.perf_counter()
        fitted.transform(ddf).to_parquet(str(out_dir), write_index=False)
        print(f"dask transform -> {out_dir} in {time.perf_counter() - started:.1f}s")
    out = pd.read_parquet(out_dir)
    expected = reference.transform(pd.read_parquet(data_dir)).reset_index(drop=True)
    equal = out.reset_index(drop=True).equals(expected)
    print(f"{len(out):,} rows x {out.shape[1]} columns; equal to the pandas batch path: {equal}")
    return 0 if same and equal else 1


if __name__ == "__main__":
    sys.exit(main())
