"""Engine parity in both fitting modes: pandas, chunked pandas and Dask (1/3/7/16 partitions)
fit the identical state and fingerprint, and transform to the pandas path's frame exactly.

Runs every spec in ``specs/`` on its synthetic data twice: as written (exact quantiles and
vocabularies), and with every quantile-based op given ``approx=0.001`` and every count-based
op ``bounded=`` (small enough that the bounded tables leave values out). Dask runs on the real
two-worker ``LocalCluster`` of ``tests/engines/conftest.py``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

dd = pytest.importorskip("dask.dataframe")
pytest.importorskip("distributed")

import featurekit as fk  # noqa: E402
from featurekit.datasets import make_churn  # noqa: E402
from featurekit.ir.nodes import Call, to_source  # noqa: E402
from featurekit.spec.expr_parser import parse  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
EPS = 0.001
ROWS = {"churn": 12_000, "fraud": 8_000, "listings": 8_000}
MODES = ("exact", "approx")
CASES = [(name, mode) for name in ROWS for mode in MODES]


def _gallery_importer(root: str):
    """A function making ``examples.spec_gallery`` importable and registering the fraud spec's
    UDF in the process that calls it (built here so Dask pickles it by value for the workers)."""

    def register() -> None:
        import sys as _sys

        if root not in _sys.path:
            _sys.path.insert(0, root)
        if "examples.spec_gallery.fraud_udfs" in _sys.modules:
            return
        import types

        import featurekit as _fk

        if isinstance(_fk.udf, types.ModuleType):
            # featurekit versions that bind fk.udf lazily leave the submodule there once it is
            # imported, not the decorator fraud_udfs.py applies (fixed upstream by binding it early)
            _fk.udf = _fk.udf.udf
        import examples.spec_gallery.fraud_udfs  # noqa: F401  (registers round_amount_score)

    return register


_import_gallery = _gallery_importer(str(ROOT))


def _frame(name: str, rows: int) -> pd.DataFrame:
    if name == "churn":
        return make_churn(rows, seed=17)
    _import_gallery()
    from examples.spec_gallery import data

    return getattr(data, f"make_{name}")(rows, seed=17)


def _bounded(expr):
    """``expr`` with approx= on quantile-based ops and bounded= on count-based ops."""
    if not isinstance(expr, Call):
        return expr
    params = dict(expr.params)
    quantile_based = (
        expr.op == "robust_scale"
        or (expr.op == "clip" and {"lower_pct", "upper_pct"} & set(params))
        or (expr.op == "bucketize" and "quantiles" in params)
        or (expr.op == "impute" and params.get("strategy") == "median")
    )
    if quantile_based:
        params["approx"] = EPS
    if expr.op in ("vocab", "one_hot", "frequency"):
        params["bounded"] = max(params.get("top_k") or 0, 6)
    return Call(expr.op, tuple(_bounded(a) for a in expr.args), tuple(sorted(params.items())))


def approx_variant(spec: fk.Spec) -> fk.Spec:
    data = spec.to_dict()
    for name, feature in data["features"].items():
        if isinstance(feature, dict):
            feature["expr"] = to_source(_bounded(parse(feature["expr"])))
        else:
            data["features"][name] = to_source(_bounded(parse(feature)))
    return fk.spec_from_dict(data)


_CACHE: dict = {}


def case(name: str, mode: str, rows: int | None = None):
    """(spec, frame, pandas fit) for one spec and mode (``rows`` rows, default ``ROWS[name]``),
    built once per test process."""
    rows = rows or ROWS[name]
    if (name, mode, rows) not in _CACHE:
        if name == "fraud":
            _import_gallery()
        spec = fk.load_spec(str(ROOT / "specs" / f"{name}.yaml"))
        if mode == "approx":
            spec = approx_variant(spec)
        frame = _frame(name, rows)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", fk.ApproximationWarning)  # small bounded= on purpose
            _CACHE[name, mode, rows] = spec, frame, spec.fit(frame)
    return _CACHE[name, mode, rows]


@pytest.fixture(scope="module")
def gallery_client(client):
    client.run(_gallery_importer(str(ROOT)))
    return client


def test_approx_variant_declares_its_bounds_in_the_fingerprint():
    exact, _, _ = case("churn", "exact")
    approx = approx_variant(exact)
    assert "approx=0.001" in approx.features[0].source and approx.fingerprint != exact.fingerprint
    before, after = exact.feature_fingerprints, approx.feature_fingerprints
    for changed in ("spend_imputed", "spend_clipped", "spend_bucket", "days_since_last_login", "country_idx"):
        assert before[changed] != after[changed], changed
    for same in ("signup_hour", "customer_hash", "desc_token_count"):
        assert before[same] == after[same], same


@pytest.mark.filterwarnings("ignore::featurekit.errors.ApproximationWarning")
@pytest.mark.parametrize("name,mode", CASES)
def test_chunked_fit_is_identical(name, mode):
    spec, frame, whole = case(name, mode)
    chunks = [frame.iloc[i : i + 2_501] for i in range(0, len(frame), 2_501)]
    fitted = spec.fit(chunks)
    assert fitted.state_ == whole.state_
    assert fitted.fingerprint == whole.fingerprint


@pytest.mark.filterwarnings("ignore::featurekit.errors.ApproximationWarning")
@pytest.mark.parametrize("npartitions", [1, 3, 7, 16])
@pytest.mark.parametrize("name,mode", CASES)
def test_dask_fit_is_identical_and_transforms_equal_pandas(gallery_client, name, mode, npartitions):
    spec, frame, whole = case(name, mode)
    ddf = dd.from_pandas(frame, npartitions=npartitions, sort=False)
    assert ddf.npartitions == npartitions
    fitted = spec.fit(ddf)
    assert fitted.fit_info_["engine"] == "dask"
    assert fitted.state_ == whole.state_
    assert fitted.fingerprint == whole.fingerprint
    got = fitted.transform(ddf).compute()
    pd.testing.assert_frame_equal(
        got.reset_index(drop=True), whole.transform(frame).reset_index(drop=True), check_exact=True
    )


def test_bounded_mode_left_values_out_and_says_so():
    """The approx variant really exercises the bounded paths: some table is pruned, and the
    state records by how much."""
    spec, _, fitted = case("churn", "approx")
    graph = spec.graph
    country = fitted.state_[graph.features["country_idx"].key]
    assert country["count_bound"] > 0 and "certain" in country
    assert len(country["vocab"]) == 50
