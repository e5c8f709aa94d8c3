"""Churn, end to end: data -> fit -> train -> save -> serve -> parity gate -> a week of traffic.

    python examples/churn_end_to_end/run.py [--rows 20000] [--out DIR] [--no-mlflow]

1. generate labelled training data (featurekit.datasets.make_churn + a synthetic churn label),
2. train ``Pipeline([FeatureTransformer("specs/churn.yaml"), StandardScaler(), LogisticRegression()])``: the spec's
   analyzers are fitted inside the pipeline, the model trains on ``transform(df)``,
3. save model + fitted transform together: ``DIR/model/`` = ``features/`` (featurekit artifact) +
   ``model.joblib`` + ``meta.json`` (the pin); and the same as one MLflow pyfunc model in a local
   file store (``DIR/mlruns``),
4. check the row path (what app.py serves) against the pipeline's batch predictions,
5. the CI gate: ``featurekit parity DIR/model/features --data sample --format junit``
   (what examples/ci/parity.yml runs),
6. a simulated week of served traffic with drift, every request logged by the serving path;
   ``featurekit parity --log`` proves the served features equal the batch path's,
7. (only if ``featurekit.skew`` is importable) the skew report ``featurekit skew``.

Serve it: ``MODEL_DIR=DIR/model uvicorn --app-dir examples/churn_end_to_end app:app``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
sys.path.insert(0, str(HERE))

from serving import Predictor, encode_json_row  # noqa: E402

from featurekit.datasets import make_churn, to_rows  # noqa: E402

SPEC = ROOT / "specs" / "churn.yaml"


def section(title: str) -> None:
    print(f"\n=== {title} " + "=" * max(0, 70 - len(title)), flush=True)


def churn_label(df: pd.DataFrame, seed: int) -> np.ndarray:
    """A synthetic churn label: more likely with few logins, support tickets, low tenure, free plan."""
    rng = np.random.default_rng(seed)
    as_of = pd.Timestamp("2026-01-01")
    last = (
        pd.to_datetime(df["last_login_ts"]).dt.tz_localize(None)
        if getattr(pd.to_datetime(df["last_login_ts"]).dt, "tz", None) is None
        else pd.to_datetime(df["last_login_ts"]).dt.tz_convert(None)
    )
    idle = ((as_of - last).dt.days.fillna(60)).to_numpy(dtype=float)
    logit = (
        -1.0
        + 0.03 * np.minimum(idle, 120)
        + 0.35 * df["num_support_tickets"].to_numpy()
        - 0.002 * df["tenure_days"].to_numpy()
        + 0.8 * (df["plan"].astype(str) == "free").to_numpy()
    )
    return (rng.random(len(df)) < 1.0 / (1.0 + np.exp(-logit))).astype(int)


def drifted_day(day: int, n: int) -> pd.DataFrame:
    """One day of requests; spend inflates and a new market (country 'ZZ') ramps up over the week."""
    df = make_churn(n, seed=100 + day, evaluation=True)
    rng = np.random.default_rng(day)
    df["monthly_spend"] = df["monthly_spend"] * (1.0 + 0.08 * day)
    new_market = rng.random(n) < 0.04 * day
    country = df["country"].astype(object)
    country[new_market] = "ZZ"
    df["country"] = country.astype("category")
    return df


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=20_000, help="training rows (default 20000)")
    ap.add_argument("--day-rows", type=int, default=300, help="served requests per simulated day")
    ap.add_argument("--out", default=str(HERE / "_work"), help="working directory (default: _work/ here)")
    ap.add_argument("--no-mlflow", action="store_true", help="skip the MLflow step")
    args = ap.parse_args(argv)
    work = Path(args.out).resolve()
    work.mkdir(parents=True, exist_ok=True)
    cli = [sys.executable, "-m", "featurekit.cli", "--quiet"]

    section("1. data")
    train = make_churn(args.rows, seed=0)
    y = churn_label(train, seed=0)
    holdout = make_churn(max(args.rows // 10, 200), seed=1, evaluation=True)
    y_holdout = churn_label(holdout, seed=1)
    print(f"train {train.shape}, churn rate {y.mean():.1%}; holdout {holdout.shape}")

    section("2. train: Pipeline([FeatureTransformer(spec), StandardScaler, LogisticRegression])")
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from featurekit.sklearn import FeatureTransformer, serve_row

    pipe = Pipeline(
        [
            ("features", FeatureTransformer(str(SPEC))),
            ("scale", StandardScaler()),
            ("model", LogisticRegression(max_iter=2000)),
        ]
    )
    pipe.fit(train, y)
    fitted = pipe.named_steps["features"].fitted_
    proba = pipe.predict_proba(holdout)[:, 1]
    print(f"holdout AUC {roc_auc_score(y_holdout, proba):.3f}; features {fitted.pin[:40]}...")

    section("3. save model + fitted transform together")
    import joblib

    model_dir = work / "model"
    model_dir.mkdir(exist_ok=True)
    fitted.save(model_dir / "features")
    joblib.dump(Pipeline(pipe.steps[1:]), model_dir / "model.joblib")  # scaler + classifier
    (model_dir / "meta.json").write_text(
        json.dumps({"pin": fitted.pin, "columns": fitted.output_columns}, indent=1), encoding="utf-8"
    )
    print(f"plain directory: {model_dir} (features/ + model.joblib + meta.json)")
    if not args.no_mlflow:
        os.environ.setdefault("MLFLOW_ALLOW_FILE_STORE", "true")
        import mlflow

        import featurekit.mlflow as fkm

        mlflow.set_tracking_uri((work / "mlruns").as_uri())
        mlflow.set_experiment("churn_end_to_end")
        with mlflow.start_run():
            info = fkm.log_model(pipe, method="predict_proba", input_example=train.head(5))
        served_by_mlflow = fkm.load_model(info.model_uri).predict(fkm.serving_frame(holdout.head(20), fitted.spec))
        mlflow_p1 = np.asarray(served_by_mlflow)[:, 1]
        assert np.allclose(mlflow_p1, proba[:20], rtol=0, atol=1e-12), "MLflow model disagrees with the pipeline"
        print(f"MLflow: {info.model_uri} (agrees with the pipeline on 20 holdout rows)")

    section("4. row path (what app.py serves) vs the pipeline")
    predictor = Predictor(model_dir)
    rows = to_rows(holdout.head(200))
    served = np.array([predictor.predict_row(r) for r in rows])
    via_serve_row = np.array([serve_row(pipe, r)[1] for r in rows])
    worst = float(np.max(np.abs(served - proba[:200])))
    print(
        f"200 rows: max |served - batch| = {worst:.2e}; equal to featurekit.sklearn.serve_row: "
        f"{bool(np.array_equal(served, via_serve_row))}"
    )
    if worst > 1e-12 or not np.array_equal(served, via_serve_row):
        return 1
    # a request file for the HTTP test and a curl example
    requests = [encode_json_row(r) for r in rows[:20]]
    (work / "requests.json").write_text(
        json.dumps({"rows": requests, "expected": served[:20].tolist()}, indent=1), encoding="utf-8"
    )

    section("5. the CI gate: featurekit parity --format junit")
    sample = work / "parity_sample.parquet"
    holdout.to_parquet(sample)
    gate = cli + [
        "parity",
        str(model_dir / "features"),
        "--data",
        str(sample),
        "--fuzz",
        "1000",
        "--format",
        "junit",
        "--output",
        str(work / "parity.xml"),
    ]
    print("$ featurekit " + " ".join(gate[len(cli) :]))
    done = subprocess.run(gate, capture_output=True, text=True)
    print(f"  exit {done.returncode}; {(work / 'parity.xml').read_text().splitlines()[1][:100]}...")
    if done.returncode != 0:
        print(done.stderr)
        return 1

    section("6. a week of served traffic with drift, logged by the serving path")
    log_path = work / "serving.jsonl"
    log_path.unlink(missing_ok=True)
    predictor = Predictor(model_dir, log_path=str(log_path))
    baseline_country_oov = None
    for day in range(7):
        day_df = drifted_day(day, args.day_rows)
        outs = [predictor.features_row(r) for r in to_rows(day_df)]
        spend_z = float(np.mean([o["spend_z"] for o in outs]))
        oov = fitted.state_by_feature()["country_idx"][-1]["state"]
        oov_index = len(oov.get("vocab", oov.get("values", []))) if isinstance(oov, dict) else None
        unseen = float(np.mean([o["country_idx"] >= oov_index for o in outs])) if oov_index else float("nan")
        baseline_country_oov = unseen if baseline_country_oov is None else baseline_country_oov
        date = dt.date(2026, 1, 5) + dt.timedelta(days=day)
        print(f"  {date}  {len(outs)} requests  mean spend_z {spend_z:+.3f}  country out of vocabulary {unseen:.1%}")
    predictor.close()
    records = sum(1 for _ in log_path.open(encoding="utf-8"))
    replay = cli + ["parity", str(model_dir / "features"), "--log", str(log_path)]
    done = subprocess.run(replay, capture_output=True, text=True)
    print(f"$ featurekit parity {model_dir / 'features'} --log {log_path.name}  ({records} records)")
    print("  " + done.stdout.strip().replace("\n", "\n  "))
    if done.returncode != 0:
        print(done.stderr)
        return 1

    section("7. skew report (featurekit skew)")
    # FINAL STEP, optional: the skew report is being built in parallel; run it only when present.
    from featurekit.cli import build_parser

    commands = build_parser()._subparsers._group_actions[0].choices  # type: ignore[union-attr]
    if importlib.util.find_spec("featurekit.skew") is None or "skew" not in commands:
        print("featurekit skew is not available in this version: skipped")
    else:
        report = work / "skew.html"
        cmd = cli + ["skew", str(model_dir / "features"), "--log", str(log_path), "--html", str(report)]
        done = subprocess.run(cmd, capture_output=True, text=True)
        print("$ featurekit " + " ".join(cmd[len(cli) :]))
        print(
            f"  exit {done.returncode}"
            + (f"; wrote {report}" if report.exists() else f" (not fatal here): {done.stderr.strip()[:300]}")
        )
    print(f"\nend to end finished; files in {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
