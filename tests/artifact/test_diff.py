"""``featurekit diff``: golden reports for each kind of change, ``--check-version`` exit codes,
and the change-impact report."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import featurekit as fk
from featurekit.cli import main
from featurekit.datasets import make_churn
from featurekit.diff import diff, diff_paths, format_text, load_side

ROOT = Path(__file__).resolve().parents[2]
CHURN = (ROOT / "specs" / "churn.yaml").read_text()


def variant(tmp_path: Path, name: str, *replacements: tuple[str, str], version: str | None = None) -> Path:
    text = CHURN
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new, 1)
    if version:
        text = text.replace("version: 1.0.0", f"version: {version}", 1)
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    return path


def changes(report: dict) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in report["features"]:
        if r["change"] != "unchanged":
            out.setdefault(r["change"], []).append(r["feature"])
    return out


def run(capsys, *argv: str) -> tuple[int, str]:
    code = main(["diff", *map(str, argv)])
    return code, capsys.readouterr().out


@pytest.fixture(scope="module")
def train():
    return make_churn(1500, seed=0)


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory, train):
    d = tmp_path_factory.mktemp("diff")
    spec = fk.load_spec(ROOT / "specs" / "churn.yaml")
    a = spec.fit(train).save(d / "a")
    same = spec.fit(train).save(d / "same.fkit")
    refit = spec.fit(make_churn(1500, seed=1)).save(d / "refit")
    bumped = variant(d, "bumped", version="1.0.1")
    refit_bumped = fk.load_spec(bumped).fit(make_churn(1500, seed=1)).save(d / "refit_bumped")
    return {"a": a, "same": same, "refit": refit, "refit_bumped": refit_bumped, "dir": d}


# ---------------------------------------------------------------- kinds of change (specs)


def test_identical_specs_have_no_changes(tmp_path, capsys):
    spec = ROOT / "specs" / "churn.yaml"
    report = diff_paths(str(spec), str(spec))
    assert changes(report) == {} and report["summary"]["unchanged"] == 26
    code, out = run(capsys, spec, spec, "--check-version")
    assert code == 0
    assert out.splitlines()[0] == "churn_features@1.0.0 (spec) -> churn_features@1.0.0 (spec)"
    assert "version check: ok" in out


def test_rename_is_removed_plus_added_with_a_hint(tmp_path, capsys):
    new = variant(tmp_path, "renamed", ("  spend_missing:", "  spend_is_missing:"))
    report = diff_paths(str(ROOT / "specs" / "churn.yaml"), str(new))
    assert changes(report) == {"removed": ["spend_missing"], "added": ["spend_is_missing"]}
    rows = {r["feature"]: r for r in report["features"]}
    assert "renamed?" in rows["spend_missing"]["detail"] and "renamed?" in rows["spend_is_missing"]["detail"]
    code, out = run(capsys, ROOT / "specs" / "churn.yaml", new)
    assert code == 0
    assert "  removed        spend_missing  (same logic as added feature 'spend_is_missing' (renamed?))" in out
    assert "  added          spend_is_missing  (same logic as removed feature 'spend_missing' (renamed?))" in out
    assert "summary: 1 added, 1 removed, 0 logic changed, 0 state changed, 25 unchanged" in out


def test_op_param_change_is_a_logic_change_of_that_feature_only(tmp_path, capsys):
    new = variant(tmp_path, "param", ("num_buckets=1024", "num_buckets=2048"))
    report = diff_paths(str(ROOT / "specs" / "churn.yaml"), str(new))
    assert changes(report) == {"logic_changed": ["customer_hash"]}
    row = next(r for r in report["features"] if r["feature"] == "customer_hash")
    assert "2048" in row["new"] and "1024" in row["old"]
    code, out = run(capsys, ROOT / "specs" / "churn.yaml", new)
    assert "  logic changed  customer_hash  (fingerprint " in out
    assert "num_buckets=2048" in out


def test_constant_change_is_a_logic_change_of_the_features_using_it(tmp_path):
    new = variant(
        tmp_path, "const", ('AS_OF: {timestamp: "2026-01-01T00:00:00Z"}', 'AS_OF: {timestamp: "2026-02-01T00:00:00Z"}')
    )
    report = diff_paths(str(ROOT / "specs" / "churn.yaml"), str(new))
    assert changes(report) == {"logic_changed": ["days_since_last_login"]}


def test_added_and_removed_features(tmp_path, capsys):
    new = variant(
        tmp_path,
        "addrm",
        ("  desc_char_len: coalesce(length(description), 0)\n", ""),
        ("  is_promo_int:", "  tenure_log1p: log1p(tenure_days)\n  is_promo_int:"),
    )
    report = diff_paths(str(ROOT / "specs" / "churn.yaml"), str(new))
    assert changes(report) == {"removed": ["desc_char_len"], "added": ["tenure_log1p"]}
    assert report["summary"] == {"added": 1, "removed": 1, "logic_changed": 0, "state_changed": 0, "unchanged": 25}
    code, out = run(capsys, ROOT / "specs" / "churn.yaml", new, "--format", "json")
    assert code == 0 and json.loads(out)["summary"]["added"] == 1


# ---------------------------------------------------------------- fitted state


def test_same_artifact_dir_and_archive_are_unchanged(artifacts, capsys):
    code, out = run(capsys, artifacts["a"], artifacts["same"], "--check-version")
    assert code == 0, out
    assert "summary: 0 added, 0 removed, 0 logic changed, 0 state changed, 26 unchanged" in out
    assert "(artifact) -> churn_features@1.0.0 (artifact)" in out


def test_refit_on_other_data_is_a_state_change(artifacts, capsys):
    report = diff_paths(artifacts["a"], artifacts["refit"])
    got = changes(report)
    assert list(got) == ["state_changed"]
    # exactly the features with fitted state whose training values differ
    assert {"spend_imputed", "spend_bucket", "country_idx", "session_z"} <= set(got["state_changed"])
    assert not {"spend_missing", "customer_hash", "plan_country_cross", "desc_char_len"} & set(got["state_changed"])
    rows = {r["feature"]: r for r in report["features"]}
    assert rows["country_idx"]["detail"].startswith("fitted state of vocab differs")
    # a spec on one side: state is not compared
    spec_side = diff_paths(str(ROOT / "specs" / "churn.yaml"), artifacts["refit"])
    assert changes(spec_side) == {} and spec_side["state_compared"] is False


# ---------------------------------------------------------------- --check-version


def test_check_version_logic_change_without_bump_exits_1(tmp_path, capsys):
    new = variant(tmp_path, "param", ("num_buckets=1024", "num_buckets=2048"))
    code, out = run(capsys, ROOT / "specs" / "churn.yaml", new, "--check-version")
    assert code == 1
    assert "version check: FAILED" in out
    assert "logic changed (features ['customer_hash']) but the version was not bumped (1.0.0 -> 1.0.0)" in out
    code, out = run(capsys, ROOT / "specs" / "churn.yaml", new)  # without the flag: a report, exit 0
    assert code == 0


@pytest.mark.parametrize("version", ["1.0.1", "1.1.0", "2.0.0"])
def test_check_version_any_bump_is_enough_for_logic(tmp_path, capsys, version):
    new = variant(tmp_path, "param", ("num_buckets=1024", "num_buckets=2048"), version=version)
    code, out = run(capsys, ROOT / "specs" / "churn.yaml", new, "--check-version")
    assert code == 0, out


def test_check_version_added_feature_without_bump_exits_1(tmp_path, capsys):
    new = variant(tmp_path, "add", ("  is_promo_int:", "  tenure_log1p: log1p(tenure_days)\n  is_promo_int:"))
    code, out = run(capsys, ROOT / "specs" / "churn.yaml", new, "--check-version", "--format", "json")
    assert code == 1
    check = json.loads(out)["version_check"]
    assert check["ok"] is False and check["logic_changed"] == ["tenure_log1p"]


def test_check_version_lower_version_exits_1(tmp_path, capsys):
    new = variant(tmp_path, "down", ("num_buckets=1024", "num_buckets=2048"), version="0.9.0")
    code, out = run(capsys, ROOT / "specs" / "churn.yaml", new, "--check-version")
    assert code == 1 and "the version went down (1.0.0 -> 0.9.0)" in out


def test_check_version_state_only(artifacts, capsys):
    code, out = run(capsys, artifacts["a"], artifacts["refit"], "--check-version")
    assert code == 1 and "a patch bump is enough" in out
    code, out = run(capsys, artifacts["a"], artifacts["refit_bumped"], "--check-version")
    assert code == 0, out


def test_usage_errors_exit_2(artifacts, tmp_path, capsys):
    sample = tmp_path / "s.parquet"
    make_churn(20, seed=2).to_parquet(sample)
    assert main(["diff", str(ROOT / "specs" / "churn.yaml"), artifacts["a"], "--data", str(sample)]) == 2
    assert "change impact needs two fitted artifacts" in capsys.readouterr().err
    assert main(["diff", str(tmp_path / "missing.yaml"), artifacts["a"]]) == 2


# ---------------------------------------------------------------- change impact

SMALL = """
featurekit: 1
name: small
version: {version}
inputs:
  x: {{type: float}}
  c: {{type: category}}
  y: {{type: float}}
  z: {{type: float}}
