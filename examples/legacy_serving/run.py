"""Find where a hand-written serving function disagrees with the spec, with minimal reproducers.

    python examples/legacy_serving/run.py [--rows 2000] [--fuzz 2000]

Fits spec.yaml, then ``featurekit.parity.compare(fitted.transform, legacy_features, data,
contract=fitted, invalid=False)``: the batch path is the reference; the legacy function is
called on the given rows plus generated edge rows (contract-valid only, since the legacy
server does not validate input). Exit code 1 when disagreements are found (as expected here).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from legacy import make_legacy_features  # noqa: E402

import featurekit as fk  # noqa: E402
from featurekit import parity  # noqa: E402
from featurekit.datasets import make_churn  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1000)
    ap.add_argument("--fuzz", type=int, default=500)
    ap.add_argument("--json", help="also write the JSON report here")
    args = ap.parse_args(argv)
    spec = fk.load_spec(HERE / "spec.yaml")
    columns = [i.name for i in spec.inputs]
    fitted = spec.fit(make_churn(args.rows, seed=0)[columns])
    traffic = make_churn(max(args.rows // 4, 100), seed=1, evaluation=True)[columns]
    legacy_features = make_legacy_features(fitted)

    # 1) what most teams do: replay a sample of traffic
    replayed = parity.compare(
        fitted.transform,
        legacy_features,
        traffic,
        contract=fitted,
        edges=False,
        label="replay only: batch path vs legacy_features",
    )
    print(
        replayed.to_text(color=False).splitlines()[-1]
        if replayed.ok
        else f"replay only: {len(replayed.failing)} column(s) disagree: {[c.column for c in replayed.failing]}"
    )
    # 2) featurekit: the same traffic plus edge rows generated from the contract and fitted state
    report = parity.compare(
        fitted.transform,
        legacy_features,
        traffic,
        contract=fitted,
        invalid=False,
        fuzz=args.fuzz,
        seed=0,
        max_examples=3,
        label="batch path vs legacy_features",
    )
    print()
    print(report.to_text(color=False))
    if args.json:
        Path(args.json).write_text(report.to_json(), encoding="utf-8")
    print("\nfailing columns: " + json.dumps(sorted(c.column for c in report.failing)))
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
