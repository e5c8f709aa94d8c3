"""The Dask engine: fit and transform a Dask DataFrame, partition by partition.

Partitions are pandas frames, so the pandas batch path runs on them unchanged.

* **Fit** runs the same passes as :func:`featurekit.fit.fit`: for each pass, one delayed
  :func:`~featurekit.fit.accumulate` per partition, merged in a tree of fan-in
  ``split_every`` with :func:`~featurekit.fit.merge`, computed, then finalized on the client
  (:func:`~featurekit.fit.finish_pass`).
  Every built-in analyzer merges exactly, so the state (and the fingerprint) is identical to
  a pandas fit for any partitioning. ``dask.dataframe.quantile`` is never used. The first
  pass also takes each partition's share of the training sample (:mod:`featurekit.sample`).
* **Transform** is lazy: ``ddf.map_partitions`` of :func:`featurekit.engines.pandas.transform_frame`
  with ``meta`` built by transforming the zero-row input meta, so columns and dtypes are exactly
  those of the pandas path.

This module imports Dask at import time; the rest of featurekit imports it only through
:func:`featurekit.fit.fit` / ``FittedTransform.transform`` when given a Dask DataFrame.
"""

from __future__ import annotations

import contextlib
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import dask
import pandas as pd

from featurekit.engines._protocol import is_dask_dataframe
from featurekit.fit import (
    MAX_VIOLATION_RATE,
    accumulate,
    analyzers_for,
    check_analyzers_saw_values,
    count_passes,
    create,
    finish_pass,
    fit_levels,
    graph_roots,
    merge,
    report_violations,
)
from featurekit.sample import combine, partition_sample

if TYPE_CHECKING:
    from featurekit.spec.model import Spec
    from featurekit.transform import FittedTransform

NAME = "dask"
SPLIT_EVERY = 8

__all__ = ["NAME", "accepts", "fit", "transform", "fit_dask", "transform_dask", "is_dask_dataframe"]


def accepts(data: Any) -> bool:
    return is_dask_dataframe(data)


# -- fit -------------------------------------------------------------------------------------


_SPEC_CACHE: dict[str, Spec] = {}


class _SpecRef:
    """A picklable reference to a spec: its plain-data form, rebuilt once per worker process.

    IR nodes (and so a ``Spec``, which holds its graph) do not pickle; ``Spec.to_dict()`` does,
    and rebuilding it gives the same graph, checked by fingerprint. Nodes travel as their keys.
    """

    def __init__(self, spec: Spec) -> None:
        self._spec: Spec | None = spec
        self.data = spec.to_dict()
        self.fingerprint = spec.fingerprint
        self._nodes: dict[str, Any] | None = None

    def __getstate__(self) -> dict:
        return {"data": self.data, "fingerprint": self.fingerprint}

    def __setstate__(self, d: dict) -> None:
        self.__dict__.update(d, _spec=None, _nodes=None)

    def __dask_tokenize__(self) -> Any:
        return ("featurekit-spec", self.fingerprint)

    def spec(self) -> Spec:
        if self._spec is None:
            spec = _SPEC_CACHE.get(self.fingerprint)
            if spec is None:
                from featurekit.errors import FitError
                from featurekit.spec.model import spec_from_dict

                spec = spec_from_dict(self.data)
                if spec.fingerprint != self.fingerprint:  # e.g. a UDF registered differently here
                    raise FitError(
                        f"dask worker: the spec rebuilt on the worker has fingerprint "
                        f"{spec.fingerprint[:12]}, not {self.fingerprint[:12]}\n  Fix: register "
                        "the same UDFs on every worker (import the module that defines them)"
                    )
                _SPEC_CACHE[self.fingerprint] = spec
            self._spec = spec
        return self._spec

    def nodes(self, keys: Sequence[str]) -> list:
        if self._nodes is None:
            from featurekit.ir.nodes import walk

            self._nodes = {n.key: n for n in walk(graph_roots(self.spec()))}
        return [self._nodes[k] for k in keys]


def _sample_part(ref: _SpecRef, pdf: pd.DataFrame, partitions: int) -> list[dict]:
    """The partition's share of the training sample (first pass only; see featurekit.sample)."""
    if not partitions:
        return []
    return partition_sample(pdf, [i.name for i in ref.spec().inputs], partitions)


Part = tuple[dict, int, list[list[dict]], dict[str, dict[str, int]]]
"""``(accumulators, rows, [sample rows], contract-violation tally)`` of one or more partitions."""


