"""The custom Python function that specs/fraud.yaml calls: import this module before loading it.

A spec never imports code by name (a YAML file must not be able to run code), so the process
that loads ``specs/fraud.yaml`` registers the function first::

    import examples.spec_gallery.fraud_udfs  # noqa: F401  (registers round_amount_score)
    spec = featurekit.load_spec("specs/fraud.yaml")

The function's source is hashed into the feature fingerprint; a saved artifact also stores it
(cloudpickled, in ``code.pkl``), but ``featurekit.load`` only uses the stored copy with
``trust_code=True``. A server that imports this module loads the artifact without trusting
anything: the registered function has the same source hash.

The command line has no option to import a module, so this module's ``__main__`` runs the
``featurekit`` CLI with the function registered::

    python -m examples.spec_gallery.fraud_udfs validate specs/fraud.yaml
    python -m examples.spec_gallery.fraud_udfs fit specs/fraud.yaml --data fraud.parquet --out model/fraud
"""

from __future__ import annotations

import math
import sys

import numpy as np

import featurekit as fk


def _round_amount_batch(amount: np.ndarray) -> np.ndarray:
    """Vectorized twin of :func:`round_amount_score` (numpy's fmod is C fmod, like math.fmod)."""
    finite = np.isfinite(amount)
    safe = np.where(finite, amount, 0.0)
    out = np.where(np.fmod(safe, 10.0) == 0.0, 0.5, 0.0)
    out = np.where(np.fmod(safe, 100.0) == 0.0, 1.0, out)
    return np.where(finite & (safe >= 10.0), out, 0.0)


@fk.udf(dtype="float", args=["float"], vectorized=_round_amount_batch)
def round_amount_score(amount: float) -> float:
    """1.0 for whole multiples of 100, 0.5 for multiples of 10, else 0.0 (card testers and
    fraudsters favour round amounts). Amounts under 10 and non-finite amounts score 0."""
    if not math.isfinite(amount) or amount < 10.0:
        return 0.0
    if math.fmod(amount, 100.0) == 0.0:
        return 1.0
    if math.fmod(amount, 10.0) == 0.0:
        return 0.5
    return 0.0


if __name__ == "__main__":
    from featurekit.cli import main

    sys.exit(main(sys.argv[1:]))
