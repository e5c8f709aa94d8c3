"""Quantile sketch benchmark: error against exact, and memory of exact vs ``approx`` fits.

For each column family (lognormal, bimodal, heavy-tailed, many ties, constant) of ``--rows``
values, fitted in chunks of ``--chunk`` rows (as a chunked or partitioned fit runs):

* the exact analyzer (``Quantiles``; checked equal to ``numpy.percentile`` on the whole column)
  and the sketch at each ``--eps``;
* per percentile, the error ``|q̂ - q|`` as a fraction of ``|q|`` and of the declared bound
  ``ε·((1-g)·|x[j]| + g·|x[j+1]|)`` (must be <= 1; the script exits 1 otherwise);
* memory: the merged accumulator's size, and the peak allocated during the fit (``tracemalloc``,
  which sees numpy's buffers; the column itself is allocated before and not counted);
* the same for a spec fit on one in-memory frame, ``clip(x, lower_pct=1, upper_pct=99)``
  with and without ``approx=``.

    python benchmarks/quantile_sketch.py --rows 10000000 --out benchmarks/results/quantile_sketch.json
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
import tracemalloc
from fractions import Fraction
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from featurekit.analyzers import ApproxQuantiles, Quantiles  # noqa: E402

PERCENTILES = (1.0, 5.0, 10.0, 25.0, 50.0, 75.0, 90.0, 95.0, 99.0)
FAMILIES = ("lognormal", "bimodal", "heavy_tailed", "many_ties", "constant")


def column(family: str, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    if family == "lognormal":
        return rng.lognormal(3.0, 1.5, n)
    if family == "bimodal":
        return np.where(rng.random(n) < 0.6, rng.lognormal(0.0, 0.3, n), rng.normal(1000.0, 50.0, n))
    if family == "heavy_tailed":  # Student t with 1.5 degrees of freedom: both signs, infinite variance
        return rng.standard_t(1.5, n) * 100.0
    if family == "many_ties":
        return np.round(rng.normal(50.0, 15.0, n))
    return np.full(n, 123.456)


def acc_bytes(acc) -> int:
    return sum(v.nbytes for v in vars(acc).values() if isinstance(v, np.ndarray))


def fit_chunked(an, x: np.ndarray, chunk: int) -> tuple[dict, object, float, int]:
    """Fit ``an`` over chunks; return (state, merged accumulator, seconds, peak bytes allocated)."""
    tracemalloc.start()
    t0 = time.perf_counter()
    acc = an.create()
    for i in range(0, len(x), chunk):
        acc = an.merge([acc, an.update(an.create(), x[i : i + chunk])])
    state = an.finalize(acc)
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return state, acc, seconds, peak


def errors(x_sorted: np.ndarray, exact: list, got: list, eps: float) -> dict:
    """Largest relative error and largest fraction of the declared bound used."""
    n = len(x_sorted)
    worst_rel = worst_bound = 0.0
    for p, q, qh in zip(PERCENTILES, exact, got):
        virtual = (n - 1) * (p / 100)
        j = min(math.floor(virtual), n - 1)
        lo, hi = float(x_sorted[j]), float(x_sorted[min(j + 1, n - 1)])
        g = Fraction(virtual - j) if j < n - 1 else Fraction(0)
        err = abs(Fraction(qh) - Fraction(q))
        bound = Fraction(eps) * ((1 - g) * abs(Fraction(lo)) + g * abs(Fraction(hi)))
        worst_bound = max(worst_bound, float(err / bound) if bound else (0.0 if err == 0 else math.inf))
        worst_rel = max(worst_rel, float(err / abs(Fraction(q)))) if q != 0 else worst_rel
    return {"max_rel_error": worst_rel, "max_fraction_of_bound": worst_bound}


def spec_fit_peak(x: np.ndarray, approx: float | None) -> dict:
    import pandas as pd

    import featurekit as fk

    extra = f", approx={approx}" if approx else ""
    spec = fk.spec_from_yaml(f"""featurekit: 1
name: bench
version: 1.0.0
inputs: {{x: {{type: float}}}}
features:
  c: clip(x, lower_pct=1, upper_pct=99{extra})
""")
    frame = pd.DataFrame({"x": x})
    tracemalloc.start()
    t0 = time.perf_counter()
    spec.fit(frame, baseline=False)
    seconds = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"approx": approx, "fit_s": seconds, "peak_alloc_mb": peak / 2**20}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument("--chunk", type=int, default=1_000_000)
    ap.add_argument("--eps", type=float, nargs="+", default=[0.01, 0.001, 0.0001])
    ap.add_argument("--families", nargs="+", default=list(FAMILIES), choices=FAMILIES)
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    results = []
    ok = True
    for family in args.families:
        x = column(family, args.rows)
        x_sorted = np.sort(x)
        ref = np.percentile(x_sorted, PERCENTILES).tolist()
        state, acc, seconds, peak = fit_chunked(Quantiles(PERCENTILES), x, args.chunk)
        assert state["values"] == ref, "exact analyzer differs from numpy.percentile"
        row = {
            "family": family,
            "rows": args.rows,
            "distinct": int(acc.values.size),
            "exact": {"fit_s": seconds, "acc_mb": acc_bytes(acc) / 2**20, "peak_alloc_mb": peak / 2**20},
            "approx": [],
        }
        for eps in args.eps:
            state, acc, seconds, peak = fit_chunked(ApproxQuantiles(PERCENTILES, eps), x, args.chunk)
            err = errors(x_sorted, ref, state["values"], eps)
            ok &= err["max_fraction_of_bound"] <= 1.0 and state["error_floor"] == 0.0
            row["approx"].append(
                {
                    "eps": eps,
                    "buckets": int(acc.ordinals.size),
                    "fit_s": seconds,
                    "acc_kb": acc_bytes(acc) / 2**10,
                    "peak_alloc_mb": peak / 2**20,
                    **err,
                }
            )
        results.append(row)
        print(
            f"{family:13s} distinct {row['distinct']:>10,}  exact: acc {row['exact']['acc_mb']:8.1f} MB, "
            f"peak {row['exact']['peak_alloc_mb']:8.1f} MB, {row['exact']['fit_s']:6.2f} s"
        )
        for a in row["approx"]:
            print(
                f"{'':13s} eps {a['eps']:<7g} buckets {a['buckets']:>8,}  acc {a['acc_kb']:9.1f} KB, "
                f"peak {a['peak_alloc_mb']:7.1f} MB, {a['fit_s']:6.2f} s, max rel err {a['max_rel_error']:.2e}, "
                f"max err / bound {a['max_fraction_of_bound']:.3f}"
            )
    x = column("lognormal", args.rows)
    spec_runs = [spec_fit_peak(x, None)] + [spec_fit_peak(x, eps) for eps in args.eps]
    for r in spec_runs:
        print(
            f"spec fit clip(x, lower_pct=1, upper_pct=99{', approx=' + str(r['approx']) if r['approx'] else ''}) "
            f"on {args.rows:,} lognormal rows: peak {r['peak_alloc_mb']:.1f} MB, {r['fit_s']:.2f} s"
        )
    doc = {
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "numpy": np.__version__},
        "percentiles": PERCENTILES,
        "chunk": args.chunk,
        "families": results,
        "spec_fit": spec_runs,
        "within_bound": ok,
    }
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    print("all errors within the declared bound" if ok else "ERROR: some error exceeds the declared bound")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
