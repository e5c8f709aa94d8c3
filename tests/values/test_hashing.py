"""The one hash: every fingerprint pinned to its value from before the hashing was unified."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import featurekit as fk
from featurekit.artifact.manifest import manifest_digest
from featurekit.values import codec
from featurekit.values.hashing import canonical_json, fingerprint, sha256_hex, state_fingerprint, transform_fingerprint

GOLDEN = Path(__file__).parent.parent / "artifact" / "golden" / "churn_v1"

# computed at 1de390b, before spec/ir/artifact/transform/compile hashed through values.hashing
PINNED = {
    "spec": "60b37ed0cf20a8c1cfe3d3aa60d11c961a2f411b8e6a7e082649d95ad8239cb9",
    "state": "3409cb6bd3b1c6753fc80a1ca7fae0e47bb4d29f0a38e58d25c0b5f328ddbb6f",
    "transform": "41f7cf088a9c6c7293795895668a93bf4cd3a8daca69e1d6ab9d5a4bf2761d46",
    "country_idx": "a0c0f6368ff29ead964618a95bb2c67f9239f4694fc4b2578b9b71341dad63fc",
    "customer_hash": "c1c0fed58c58baff9fc42ea61c65dcb4a73f7dfc3f9283778ce47fcffe9561cf",
    "first_contract": "75ae73355994f9701e54ca426362ec209bf620652c72cfe33047f71a597d799f",
    "manifest": "3b620496d44a4fb1393d9fa7badb30c9b66bfb47193e4534b4ddb0c38cf343fd",
}


@pytest.fixture(scope="module")
def golden() -> fk.FittedTransform:
    return fk.load(str(GOLDEN))


def test_fingerprints_are_unchanged(golden):
    assert golden.spec.fingerprint == PINNED["spec"]
    assert golden.spec.graph.fingerprint == PINNED["spec"]
    assert golden.state_fingerprint == PINNED["state"]
    assert golden.fingerprint == PINNED["transform"]
    assert golden.spec.feature_fingerprints["country_idx"] == PINNED["country_idx"]
    assert golden.spec.feature_fingerprints["customer_hash"] == PINNED["customer_hash"]
    assert golden.spec.inputs[0].contract_key() == PINNED["first_contract"]


def test_manifest_digest_is_unchanged():
    manifest = json.loads((GOLDEN / "manifest.json").read_text())
    assert manifest["manifest_sha256"] == PINNED["manifest"] == manifest_digest(manifest)


def test_state_and_transform_fingerprints_are_the_hashing_functions(golden):
    assert state_fingerprint(golden.state_) == golden.state_fingerprint
    assert transform_fingerprint(golden.spec.fingerprint, golden.state_) == golden.fingerprint


def test_row_path_logs_the_transform_fingerprint(golden):
    seen = []
    rows = codec.loads((GOLDEN.parent / "churn_v1_expected.json").read_text())["rows"]
    golden.transform_row(rows[0], log=lambda row, out, fp, inputs: seen.append(fp))
    assert seen == [golden.fingerprint]


def test_canonical_json_layouts():
    assert canonical_json({"b": 1, "a": [1, 2]}) == '{"a":[1,2],"b":1}'
    assert canonical_json({"b": 1, "a": [1, 2]}, spaced=True) == '{"a": [1, 2], "b": 1}'
    assert fingerprint({"a": 1}) == sha256_hex('{"a": 1}') == sha256_hex(b'{"a": 1}')
    with pytest.raises(ValueError):
        canonical_json([float("nan")])
    with pytest.raises(TypeError):
        canonical_json([object()])
    assert canonical_json([(1, 2)], default=list) == "[[1,2]]"
