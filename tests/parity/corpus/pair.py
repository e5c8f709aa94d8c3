"""One corpus pair: a training function, a serving function, their input contract and labels.

A pair is written as a small class body and turned into a :class:`Pair` by :func:`corpus_pair`;
the docstring's first line is the one-line description of the bug (or of why the two
differently written functions still agree):

>>> import pandas as pd
>>> @corpus_pair
... class Doubled:
...     '''Both sides double the amount.'''
...     category = "floats"
...     skewed = False
...     edge_only = False
...     inputs = "amount: {type: float}"
...
...     def ordinary(rng):
...         return {"amount": rng.uniform(1, 100)}
...
...     def train(df):
...         return pd.DataFrame({"amount_x2": df["amount"] * 2})
...
...     def serve(row):
...         return {"amount_x2": row["amount"] * 2}
>>> Doubled.name, Doubled.category, len(Doubled.rows(5))
('Doubled', 'floats', 5)
>>> [i.name for i in Doubled.spec.inputs]
['amount']
"""

from __future__ import annotations

import dataclasses
import functools
import random
from collections.abc import Callable, Mapping
from typing import Any

import featurekit as fk

#: The categories a pair may carry (README.md describes each).
CATEGORIES = (
    "nulls",
    "strings",
    "rounding",
    "buckets",
    "categorical",
    "time",
    "integers",
    "floats",
    "division",
    "hashing",
    "coercion",
    "ordering",
)


@dataclasses.dataclass(frozen=True)
class Pair:
    """A training function and a serving function for the same feature(s), with labels."""

    name: str
    category: str
    skewed: bool
    edge_only: bool
    description: str
    inputs: str
    train: Callable[[Any], Any]
    serve: Callable[[Mapping[str, Any]], Mapping[str, Any]]
    ordinary: Callable[[random.Random], dict[str, Any]]
    #: skewed pairs: one input row on which the two sides really differ (checks the label)
    witness: Mapping[str, Any] | None = None

    @functools.cached_property
    def spec(self) -> fk.Spec:
        """The input contract as a spec; its features (one ``is_null`` per input) are neutral."""
        lines = [line.strip() for line in self.inputs.strip().splitlines() if line.strip()]
        names = [line.split(":", 1)[0] for line in lines]
        return fk.spec_from_yaml(
            f"featurekit: 1\nname: corpus_{self.name.lower()}\nversion: 1.0.0\ninputs:\n"
            + "".join(f"  {line}\n" for line in lines)
            + "features:\n"
            + "".join(f"  {n}_null: is_null({n})\n" for n in names)
        )

    def rows(self, n: int = 80) -> list[dict[str, Any]]:
        """``n`` ordinary, realistic rows; seeded by the pair's name, so always the same."""
        rng = random.Random(f"corpus:{self.name}")
        return [self.ordinary(rng) for _ in range(n)]


def corpus_pair(body: type) -> Pair:
    """Turn a class body (labels, ``inputs`` YAML, ``ordinary``/``train``/``serve``) into a Pair."""
    if body.category not in CATEGORIES:
        raise ValueError(f"{body.__name__}: unknown category {body.category!r}")
    doc = (body.__doc__ or "").strip().splitlines()
    if not doc:
        raise ValueError(f"{body.__name__}: the docstring's first line describes the pair")
    witness = getattr(body, "witness", None)
    if body.skewed != (witness is not None):
        raise ValueError(f"{body.__name__}: a skewed pair has a witness row, a correct one has none")
    return Pair(
        name=body.__name__,
        category=body.category,
        skewed=body.skewed,
        edge_only=body.edge_only,
        description=doc[0],
        inputs=body.inputs,
        train=body.train,
        serve=body.serve,
        ordinary=body.ordinary,
        witness=witness,
    )
