"""Shared pytest configuration: Hypothesis profiles and the ``--run-slow`` option."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

from featurekit.testing import register_test_udf

settings.register_profile(
    "ci",
    deadline=None,
    print_blob=True,
    derandomize=True,
    max_examples=200,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", max_examples=50, deadline=None)
# HYPOTHESIS_PROFILE=nightly: long fuzz runs (tests/reliability/test_fuzz_specs.py runs all
# 10,000 examples here; in the ci and dev profiles it caps itself at a short run)
settings.register_profile(
    "nightly",
    deadline=None,
    print_blob=True,
    max_examples=10_000,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))

# the udf op's conformance cases call featurekit_test_scale
register_test_udf()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--run-slow", action="store_true", default=False, help="run tests marked @pytest.mark.slow")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.getoption("--run-slow"):
        return
    skip = pytest.mark.skip(reason="slow: pass --run-slow to run")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
