"""Lazy module proxies, so that serving never imports numpy, pandas or pyarrow.

Op entries hold both implementations; the batch ones need numpy/pyarrow, the row ones must
not. Op modules therefore reach those libraries through :func:`lazy`, which imports on first
attribute access (i.e. the first time a batch kernel actually runs).

>>> math_ = lazy("math")
>>> math_.sqrt(4.0)
2.0
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any


class _LazyModule:
    __slots__ = ("_name", "_module")

    def __init__(self, name: str) -> None:
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_module", None)

    def _load(self) -> ModuleType:
        module = self._module
        if module is None:
            module = importlib.import_module(self._name)
            object.__setattr__(self, "_module", module)
        return module

    def __getattr__(self, attr: str) -> Any:
        return getattr(self._load(), attr)

    def __repr__(self) -> str:
        return f"<lazy module {self._name!r}>"


def lazy(name: str) -> Any:
    """A proxy for module ``name`` that imports it on first attribute access."""
    return _LazyModule(name)
