"""The spec: what the user declared, immutable and versioned.

A :class:`Spec` has a name, a user version (semver), an input contract per input, named
constants, features (each an expression) and the output order. YAML files and the Python DSL
both build this same object; :meth:`Spec.to_yaml` writes it back so that loading the text
gives an equal spec with the same fingerprint. What ``fit`` learns never goes in here: it
returns a separate :class:`featurekit.transform.FittedTransform`.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from featurekit.ir.nodes import Expr, canonical_scalar, to_source
from featurekit.spec.yaml_text import dump_yaml
from featurekit.values.hashing import fingerprint

if TYPE_CHECKING:
    from featurekit.spec.normalize import Graph
    from featurekit.transform import FittedTransform


_fitter: Callable[..., FittedTransform] | None = None
"""The fit entry point :meth:`Spec.fit` calls, ``fitter(spec, data, **options)``."""


def bind_fitter(fitter: Callable[..., FittedTransform]) -> None:
    """Install the fit entry point behind :meth:`Spec.fit`.

    Fitting needs the layers above this one (compile, fit, engines, transform), so the spec
    layer declares the hook and :mod:`featurekit.transform` fills it when imported; importing
    ``featurekit`` (which any ``featurekit.*`` import does first) imports the transform module,
    so every spec can fit.
    """
    global _fitter
    _fitter = fitter


FORMAT_VERSION = 1
POLICIES = ("raise", "null", "clip", "default")
TZ_MODES = ("any", "aware", "naive")
EMPTY_FIT_POLICIES = ("raise", "fallback")


@dataclasses.dataclass(frozen=True)
class InputSpec:
    """The contract of one raw input.

    ``type``: int, float, str, bool, timestamp or category (a str with a declared or open
    domain). ``nullable``: whether missing values are allowed (None, NaN, NaT, NA or an
    absent key). ``min``/``max`` (numbers, inclusive), ``values`` (allowed strings).
    ``on_violation`` says what a violating value becomes: ``raise`` an error naming input,
    rule and value; ``null``; ``clip`` to ``[min, max]`` (range violations only; others
    raise); or ``default``. ``timezone``: the zone naive timestamps are in (default UTC).
    ``open``: the ``values`` are the known values (used for probing and the skew report's
    unseen rate), not a closed domain: other strings are accepted. ``tz`` (timestamps only):
    ``aware`` refuses naive values (datetimes without tzinfo, ISO text without offset),
    ``naive`` refuses aware ones, ``any`` (default) accepts both.
    """

    name: str
    type: str
    nullable: bool = True
    min: float | None = None
    max: float | None = None
    values: tuple[str, ...] | None = None
    on_violation: str = "raise"
    default: Any = None
    timezone: str = "UTC"
    doc: str = ""
    line: int | None = dataclasses.field(default=None, compare=False)
    open: bool = False
    tz: str = "any"

    @property
    def domain(self) -> tuple[str, ...] | None:
        """The values a value must be one of: ``values`` unless they are ``open`` (then None)."""
        return None if self.open else self.values

    def contract_key(self) -> str:
        """Fingerprint of everything that changes how values are accepted."""
        payload = [
            self.type,
            self.nullable,
            canonical_scalar(self.min),
            canonical_scalar(self.max),
            list(self.values) if self.values is not None else None,
            self.on_violation,
            canonical_scalar(self.default) if not isinstance(self.default, dict) else None,
            self.timezone,
        ]
        # keys added later enter the payload only when set, so older contracts keep their keys
        if self.open:
            payload.append(["open", True])
        if self.tz != "any":
            payload.append(["tz", self.tz])
        return fingerprint(payload)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": self.type}
        if not self.nullable:
            out["nullable"] = False
        for key in ("min", "max", "default"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.values is not None:
            out["values"] = list(self.values)
        if self.open:
            out["open"] = True
        if self.on_violation != "raise":
            out["on_violation"] = self.on_violation
        if self.timezone != "UTC":
            out["timezone"] = self.timezone
        if self.tz != "any":
            out["tz"] = self.tz
        if self.doc:
            out["doc"] = self.doc
        return out


@dataclasses.dataclass(frozen=True)
class FeatureSpec:
    """One named feature: an expression over inputs, constants and other features.

    ``on_empty_fit``: what ``fit`` does when an analyzer in this feature sees no non-null
    training value although the training data has rows: ``raise`` a :class:`FitError`
    (default), or ``fallback`` to the op's documented empty-fit state. Fitting on zero rows
    always uses the fallback. It does not change the feature's logic or fingerprint.
    """

    name: str
    expr: Expr
    doc: str = ""
    on_empty_fit: str = "raise"
    line: int | None = dataclasses.field(default=None, compare=False)

    def to_data(self) -> str | dict[str, str]:
        """The YAML value of this feature: its source text, or ``{expr, doc, on_empty_fit}``."""
        if not self.doc and self.on_empty_fit == "raise":
            return self.source
        out = {"expr": self.source}
        if self.doc:
            out["doc"] = self.doc
        if self.on_empty_fit != "raise":
            out["on_empty_fit"] = self.on_empty_fit
        return out

    @property
    def source(self) -> str:
        return to_source(self.expr)


@dataclasses.dataclass(frozen=True)
class ConstantSpec:
    """A named constant: a number, string, bool, or a timestamp given as ISO 8601 text."""

    name: str
    value: Any
    type: str
    line: int | None = dataclasses.field(default=None, compare=False)


@dataclasses.dataclass(frozen=True, eq=False)
class Spec:
    """A validated, immutable feature spec. Build one with :func:`featurekit.load_spec`,
    :func:`featurekit.spec_from_yaml` or the DSL (:func:`featurekit.dsl.spec`).

    >>> import featurekit as fk
    >>> spec = fk.spec_from_yaml('''
    ... featurekit: 1
    ... name: tiny
    ... version: 1.0.0
    ... inputs: {x: {type: float}}
    ... features: {x_log: log1p(x)}
    ... ''')
    >>> spec.fit([{"x": 1.0}]).transform_row({"x": 0.0})
    {'x_log': 0.0}
    """

    name: str
    version: str
    inputs: tuple[InputSpec, ...]
    features: tuple[FeatureSpec, ...]
    constants: tuple[ConstantSpec, ...] = ()
    outputs: tuple[str, ...] | None = None
    description: str = ""
    path: str | None = None
    # alert thresholds for the skew report (featurekit.spec.monitoring); not part of the fingerprint
    monitoring: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        from featurekit.spec.normalize import normalize

        object.__setattr__(self, "_graph", normalize(self))

    # -- identity -------------------------------------------------------------------------

    @property
    def graph(self) -> Graph:
        """The typed feature graph (validated when the spec was built)."""
        return self._graph  # type: ignore[attr-defined]

    @property
    def fingerprint(self) -> str:
        """Content hash of the logic: inputs' contracts and every output feature, in order."""
        return self.graph.fingerprint

    @property
    def feature_fingerprints(self) -> dict[str, str]:
        return dict(self.graph.feature_fingerprints)

    @property
    def output_features(self) -> list[str]:
        return list(self.graph.outputs)

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Spec)
            and self.name == other.name
            and self.version == other.version
            and self.fingerprint == other.fingerprint
        )

    def __hash__(self) -> int:
        return hash((self.name, self.version, self.fingerprint))

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # pickle/copy as the declared fields: the typed graph is rebuilt (and validated) on the
        # other side, so a spec can travel to Dask workers or inside sklearn clones
        return (type(self), tuple(getattr(self, f.name) for f in dataclasses.fields(self)))

    def __repr__(self) -> str:
        return (
            f"Spec({self.name}@{self.version}, {len(self.inputs)} inputs, "
            f"{len(self.features)} features, fp={self.fingerprint[:12]})"
        )

    # -- round trip -----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The normalized spec as plain data (what the artifact stores)."""
        out: dict[str, Any] = {"featurekit": FORMAT_VERSION, "name": self.name, "version": self.version}
        if self.description:
            out["description"] = self.description
        if self.constants:
            out["constants"] = {
                c.name: ({"timestamp": c.value} if c.type == "timestamp" else c.value) for c in self.constants
            }
        out["inputs"] = {i.name: i.to_dict() for i in self.inputs}
        out["features"] = {f.name: f.to_data() for f in self.features}
        if self.outputs is not None:
            out["outputs"] = list(self.outputs)
        if self.monitoring:
            out["monitoring"] = copy.deepcopy(dict(self.monitoring))
        return out

    def to_yaml(self) -> str:
        """YAML text that :func:`featurekit.spec_from_yaml` reads back to an equal spec."""
        return dump_yaml(self.to_dict())

    # -- work -------------------------------------------------------------------------------

    def fit(self, data: Any, **options: Any) -> FittedTransform:
        """Fit every analyzer on ``data`` and return the frozen :class:`FittedTransform`.

        ``data``: a pandas DataFrame, a list of row dicts, an iterable of DataFrame chunks,
        or another registered engine's frame (a Dask DataFrame with the ``dask`` extra;
        ``engine=`` passes an engine instance, e.g. ``DaskEngine(split_every=4)``). The spec
        itself is not changed.
        ``baseline=False`` skips the training statistics used by the skew report;
        ``max_violation_rate`` (default 0.1) sets when a :class:`~featurekit.errors.FitWarning`
        reports an input whose values often broke the contract. Missing declared columns and
        analyzers that saw no value are refused (:mod:`featurekit.fit`).
        """
        if _fitter is None:  # only if featurekit/__init__.py stopped importing featurekit.transform
            raise RuntimeError("Spec.fit: no fit entry point is bound; import featurekit.transform")
        return _fitter(self, data, **options)

    def describe(self) -> str:
        """A readable summary: inputs with contracts, features with types and null rules."""
        from featurekit.describe import describe_spec

        return describe_spec(self)
