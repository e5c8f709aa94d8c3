"""Engines run featurekit over a data frame library's frames: the registry.

An engine implements :class:`featurekit.engines.protocol.Engine`. Engines are registered by
name as ``"module:Class"`` strings and imported when first asked for; an engine's module
imports its library (Dask, PySpark) only inside the methods that run work, so importing
featurekit or asking :func:`engine_for` never imports it. :func:`engine_for` asks each
registered engine whether it :meth:`~featurekit.engines.protocol.Engine.accepts` the data
(engines check ``sys.modules``: data of a library never imported cannot be its frame), in
registration order, with pandas last as the fallback. A new engine is one line,
``register("polars", "mypackage.engine:PolarsEngine")`` (or one entry in ``_ENGINES``).

>>> names()
['dask', 'spark', 'pandas']
>>> import pandas as pd
>>> engine_for(pd.DataFrame({"x": [1.0]})).name
'pandas'
>>> engine_for(42)
Traceback (most recent call last):
  ...
TypeError: no registered engine accepts data of type int; registered: dask (a Dask DataFrame), spark (a PySpark DataFrame), pandas (a pandas DataFrame, a list or tuple of DataFrame chunks, or a function returning an iterator of chunks)
"""

from __future__ import annotations

import importlib
from typing import Any

from featurekit.engines.protocol import Engine

#: engine name -> ``"module:Class"``, in the order :func:`engine_for` asks them (pandas last).
_ENGINES: dict[str, str] = {
    "dask": "featurekit.engines.dask:DaskEngine",
    "spark": "featurekit.engines.spark:SparkEngine",
    "pandas": "featurekit.engines.pandas:PandasEngine",
}
_FALLBACK = "pandas"


def register(name: str, target: str) -> None:
    """Register the engine class ``target`` (``"module:Class"``) as ``name`` (replacing an
    engine of that name); it is imported on first use and asked before the pandas fallback."""
    module, _, cls = target.partition(":")
    if not module or not cls:
        raise ValueError(f"engine target must be 'module:Class'; got {target!r}")
    fallback = _ENGINES.pop(_FALLBACK)
    _ENGINES.pop(name, None)
    _ENGINES[name] = target
    _ENGINES.setdefault(_FALLBACK, fallback)


def names() -> list[str]:
    """Registered engine names, in the order :func:`engine_for` asks them."""
    return list(_ENGINES)


def _engine_class(name: str) -> Any:
    try:
        module, _, cls = _ENGINES[name].partition(":")
    except KeyError:
        raise ValueError(f"unknown engine {name!r}; registered: {names()}") from None
    return getattr(importlib.import_module(module), cls)


def get(name: str, **options: Any) -> Engine:
    """A new engine called ``name`` (``options`` go to its constructor, e.g. ``split_every``)."""
    engine: Engine = _engine_class(name)(**options)
    return engine


def engine_for(data: Any) -> Engine:
    """A new engine for ``data``: the first registered engine that accepts it."""
    classes = [_engine_class(name) for name in _ENGINES]
    for cls in classes:
        if cls.accepts(data):
            engine: Engine = cls()
            return engine
    kinds = ", ".join(f"{cls.name} ({cls.kinds})" for cls in classes)
    raise TypeError(f"no registered engine accepts data of type {type(data).__name__}; registered: {kinds}")
