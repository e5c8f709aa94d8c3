"""Shared fixtures for the scikit-learn and MLflow integration tests (test modules use these
fixtures rather than importing this file, so any pytest import mode works)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import featurekit as fk

MIXED_YAML = """\
featurekit: 1
name: mixed
version: 1.2.0
constants:
  AS_OF: {timestamp: "2026-01-01T00:00:00Z"}
inputs:
  spend: {type: float}
  tenure: {type: int, nullable: false, min: 0}
  country: {type: category}
  active: {type: bool}
  last_ts: {type: timestamp}
features:
  spend_imp: impute(spend, strategy="median")
  spend_z: coalesce(zscore(spend), 0.0)
  per_day: if_else(tenure > 0, spend_imp / tenure, 0.0)
  country_idx: vocab(country, top_k=5)
  is_active: coalesce(active, False)
  days_since: impute(days_between(last_ts, AS_OF), strategy="median")
"""


def mixed_frame(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    spend = rng.gamma(2.0, 20.0, n)
    spend[rng.random(n) < 0.1] = np.nan
    countries = np.array(["SE", "DE", "US", "FR", "NO", "FI", "DK"])
    ts = pd.Timestamp("2025-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    active = pd.array(rng.random(n) < 0.5, dtype="boolean")
    active[rng.random(n) < 0.05] = pd.NA
    return pd.DataFrame(
        {
            "spend": spend,
            "tenure": rng.integers(0, 1000, n),
            "country": pd.Categorical(countries[rng.integers(0, len(countries), n)]),
            "active": active,
            "last_ts": ts,
        }
    )


def mixed_target(df: pd.DataFrame) -> np.ndarray:
    return ((df["spend"].fillna(0) > 40) ^ (df["tenure"] > 500)).astype(int).to_numpy()


@pytest.fixture(scope="session")
def mixed_yaml():
    return MIXED_YAML


@pytest.fixture(scope="session")
def make_frame():
    """``make_frame(n, seed)``: raw rows for the mixed spec (float, int, category, bool, timestamp)."""
    return mixed_frame


@pytest.fixture(scope="session")
def make_target():
    return mixed_target


@pytest.fixture
def mixed_spec():
    return fk.spec_from_yaml(MIXED_YAML)


@pytest.fixture
def mixed_df():
    return mixed_frame()
