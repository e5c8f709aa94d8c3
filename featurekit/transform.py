"""The fitted transform: a spec plus frozen state, with both compiled paths.

``transform(df)`` is the batch path (pandas in, pandas out); ``transform_row(dict)`` and
``transform_rows(list)`` are the row path (plain Python, compiled once here). Importing this
module, loading an artifact and calling the row path never import pandas or numpy. A fitted
transform copies and pickles as its spec and state (the row function is compiled again).
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import featurekit.ir.ops  # noqa: F401  (registers the built-in ops this module looks up)
from featurekit import registry
from featurekit.compile.row import compile_row
from featurekit.ir.nodes import CallNode
from featurekit.registry import Params
from featurekit.spec.model import Spec, bind_fitter
from featurekit.spec.ref import SpecRef
from featurekit.types import DType
from featurekit.values.hashing import state_fingerprint, transform_fingerprint

if TYPE_CHECKING:
    import pandas as pd


class RowFunction(Protocol):
    """The signature of :attr:`FittedTransform.transform_row`."""

    def __call__(self, row: Mapping[str, Any], /, log: Callable[..., Any] | None = None) -> dict[str, Any]: ...


class FittedTransform:
    """A spec with frozen fitted state; build it with ``spec.fit(df)`` or ``featurekit.load``.

    Attributes ending in ``_`` are learned at fit time: ``state_`` (node key -> state),
    ``fit_info_`` (rows, seconds, engine).

    ``transform_row(row, log=sink)`` also calls ``sink(row, out, fingerprint, inputs)`` after
    each call (a :class:`featurekit.ServingLogger`, or any callable of that signature; the
    protocol and its failure policy are in :mod:`featurekit.logger`).

    >>> import featurekit as fk
    >>> spec = fk.spec_from_yaml('''
    ... featurekit: 1
    ... name: demo
    ... version: 0.1.0
    ... inputs: {x: {type: float}}
    ... features:
    ...   x_z: coalesce(zscore(x), 0.0)
    ... ''')
    >>> fitted = spec.fit([{"x": 1.0}, {"x": 3.0}])
    >>> fitted.transform_row({"x": 3.0}), fitted.transform_row({})
    ({'x_z': 1.0}, {'x_z': 0.0})
    """

    baseline_: dict[str, Any] | None = None
    """Training baseline statistics (:mod:`featurekit.baseline`); None when not computed/saved."""
    sample_: list[dict[str, Any]] | None = None
    """Training rows kept by fit (a systematic sample, :mod:`featurekit.sample`), recorded with
    the row path's outputs as golden vectors when saved; None when not fitted here."""
    golden_: Any = None
    """The golden vectors of the artifact this was loaded from
    (:class:`featurekit.artifact.golden.GoldenVectors`); None otherwise."""

    def __init__(self, spec: Spec, state: Mapping[str, dict], *, fit_info: Mapping[str, Any] | None = None) -> None:
        self.spec = spec
        self.state_ = copy.deepcopy(dict(state))
        self.fit_info_ = dict(fit_info or {})
        graph = spec.graph
        self._graph = graph
        from featurekit.state_schema import validate_state

        validate_state(spec, self.state_)
        self.output_names = {f: self._columns_of(f) for f in graph.outputs}
        self._check_unique_columns()
        label = f"{spec.name}@{spec.version} fp={self.fingerprint[:12]}"
        self._row_fn, self.row_source = compile_row(graph, self.state_, spec, self.output_names, label)
        self._trace_fn: Any = None

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # copy.deepcopy and pickle: rebuild from spec, state and fit info (compiling the row
        # function again), never copy the compiled function or the graph's nodes
        return (_rebuild, (self.spec, self.state_, self.fit_info_, self.baseline_))

    # -- identity -------------------------------------------------------------------------

    @property
    def state_fingerprint(self) -> str:
        return state_fingerprint(self.state_)

    @property
    def fingerprint(self) -> str:
        """Content hash of logic and fitted state together (what a model should pin)."""
        return transform_fingerprint(self.spec.fingerprint, self.state_)

    @property
    def pin(self) -> str:
        """``name@version#fingerprint``, the string ``featurekit.load(expect=...)`` checks."""
        return f"{self.spec.name}@{self.spec.version}#{self.fingerprint}"

    def __repr__(self) -> str:
        return (
            f"FittedTransform({self.spec.name}@{self.spec.version}, {len(self.output_columns)} columns, "
            f"fp={self.fingerprint[:12]})"
        )

    # -- schema ---------------------------------------------------------------------------

    def _columns_of(self, feature: str) -> list[str]:
        node = self._graph.features[feature]
        if isinstance(node, CallNode):
            op = registry.get(node.op)
            if op.outputs is not None:
                return op.outputs(feature, Params(dict(node.params)), self.state_.get(node.key))
        return [feature]

    def _check_unique_columns(self) -> None:
        """Refuse two features producing one column name (the spec check covers declared
        prefixes; this one covers the names fit actually produced)."""
        owner: dict[str, str] = {}
        for feature, cols in self.output_names.items():
            for col in cols:
                if col in owner:
                    from featurekit.errors import SpecError

                    first = owner[col]
                    raise SpecError.at(
                        f"features {first!r} and {feature!r} both produce the output column {col!r}",
                        path=self.spec.path,
                        feature=feature,
                        fix="rename one of them, or give a one_hot feature a prefix= that no "
                        "other output column starts with",
                    )
                owner[col] = feature

    @property
    def output_columns(self) -> list[str]:
        """Output column names, in order (a one-hot feature contributes several)."""
        return [c for f in self._graph.outputs for c in self.output_names[f]]

    @property
    def output_types(self) -> dict[str, str]:
        """Column -> ``int``/``float``/``bool``/``str``/``timestamp`` plus ``?`` when it may be null."""
        out = {}
        for feature in self._graph.outputs:
            node = self._graph.features[feature]
            for col in self.output_names[feature]:
                out[col] = node.dtype.value + ("?" if node.nullable and node.dtype is not DType.FLOAT else "")
        return out

    # -- the two paths ----------------------------------------------------------------------

    def transform(self, data: Any) -> pd.DataFrame:
        """Batch path: a DataFrame (or list of row dicts) in, a DataFrame of features out.

        The input is never mutated; the output keeps the input's index. Another engine's frame
        (a Dask DataFrame) gives that engine's frame of features, lazily where the engine is
        lazy, with the same columns and dtypes.
        """
        from featurekit.engines import engine_for
        from featurekit.engines.pandas import transform_frame

        try:
            engine = engine_for(data)
        except TypeError:
            engine = None
        if engine is None or engine.name == "pandas":
            return transform_frame(self, data)  # refuses what is not a frame, with the fix
        fn = FrameTransform(self)
        return engine.map_frames(data, fn, fn.meta())

    def trace_row(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """Every intermediate value of the row path for ``row``, by node key (for debugging)."""
        if self._trace_fn is None:
            label = f"{self.spec.name}@{self.spec.version} fp={self.fingerprint[:12]}"
            self._trace_fn, _ = compile_row(self._graph, self.state_, self.spec, self.output_names, label, trace=True)
        return self._trace_fn(row)

    @functools.cached_property
    def transform_row(self) -> RowFunction:
        """Row path: ``transform_row(row, log=None)``, one row dict in, one feature dict out.

        Plain Python (no pandas or numpy); the input is never mutated and missing keys count as
        null. A value that breaks an input's contract raises a
        :class:`~featurekit.errors.ContractError` (or becomes what the input's
        ``on_violation`` says). ``log=sink`` also calls ``sink(row, out, fingerprint, inputs)``
        after the call (:mod:`featurekit.logger`). It is the function generated for this
        transform (its source is :attr:`row_source`), bound once per instance: calling it
        costs no wrapper.
        """
        return self._row_fn

    def transform_rows(self, rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Row path over many rows: ``[transform_row(r) for r in rows]``."""
        fn = self._row_fn
        return [fn(r) for r in rows]

    # -- persistence ----------------------------------------------------------------------

    def save(self, path: str, *, golden: int = 256, golden_sample: bool = True) -> str:
        """Write the artifact directory (manifest, spec, state, golden vectors) and return its path.

        ``golden`` vectors (inputs with the row path's exact outputs) are recorded for
        ``featurekit verify``: training rows from ``sample_`` (left out with
        ``golden_sample=False``, e.g. when training rows must not leave their environment)
        and generated edge rows.
        """
        from featurekit.artifact.save import save

        return save(self, path, golden=golden, golden_sample=golden_sample)

    def describe(self) -> str:
        """Features, types, null rules, fitted state summary and fingerprints, as text."""
        from featurekit.describe import describe_fitted

        return describe_fitted(self)

    def state_by_feature(self) -> dict[str, list[dict[str, Any]]]:
        """Readable state: for each feature, the analyzed ops it uses and what they learned."""
        from featurekit.ir.nodes import walk

        out: dict[str, list[dict[str, Any]]] = {}
        for feature in self._graph.outputs:
            items = []
            for node in walk([self._graph.features[feature]]):
                if isinstance(node, CallNode) and node.key in self.state_:  # state belongs to op nodes
                    items.append({"op": node.op, "params": dict(node.params), "state": self.state_[node.key]})
            out[feature] = items
        return out


_FITTED: dict[str, FittedTransform] = {}  # fingerprint -> fitted transform rebuilt in this process


class FrameTransform:
    """The batch path of a fitted transform as a picklable ``pandas frame -> pandas frame``
    function, for engines that run it in other processes (:meth:`Engine.map_frames`).

    A ``FittedTransform`` holds a compiled row function that plain pickle cannot serialize; the
    spec (as a :class:`~featurekit.spec.ref.SpecRef`) and the JSON-able state can. Each process
    rebuilds (and caches by fingerprint) the fitted transform once. ``keep`` names input columns
    copied in front of the features (e.g. an id).
    """

    def __init__(self, fitted: FittedTransform, keep: Sequence[str] = ()) -> None:
        self._fitted: FittedTransform | None = fitted
        self.fingerprint = fitted.fingerprint
        self.spec = SpecRef(fitted.spec)
        self.state = fitted.state_
        self.fit_info = fitted.fit_info_
        self.keep = tuple(keep)

    def __getstate__(self) -> dict[str, Any]:
        return {**self.__dict__, "_fitted": None}

    def __dask_tokenize__(self) -> Any:
        return ("featurekit-transform", self.fingerprint, self.keep)

    def fitted(self) -> FittedTransform:
        if self._fitted is None:
            cached = _FITTED.get(self.fingerprint)
            if cached is None:
                cached = _FITTED[self.fingerprint] = FittedTransform(
                    self.spec.spec(), self.state, fit_info=self.fit_info
                )
            self._fitted = cached
        return self._fitted

    def __call__(self, pdf: pd.DataFrame) -> pd.DataFrame:
        import pandas as pd

        from featurekit.engines.pandas import transform_frame

        out = transform_frame(self.fitted(), pdf)
        if self.keep:
            kept = pd.DataFrame({c: pdf[c] for c in self.keep}, index=pdf.index)
            out = pd.concat([kept, out], axis=1)
        return out

    def meta(self, empty: pd.DataFrame | None = None) -> pd.DataFrame:
        """The output on zero rows (columns and dtypes): of ``empty`` (zero input rows with
        the data's dtypes) or of zero rows of the spec's inputs (the output dtypes depend on
        the spec alone; kept columns are then object columns)."""
        if empty is None:
            from featurekit.values.frames import object_frame

            empty = object_frame([], [*(i.name for i in self.spec.spec().inputs), *self.keep])
        return self(empty)


def fit(spec: Spec, data: Any, *, engine: Any = None, **options: Any) -> FittedTransform:
    """Fit ``spec`` on ``data`` (see :meth:`featurekit.spec.model.Spec.fit`): the engine that
    accepts ``data`` (or ``engine``, an engine instance) runs the passes of
    :func:`featurekit.fit.run`."""
    from featurekit.engines import engine_for
    from featurekit.errors import FitError
    from featurekit.fit import run
    from featurekit.values.frames import object_frame

    if isinstance(data, list) and (not data or isinstance(data[0], Mapping)):
        data = object_frame(data, [i.name for i in spec.inputs])
    if engine is None:
        try:
            engine = engine_for(data)
        except TypeError as exc:
            raise FitError(
                f"fit: cannot read training data of type {type(data).__name__}\n  Fix: pass a pandas DataFrame, a "
                f"list of row dicts, or data an engine accepts ({exc})"
            ) from None
    result = run(spec, engine, data, **options)
    fitted = FittedTransform(spec, result.state, fit_info=result.info)
    fitted.baseline_ = result.baseline
    fitted.sample_ = result.sample
    return fitted


def _rebuild(
    spec: Spec, state: Mapping[str, dict], fit_info: Mapping[str, Any], baseline: dict[str, Any] | None
) -> FittedTransform:
    """A :class:`FittedTransform` from its parts (what pickle and ``copy.deepcopy`` store)."""
    fitted = FittedTransform(spec, state, fit_info=fit_info)
    if baseline is not None:
        fitted.baseline_ = baseline
    return fitted


bind_fitter(fit)  # Spec.fit calls fit above; see featurekit.spec.model.bind_fitter
