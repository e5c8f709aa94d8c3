"""A picklable reference to a spec, for work that runs in other processes (engine workers).

IR nodes (and so a :class:`~featurekit.spec.model.Spec`, which holds its graph) do not pickle;
``Spec.to_dict()`` does, and rebuilding it gives the same graph, checked by fingerprint. A
:class:`SpecRef` travels as that plain data and rebuilds the spec once per process; nodes
travel as their content keys. The modules that define the spec's UDFs travel too and are
imported before the rebuild, so a worker that can import them registers the same UDFs itself.

>>> import pickle
>>> from featurekit.spec.load_yaml import spec_from_dict
>>> spec = spec_from_dict({"featurekit": 1, "name": "s", "version": "1.0.0",
...                        "inputs": {"x": {"type": "float"}}, "features": {"y": "x + 1.0"}})
>>> ref = pickle.loads(pickle.dumps(SpecRef(spec)))
>>> ref.spec().fingerprint == spec.fingerprint
True
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any

from featurekit.errors import FitError
from featurekit.ir.nodes import CallNode, Node, walk
from featurekit.spec.load_yaml import spec_from_dict
from featurekit.spec.model import Spec
from featurekit.udf import get_udf

_SPECS: dict[str, Spec] = {}  # fingerprint -> spec rebuilt in this process


class SpecRef:
    """A spec that pickles as its plain-data form and fingerprint."""

    def __init__(self, spec: Spec) -> None:
        self._spec: Spec | None = spec
        self.data = spec.to_dict()
        self.fingerprint = spec.fingerprint
        self.udf_modules = udf_modules(spec)
        self._nodes: dict[str, Node] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"data": self.data, "fingerprint": self.fingerprint, "udf_modules": self.udf_modules}

    def __setstate__(self, d: dict[str, Any]) -> None:
        self.__dict__.update(d, _spec=None, _nodes=None)

    def __dask_tokenize__(self) -> Any:
        return ("featurekit-spec", self.fingerprint)

    def spec(self) -> Spec:
        """The spec (rebuilt and checked on first use in another process)."""
        if self._spec is None:
            spec = _SPECS.get(self.fingerprint)
            if spec is None:
                for module in self.udf_modules:
                    try:
                        importlib.import_module(module)
                    except ImportError:
                        pass  # then the rebuild names the UDF, or the fingerprint check fails below
                spec = spec_from_dict(self.data)
                if spec.fingerprint != self.fingerprint:  # e.g. a UDF registered differently here
                    raise FitError(
                        f"worker: the spec rebuilt on the worker has fingerprint {spec.fingerprint[:12]}, "
                        f"not {self.fingerprint[:12]}\n  Fix: register the same UDFs on every worker "
                        "(import the module that defines them)"
                    )
                _SPECS[self.fingerprint] = spec
            self._spec = spec
        return self._spec

    def nodes(self, keys: Sequence[str]) -> list[Any]:
        """The spec's graph nodes with these content keys."""
        if self._nodes is None:
            graph = self.spec().graph
            self._nodes = {n.key: n for n in walk([graph.features[o] for o in graph.outputs])}
        return [self._nodes[k] for k in keys]


def udf_modules(spec: Spec) -> list[str]:
    """The importable modules that define the UDFs ``spec`` calls (``__main__`` cannot be).

    >>> udf_modules(spec_from_dict({"featurekit": 1, "name": "s", "version": "1.0.0",
    ...     "inputs": {"x": {"type": "float"}}, "features": {"y": "x * 2.0"}}))
    []
    """
    graph = spec.graph
    names = {
        dict(n.params)["fn"]
        for n in walk([graph.features[o] for o in graph.outputs])
        if isinstance(n, CallNode) and n.op == "udf"
    }
    modules = {getattr(get_udf(name).row, "__module__", None) for name in names}
    return sorted(m for m in modules if isinstance(m, str) and m != "__main__")
