"""Docs that are generated or executable stay true."""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

import featurekit
from featurekit.docs_gen import op_reference

ROOT = Path(__file__).resolve().parents[2]


def test_op_reference_is_current():
    assert (ROOT / "docs" / "ops.md").read_text(encoding="utf-8") == op_reference(), (
        "docs/ops.md is stale: run `python -m featurekit.docs_gen`"
    )


DOCTESTS_ELSEWHERE = {
    "featurekit.engines.spark": "its examples need a Spark session: tests/engines/test_spark_engine.py runs them",
}
MODULES = ["featurekit"] + sorted(
    m.name for m in pkgutil.walk_packages(featurekit.__path__, "featurekit.") if m.name not in DOCTESTS_ELSEWHERE
)


@pytest.mark.parametrize("module", MODULES)
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_every_op_documents_its_null_rule_and_tolerance():
    from featurekit import registry

    for op in registry.all_ops():
        assert "Null" in op.doc or "null" in op.doc, op.name
        assert "Tolerance" in op.doc, op.name
