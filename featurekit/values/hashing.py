"""Content hashes: one canonical JSON, one SHA-256, every fingerprint built from them.

* :func:`canonical_json` — sorted keys, strict (no ``NaN`` literal), compact separators;
  ``spaced=True`` gives ``json.dumps``' default ``", "``/``": "`` separators, the layout the
  spec and feature fingerprints have always been computed over (kept so they never change).
* :func:`sha256_hex` — hex SHA-256 of text (UTF-8) or bytes.
* :func:`fingerprint` — the hash of a spec-level payload (spaced canonical JSON).
* :func:`state_fingerprint` — the hash of fitted state in its :mod:`~featurekit.values.codec`
  form (exactly the bytes ``state.json`` is derived from, minus indentation).
* :func:`transform_fingerprint` — logic and fitted state together: what a model pins.

>>> sha256_hex("")[:16]
'e3b0c44298fc1c14'
>>> canonical_json({"b": [1, 2.5], "a": None})
'{"a":null,"b":[1,2.5]}'
>>> fingerprint(["feature", "x", "k"]) == sha256_hex('["feature", "x", "k"]')
True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from featurekit.values import codec


def sha256_hex(data: str | bytes) -> str:
    """Hex SHA-256 of ``data`` (text is hashed as UTF-8)."""
    return hashlib.sha256(data.encode("utf-8") if isinstance(data, str) else data).hexdigest()


def canonical_json(value: Any, *, spaced: bool = False, default: Callable[[Any], Any] | None = None) -> str:
    """``value`` as canonical JSON: sorted keys, no non-finite floats, fixed separators.

    ``default`` converts values JSON cannot hold (as in :func:`json.dumps`); without it such a
    value raises ``TypeError``.
    """
    return json.dumps(
        value,
        sort_keys=True,
        allow_nan=False,
        separators=(", ", ": ") if spaced else (",", ":"),
        default=default,
    )


def fingerprint(payload: Any) -> str:
    """The fingerprint of a spec-level payload (contract keys, features, whole specs)."""
    return sha256_hex(canonical_json(payload, spaced=True))


def state_fingerprint(state: Mapping[str, Any]) -> str:
    """The fingerprint of fitted state (``FittedTransform.state_fingerprint``)."""
    return sha256_hex(codec.dumps(dict(state)))


def transform_fingerprint(spec_fingerprint: str, state: Mapping[str, Any]) -> str:
    """The fingerprint of logic and fitted state together (``FittedTransform.fingerprint``)."""
    return sha256_hex(f"{spec_fingerprint}:{state_fingerprint(state)}")
