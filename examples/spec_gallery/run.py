"""Validate, fit and parity-check specs/fraud.yaml and specs/listings.yaml on synthetic data.

    python examples/spec_gallery/run.py [--rows 5000]

Each spec is fitted on deterministic synthetic data (examples/spec_gallery/data.py), the batch
path transforms it, and ``featurekit.parity.check`` runs both compiled paths on the data plus
generated edge rows. fraud.yaml calls a custom Python function, registered by importing
fraud_udfs first.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

import fraud_udfs  # noqa: E402,F401  registers round_amount_score before fraud.yaml is loaded
from data import make_fraud, make_listings  # noqa: E402

import featurekit as fk  # noqa: E402
from featurekit import parity  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=5000)
    ap.add_argument("--fuzz", type=int, default=500)
    args = ap.parse_args(argv)
    ok = True
    for spec_file, make in (("fraud.yaml", make_fraud), ("listings.yaml", make_listings)):
        spec = fk.load_spec(ROOT / "specs" / spec_file)
        train = make(args.rows, seed=0)
        fresh = make(max(args.rows // 10, 50), seed=1)
        fitted = spec.fit(train)
        out = fitted.transform(fresh)
        print(
            f"{spec.name}@{spec.version}: fitted on {len(train):,} rows -> {out.shape[1]} columns "
            f"(fingerprint {fitted.fingerprint[:12]})"
        )
        report = parity.check(fitted, fresh, fuzz=args.fuzz, seed=0)
        print("  " + report.to_text(color=False).replace("\n", "\n  "))
        ok &= report.ok
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
