"""Docs that are generated or executable stay true."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

from featurekit.docs_gen import op_reference

ROOT = Path(__file__).resolve().parents[2]


def test_op_reference_is_current():
    assert (ROOT / "docs" / "ops.md").read_text(encoding="utf-8") == op_reference(), (
        "docs/ops.md is stale: run `python -m featurekit.docs_gen`"
    )


@pytest.mark.parametrize(
    "module",
    [
        "featurekit",
        "featurekit.values.codec",
        "featurekit.values.hashing",
        "featurekit.values.equality",
        "featurekit.values.frames",
        "featurekit.values.edges",
        "featurekit.parity.shrinking",
        "featurekit._lazy",
        "featurekit.errors",
        "featurekit.registry",
        "featurekit.ir.nodes",
        "featurekit.spec.expr_parser",
        "featurekit.spec.model",
        "featurekit.spec.dsl",
        "featurekit.transform",
        "featurekit.values.rowlib",
        "featurekit.values.parse",
        "featurekit.values.column",
        "featurekit.udf",
        "featurekit.sample",
        "featurekit.ir.ops._util",
        "featurekit.testing.bulk",
        "featurekit.artifact.environment",
        "featurekit.artifact.golden",
        "featurekit.artifact.export",
        "featurekit.artifact.verify",
        "featurekit.compile.row",
        "featurekit.state_schema",
        "featurekit.types",
    ],
)
def test_docstring_examples_run(module):
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


def test_every_op_documents_its_null_rule_and_tolerance():
    from featurekit import registry

    for op in registry.all_ops():
        assert "Null" in op.doc or "null" in op.doc, op.name
        assert "Tolerance" in op.doc, op.name
