"""The engine adapter protocol (STYLE §1.5) and the lazy engine registry.

An engine is a module that provides the same four names, so knowing one engine means knowing
all of them:

* ``NAME``                       -- the engine's name (``"pandas"``, ``"dask"``);
* ``accepts(data) -> bool``      -- whether ``data`` is this engine's frame type, checked by
  module name so the optional library is never imported just to check a type;
* ``fit(spec, data, *, progress=None) -> FittedTransform``;
* ``transform(fitted, data) -> frame``.

Engines are registered by module path and imported only when used: importing featurekit
never imports Dask.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Engine(Protocol):
    NAME: str

    def accepts(self, data: Any) -> bool: ...

    def fit(self, spec: Any, data: Any, *, progress: Callable[[str], None] | None = None) -> Any: ...

    def transform(self, fitted: Any, data: Any) -> Any: ...


#: engine name -> module implementing the protocol (imported lazily).
ENGINES: dict[str, str] = {"dask": "featurekit.engines.dask"}


def register(name: str, module: str) -> None:
    """Register an engine module by name (imported on first use)."""
    ENGINES[name] = module


def get_engine(name: str) -> Any:
    """The engine module called ``name``."""
    try:
        return importlib.import_module(ENGINES[name])
    except KeyError:
        raise ValueError(f"unknown engine {name!r}; known: {sorted(ENGINES)}") from None


def is_dask_dataframe(data: Any) -> bool:
    """True for a Dask DataFrame, without importing Dask (narwhals ``dependencies.py`` style)."""
    module = type(data).__module__ or ""
    return (
        (module == "dask" or module.startswith("dask."))
        and hasattr(data, "to_delayed")
        and hasattr(data, "map_partitions")
    )