features:
  x_bucket: bucketize(x, quantiles=[{q}])
  c_idx: vocab(c, order="frequency")
  y_imp: impute(y, value={fill})
  z_log: log1p(coalesce(z, 0.0))
"""


def small_frame(c_counts: dict[str, int]) -> pd.DataFrame:
    n = 100
    c = [v for v, k in c_counts.items() for _ in range(k)]
    y = [None if i % 5 == 0 else float(i) for i in range(n)]  # 20% missing
    return pd.DataFrame({"x": np.arange(n, dtype=float), "c": c, "y": y, "z": np.arange(n, dtype=float) / 10})


def test_change_impact_reports_the_affected_features_and_shares(tmp_path, capsys):
    old = fk.spec_from_yaml(SMALL.format(version="1.0.0", q=50, fill=0.0))
    new = fk.spec_from_yaml(SMALL.format(version="1.1.0", q=40, fill=-1.0))
    old_fit = old.fit(small_frame({"a": 50, "b": 30, "c": 20}))
    new_fit = new.fit(small_frame({"c": 50, "b": 30, "a": 20}))  # vocabulary refit: a and c swap
    pa_, pb = old_fit.save(tmp_path / "old"), new_fit.save(tmp_path / "new.fkit")
    sample = small_frame({"a": 50, "b": 30, "c": 20})
    sample.to_csv(tmp_path / "sample.csv", index=False)

    report = diff_paths(pa_, pb, check_version=True, data=str(tmp_path / "sample.csv"))
    assert changes(report) == {"logic_changed": ["x_bucket", "y_imp"], "state_changed": ["c_idx"]}
    assert report["version_check"]["ok"] is True
    cols = {c["column"]: c for c in report["impact"]["columns"]}
    assert report["impact"]["rows"] == 100
    # bucket edge moved from the median (49.5) to the 40th percentile (39.6): x = 40..49 change bucket
    assert cols["x_bucket"]["changed_share"] == 0.10 and cols["x_bucket"]["worst_abs_change"] == 1.0
    assert [e["row"] for e in cols["x_bucket"]["examples"]] == [40, 41, 42]
    assert cols["x_bucket"]["examples"][0] == {"row": 40, "old": 0, "new": 1}
    # vocabulary refit: the indices of 'a' and 'c' swap, 'b' keeps its index
    assert cols["c_idx"]["changed_share"] == 0.70
    # imputation constant 0.0 -> -1.0: the 20% missing rows change by exactly 1
    assert cols["y_imp"]["changed_share"] == 0.20 and cols["y_imp"]["worst_abs_change"] == 1.0
    assert cols["y_imp"]["examples"][0] == {"row": 0, "old": 0.0, "new": -1.0}
    # untouched
    assert cols["z_log"]["changed_share"] == 0.0 and cols["z_log"]["examples"] == []
    assert cols["z_log"]["worst_abs_change"] is None

    code, out = run(capsys, pa_, pb, "--data", tmp_path / "sample.csv")
    assert code == 0
    lines = {
        line.split()[0]: line for line in out.splitlines()[out.splitlines().index("change impact on 100 rows:") + 1 :]
    }
    assert "10.00% changed, worst |change| 1" in lines["x_bucket"]
    assert "70.00% changed" in lines["c_idx"]
    assert "20.00% changed" in lines["y_imp"] and "row 0: 0.0 -> -1.0" in lines["y_imp"]
    assert lines["z_log"].split()[1:] == ["0.00%", "changed"]


def test_change_impact_of_a_refit_churn_artifact(artifacts, tmp_path):
    sample = tmp_path / "s.parquet"
    make_churn(400, seed=9, evaluation=True).to_parquet(sample)
    report = diff_paths(artifacts["a"], artifacts["refit"], data=str(sample))
    state_changed = set(changes(report)["state_changed"])
    for col in report["impact"]["columns"]:
        if col["feature"] not in state_changed:
            assert col["changed_share"] == 0.0, col
    cols = {c["column"]: c for c in report["impact"]["columns"]}
    assert cols["spend_z"]["changed_share"] > 0.5


def test_load_side_accepts_spec_dir_and_archive(artifacts):
    assert load_side(str(ROOT / "specs" / "churn.yaml"))[1] is None
    assert load_side(artifacts["a"])[1] is not None
    assert load_side(artifacts["same"])[1] is not None
    text = format_text(diff(load_side(artifacts["a"]), load_side(artifacts["same"])), show_unchanged=True)
    assert "unchanged      spend_imputed" in text