def _accumulate_part(
    ref: _SpecRef, keys: list[str], state: dict, analyzers: dict, pdf: pd.DataFrame, sample_of: int = 0
) -> Part:
    """One partition's :data:`Part`; ``sample_of`` partitions share the sample (0: none, as in
    every pass but the first)."""
    tally: dict[str, dict[str, int]] = {}
    accs = accumulate(ref.spec(), ref.nodes(keys), state, pdf, analyzers=analyzers, tally=tally if sample_of else None)
    return accs, len(pdf), [_sample_part(ref, pdf, sample_of)], tally


def _merge_parts(ref: _SpecRef, keys: list[str], analyzers: dict, parts: Sequence[Part]) -> Part:
    if len(parts) == 1:
        return parts[0]
    tally: dict[str, dict[str, int]] = {}
    for part in parts:
        for name, kinds in part[3].items():
            counts = tally.setdefault(name, {})
            for kind, n in kinds.items():
                counts[kind] = counts.get(kind, 0) + n
    return (
        merge(ref.spec(), ref.nodes(keys), [p[0] for p in parts], analyzers),
        sum(p[1] for p in parts),
        [s for p in parts for s in p[2]],
        tally,
    )


def _count_rows(ref: _SpecRef, pdf: pd.DataFrame, sample_of: int) -> tuple[int, list[list[dict]]]:
    return len(pdf), [_sample_part(ref, pdf, sample_of)]


def _tree(func: Callable, leaves: list, split_every: int, *args: Any) -> Any:
    """Reduce delayed ``leaves`` with ``func(*args, group)`` in a tree of fan-in ``split_every``."""
    level = 0
    while len(leaves) > 1:
        level += 1
        leaves = [
            dask.delayed(func, pure=True)(
                *args, leaves[i : i + split_every], dask_key_name=f"featurekit-merge-{level}-{i}-{uuid.uuid4().hex}"
            )
            for i in range(0, len(leaves), split_every)
        ]
    return leaves[0]


def _default_client() -> Any:
    if "distributed" not in sys.modules:
        return None
    from distributed import default_client

    try:
        return default_client()
    except ValueError:
        return None


def _compute(obj: Any, progress_bar: bool = False) -> Any:
    """Compute one delayed object on the active scheduler, with an optional bar on stderr."""
    client = _default_client()
    if client is None:
        if progress_bar:
            from dask.diagnostics import ProgressBar

            with ProgressBar(out=sys.stderr):
                return dask.compute(obj)[0]
        return dask.compute(obj)[0]
    future = client.compute(obj)
    if progress_bar:
        from distributed import progress as _progress

        with contextlib.redirect_stdout(sys.stderr):
            _progress(future)
        print(file=sys.stderr)
    return future.result()


def _named(obj: Any, kind: str) -> Any:
    """``obj`` as one graph node, so it is shipped once instead of embedded in every task."""
    return dask.delayed(obj, name=f"featurekit-{kind}-{uuid.uuid4().hex}")


