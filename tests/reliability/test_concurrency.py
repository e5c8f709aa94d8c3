"""8 threads calling transform_row on one loaded transform: exactly the single-thread results."""

from __future__ import annotations

import threading

import featurekit as fk

from ._common import COUNTS, churn_fitted, churn_rows

N_ROWS = 100_000
THREADS = 8


def test_eight_threads_give_the_single_thread_results_and_never_touch_state(tmp_path):
    loaded = fk.load(churn_fitted().save(tmp_path / "churn"))
    state_before, fp_before = loaded.state_fingerprint, loaded.fingerprint
    base = churn_rows()
    rows = [base[i % len(base)] for i in range(N_ROWS)]
    expected = [repr(loaded.transform_row(r)) for r in base]  # single-thread reference
    results: list = [None] * N_ROWS
    errors: list = []
    barrier = threading.Barrier(THREADS)

    def work(k: int) -> None:
        try:
            barrier.wait()
            fn = loaded.transform_row
            for i in range(k, N_ROWS, THREADS):
                results[i] = fn(rows[i])
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    import sys

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # force frequent thread switches
    try:
        threads = [threading.Thread(target=work, args=(k,)) for k in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    assert errors == []
    mismatches = [i for i in range(N_ROWS) if repr(results[i]) != expected[i % len(base)]]
    assert mismatches == []
    COUNTS["concurrent transform_row calls"] += N_ROWS
    assert loaded.state_fingerprint == state_before and loaded.fingerprint == fp_before
