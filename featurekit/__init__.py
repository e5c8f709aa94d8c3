"""featurekit: declare feature logic once; get a batch path and a row path that provably agree.

>>> import featurekit as fk
>>> spec = fk.spec_from_yaml('''
... featurekit: 1
... name: example
... version: 1.0.0
... inputs: {spend: {type: float}, plan: {type: category}}
... features:
...   spend_log: log1p(coalesce(spend, 0.0))
...   plan_idx: vocab(plan)
... ''')
>>> fitted = spec.fit([{"spend": 9.0, "plan": "pro"}, {"spend": None, "plan": "free"}])
>>> fitted.transform_row({"spend": 0.0, "plan": "pro"})
{'spend_log': 0.0, 'plan_idx': 1}

Importing featurekit does not import pandas or numpy: serving needs neither.
"""

from __future__ import annotations

from typing import Any

from featurekit._version import __version__

_EXPORTS = {
    "load_spec": "featurekit.spec.load_yaml",
    "spec_from_yaml": "featurekit.spec.load_yaml",
    "spec_from_dict": "featurekit.spec.load_yaml",
    "Spec": "featurekit.spec.model",
    "InputSpec": "featurekit.spec.model",
    "FittedTransform": "featurekit.transform",
    "load": "featurekit.artifact.load",
    "FeaturekitError": "featurekit.errors",
    "SpecError": "featurekit.errors",
    "ContractError": "featurekit.errors",
    "ArtifactError": "featurekit.errors",
    "FitError": "featurekit.errors",
    "FitWarning": "featurekit.errors",
    "UntrustedCodeError": "featurekit.errors",
    "VerificationError": "featurekit.errors",
    "verify": "featurekit.artifact.load",
    "FeaturekitWarning": "featurekit.errors",
    "FitMemoryWarning": "featurekit.errors",
    "ApproximationWarning": "featurekit.errors",
    "register_udf": "featurekit.udf",
    "ServingLogger": "featurekit.logger",
}

__all__ = sorted([*_EXPORTS, "udf"]) + ["__version__", "dsl"]

# Spec.fit needs the transform layer, above the spec layer: importing it here binds the hook
# (featurekit.spec.model.bind_fitter) before any spec exists, as every featurekit import runs
# this file first. It imports neither numpy nor pandas.
# ``featurekit.udf`` names both a submodule and the decorator. Bound lazily, the decorator would
# be shadowed by the module object as soon as any featurekit module imports the submodule, and
# ``@fk.udf(...)`` would fail depending on import order; binding it last settles it.
import featurekit.transform  # noqa: E402, F401
from featurekit.udf import udf  # noqa: E402, F401


def __getattr__(name: str) -> Any:
    if name == "dsl":
        import featurekit.spec.dsl as dsl

        return dsl
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'featurekit' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