def fit_dask(
    spec: Spec,
    ddf: Any,
    *,
    progress: Callable[[str], None] | None = None,
    split_every: int = SPLIT_EVERY,
    progress_bar: bool = False,
    max_violation_rate: float = MAX_VIOLATION_RATE,
) -> FittedTransform:
    """Fit ``spec`` on a Dask DataFrame; same state as ``spec.fit(ddf.compute())``.

    Runs one Dask computation per fit pass (the number of passes is the depth of the spec's
    analyzer chains, plus one per depth with a two-pass analyzer). Between passes only the
    small frozen state (and a two-pass analyzer's first-pass result) travels to the workers.
    Missing columns, empty analyzers and contract violations are checked as in
    :func:`featurekit.fit.fit` (violations are counted in the first pass).
    """
    from featurekit.transform import FittedTransform

    if split_every < 2:
        raise ValueError("split_every must be >= 2")
    started = time.perf_counter()
    partitions = ddf.to_delayed()
    n_parts = len(partitions)
    spec_d = _named(_SpecRef(spec), "spec")
    state: dict[str, dict] = {}
    rows: int | None = None
    samples: list[list[dict]] = []
    tally: dict[str, dict[str, int]] = {}
    total = count_passes(spec)
    level = 0
    for nodes in fit_levels(graph_roots(spec)):
        analyzers = analyzers_for(nodes)
        while analyzers:  # one pass, or more for two-pass analyzers (bounded vocabularies)
            level += 1
            pending = [n for n in nodes if n.key in analyzers]
            if progress:
                progress(f"fit pass {level}/{total}: {len(pending)} analyzer(s) over {n_parts} partition(s) ...")
            nodes_d = _named([n.key for n in pending], f"nodes{level}")
            state_d = _named(dict(state), f"state{level}")
            analyzers_d = _named(analyzers, f"analyzers{level}")
            leaves = [
                dask.delayed(_accumulate_part, pure=True)(
                    spec_d,
                    nodes_d,
                    state_d,
                    analyzers_d,
                    part,
                    n_parts if level == 1 else 0,
                    dask_key_name=f"featurekit-accumulate-{level}-{i}-{uuid.uuid4().hex}",
                )
                for i, part in enumerate(partitions)
            ]
            if leaves:
                accs, rows, part_samples, counted = _compute(
                    _tree(_merge_parts, leaves, split_every, spec_d, nodes_d, analyzers_d), progress_bar
                )
                if level == 1:
                    samples, tally = part_samples, counted
            else:
                accs, rows = create(spec, pending, analyzers), 0
            analyzers = finish_pass(spec, pending, analyzers, accs, state)
            if progress:
                progress(f"fit pass {level}/{total}: {len(pending)} analyzer(s) over {rows:,} rows")
    if rows is None:  # no analyzers: just count the rows (and take the sample)
        counts = [dask.delayed(_count_rows, pure=True)(spec_d, p, n_parts) for p in partitions]
        rows, samples = _compute(_tree(_sum_counts, counts, split_every), progress_bar) if counts else (0, [])
    report_violations(tally, int(rows), max_violation_rate)
    check_analyzers_saw_values(spec, state, int(rows))
    info: dict[str, Any] = {
        "rows": int(rows),
        "seconds": round(time.perf_counter() - started, 6),
        "engine": "dask",
        "partitions": n_parts,
    }
    if tally:
        info["violations"] = tally
    fitted = FittedTransform(spec, state, fit_info=info)
    fitted.sample_ = combine(samples)
    return fitted


def _sum_counts(group: Sequence[tuple[int, list[list[dict]]]]) -> tuple[int, list[list[dict]]]:
    return sum(g[0] for g in group), [s for g in group for s in g[1]]


# -- transform -------------------------------------------------------------------------------


_FITTED_CACHE: dict[str, FittedTransform] = {}


class _PartitionTransformer:
    """Picklable ``transform_frame(fitted, pdf)``: ships spec and state, rebuilds on the worker.

    A ``FittedTransform`` holds a compiled row function that plain pickle cannot serialize; the
    spec and the JSON-able state can. Each worker process rebuilds (and caches by fingerprint)
    the fitted transform once.
    """

    def __init__(self, fitted: FittedTransform, keep: Sequence[str] = ()) -> None:
        self._fitted: FittedTransform | None = fitted
        self.fingerprint = fitted.fingerprint
        self.spec = _SpecRef(fitted.spec)
        self.state = fitted.state_
        self.fit_info = fitted.fit_info_
        self.keep = tuple(keep)

    def __getstate__(self) -> dict:
        d = dict(self.__dict__)
        d["_fitted"] = None
        return d

    def __dask_tokenize__(self) -> Any:
        return ("featurekit-transform", self.fingerprint, self.keep)

    def fitted(self) -> FittedTransform:
        if self._fitted is None:
            cached = _FITTED_CACHE.get(self.fingerprint)
            if cached is None:
                from featurekit.transform import FittedTransform

                cached = _FITTED_CACHE[self.fingerprint] = FittedTransform(
                    self.spec.spec(), self.state, fit_info=self.fit_info
                )
            self._fitted = cached
        return self._fitted

    def __call__(self, pdf: pd.DataFrame) -> pd.DataFrame:
        from featurekit.engines.pandas import transform_frame

        out = transform_frame(self.fitted(), pdf)
        if self.keep:
            kept = pd.DataFrame({c: pdf[c] for c in self.keep}, index=pdf.index)
            out = pd.concat([kept, out], axis=1)
        return out


def transform_dask(fitted: FittedTransform, ddf: Any, *, keep: Sequence[str] = ()) -> Any:
    """Lazy batch transform of a Dask DataFrame: same columns, dtypes and index as pandas.

    ``keep`` names input columns to copy in front of the features (e.g. an id).
    """
    func = _PartitionTransformer(fitted, keep)
    meta = func(ddf._meta)  # zero rows with the input dtypes -> the exact output dtypes
    return ddf.map_partitions(func, meta=meta, token="featurekit-transform")


fit = fit_dask
transform = transform_dask
