"""featurekit end to end on the bundled churn data: `make demo` runs this.

1. generate training and evaluation data (deterministic, with unseen categories),
2. fit specs/churn.yaml (the batch path's analyzers run once; state is frozen),
3. batch-transform the evaluation data (what a model trains on),
4. save the fitted transform, load it back as a server would, serve rows (the row path),
5. prove both paths agree on every evaluation row, cell for cell,
6. do the same through the command line: `featurekit fit` and `featurekit transform`.
"""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import time
from pathlib import Path

import featurekit as fk
from featurekit import parity
from featurekit.datasets import make_churn

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "examples" / "_work"


def section(title: str) -> None:
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)))


def main() -> int:
    WORK.mkdir(parents=True, exist_ok=True)
    section("1. data")
    train = make_churn(50_000, seed=0)
    evaluation = make_churn(5_000, seed=1, evaluation=True)
    train.to_parquet(WORK / "train.parquet")
    evaluation.to_parquet(WORK / "eval.parquet")
    print(f"train {train.shape}, evaluation {evaluation.shape} (1% unseen plan/country/device per column)")

    section("2. fit specs/churn.yaml")
    spec = fk.load_spec(ROOT / "specs" / "churn.yaml")
    started = time.perf_counter()
    fitted = spec.fit(train)
    print(f"{spec}  fitted in {time.perf_counter() - started:.2f}s on {fitted.fit_info_['rows']:,} rows")
    for feature in ("spend_imputed", "spend_clipped", "spend_z", "country_idx"):
        for item in fitted.state_by_feature()[feature][-1:]:
            state = {k: v for k, v in item["state"].items() if k != "count"}
            text = repr(state)
            print(f"  {feature:15s} {item['op']:9s} {text[:90]}{'...' if len(text) > 90 else ''}")

    section("3. batch path: transform(evaluation)")
    started = time.perf_counter()
    features = fitted.transform(evaluation)
    print(f"{features.shape[0]:,} rows x {features.shape[1]} columns in {time.perf_counter() - started:.3f}s")
    print(features.iloc[:4, :8].to_string())

    section("4. row path: save, load (no pandas needed), serve")
    artifact = fitted.save(WORK / "churn_features")
    served = fk.load(artifact, expect=f"churn_features@1.0.0#{fitted.fingerprint[:16]}")
    request = {
        "customer_id": "CUST-000000042",
        "signup_ts": dt.datetime(2024, 5, 1, 9, 30, tzinfo=dt.UTC),
        "last_login_ts": dt.datetime(2025, 12, 30, 22, 5),
        "plan": "trial",
        "country": "XA",
        "device": None,
        "monthly_spend": 12.5,
        "tenure_days": 610,
        "num_support_tickets": 2,
        "avg_session_minutes": 9.0,
        "referral_code": "",
        "is_promo": True,
        "description": "great\u00a0app  naïve café",
    }
    result = served.transform_row(request)
    print(f"loaded {served}")
    print("a request with an unseen plan and country and a missing device:")
    print("  " + ", ".join(f"{k}={v!r}" for k, v in list(result.items())[:8]) + ", ...")
    print(
        "  "
        + ", ".join(
            f"{k}={result[k]!r}"
            for k in (
                "plan_trial" if "plan_trial" in result else "plan_free",
                "country_idx",
                "device_idx",
                "device_missing",
                "desc_token_count",
            )
        )
    )

    section("5. parity: every evaluation row through both paths")
    report = parity.check(served, evaluation, edges=False, shrink=False)
    print(report.to_text())
    if not report.ok:
        return 1

    section("6. the same through the CLI")
    cli = [sys.executable, "-m", "featurekit.cli", "--quiet"]
    for args in (
        ["validate", "specs/churn.yaml"],
        ["fit", "specs/churn.yaml", "--data", str(WORK / "train.parquet"), "--out", str(WORK / "cli_artifact")],
        [
            "transform",
            str(WORK / "cli_artifact"),
            "--data",
            str(WORK / "eval.parquet"),
            "--out",
            str(WORK / "features.parquet"),
        ],
    ):
        print("$ featurekit " + " ".join(args))
        done = subprocess.run(cli + args, cwd=ROOT, capture_output=True, text=True)
        print("  " + (done.stdout.strip() or done.stderr.strip()))
        if done.returncode != 0:
            return done.returncode
    print("\ndemo finished: both paths agree; see examples/_work/ for the files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
