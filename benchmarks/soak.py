"""Soak: 1,000,000 ``transform_row`` calls on the churn transform, RSS sampled every 50k calls.

    .venv/bin/python benchmarks/soak.py [--calls N] [--every K]

Prints the RSS series (MiB, from /proc/self/statm, falling back to ru_maxrss) and the growth
from the first sample (taken after warm-up) to the last; exits 1 if it exceeds --max-growth-mib.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rss_mib() -> float:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, default=1_000_000)
    ap.add_argument("--every", type=int, default=50_000)
    ap.add_argument("--max-growth-mib", type=float, default=8.0)
    args = ap.parse_args(argv)

    import tempfile

    import featurekit as fk
    from featurekit.datasets import make_churn, to_rows

    fitted = fk.load_spec(ROOT / "specs" / "churn.yaml").fit(make_churn(3000))
    with tempfile.TemporaryDirectory() as tmp:
        loaded = fk.load(fitted.save(Path(tmp) / "churn"))
    rows = to_rows(make_churn(1000, seed=5, evaluation=True))
    fn = loaded.transform_row
    for r in rows:  # warm-up
        fn(r)
    gc.collect()
    series = [(0, rss_mib())]
    n = len(rows)
    t0 = time.perf_counter()
    for i in range(1, args.calls + 1):
        fn(rows[i % n])
        if i % args.every == 0:
            series.append((i, rss_mib()))
    elapsed = time.perf_counter() - t0
    print("calls      rss_mib")
    for i, m in series:
        print(f"{i:9d}  {m:8.2f}")
    growth = series[-1][1] - series[0][1]
    peak = max(m for _, m in series) - series[0][1]
    print(f"calls: {args.calls}  time: {elapsed:.1f} s  ({elapsed / args.calls * 1e6:.2f} us/call)")
    print(
        f"rss first: {series[0][1]:.2f} MiB  last: {series[-1][1]:.2f} MiB  growth: {growth:+.2f} MiB  "
        f"peak over first: {peak:+.2f} MiB  (bound {args.max_growth_mib} MiB)"
    )
    return 0 if growth <= args.max_growth_mib else 1


if __name__ == "__main__":
    sys.exit(main())
