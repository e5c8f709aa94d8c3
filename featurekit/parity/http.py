"""A serving endpoint over HTTP as the row side of a parity run.

:class:`HttpServing` turns ``POST url`` into a row function: each row goes out as one JSON object
(timestamps as ISO 8601 text, bytes as base64 text, NaN and infinities as the ``NaN`` /
``Infinity`` literals that Python's, Jackson's and most JSON readers accept, a missing key left
out) and the response body, a JSON object of output columns, comes back as the row's outputs.
:meth:`HttpServing.map` sends many rows with bounded concurrency. Timeouts apply per request;
retries are off by default (a retried request can hide a flaky server, which parity should
report). A non-2xx answer raises :class:`ServingHttpError` for that row, which the parity run
records as that side raising; a server that cannot be reached at all fails the whole run with
:class:`~featurekit.errors.FeaturekitError` (exit 2 on the CLI), never as a column of mismatches.

>>> serving = HttpServing("http://127.0.0.1:9/features", timeout=0.5)
>>> serving.url, serving.concurrency, serving.retries
('http://127.0.0.1:9/features', 4, 0)
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from featurekit.errors import ContractError, FeaturekitError


class ServingHttpError(Exception):
    """The endpoint answered one row with an error status (the row side raised for that row)."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:300]}")
        self.status = status
        self.body = body


class ServingRefusedInput(ServingHttpError, ContractError):
    """HTTP 400 or 422: the server refused the row as invalid input. Where the batch side refuses
    the same row with a contract error, the two sides agree (both reject it)."""


class EndpointError(FeaturekitError):
    """The endpoint cannot be used at all (unreachable, wrong path or method, not authorized):
    the parity run stops with this error instead of reporting every row as a mismatch."""


REFUSED = (400, 422)
FATAL = (401, 403, 404, 405)


def _plain(value: Any) -> Any:
    """A row value as what a JSON client sends."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if hasattr(value, "item") and not isinstance(value, str | bytes):  # numpy scalars
        return value.item()
    return value


def as_sent(row: Mapping[str, Any]) -> dict[str, Any]:
    """``row`` as the server receives it: bytes as base64 text, datetimes as ISO text.

    :func:`featurekit.parity.compare` gives both sides this row when the serving side is an
    :class:`HttpServing`, so what JSON cannot carry never shows up as a difference.

    >>> as_sent({"b": b"hi", "t": dt.datetime(2026, 1, 2), "n": None})
    {'b': 'aGk=', 't': '2026-01-02T00:00:00', 'n': None}
    """
    return {k: _plain(v) for k, v in row.items()}


def encode_row(row: Mapping[str, Any]) -> bytes:
    """The request body for ``row``.

    >>> encode_row({"x": float("nan"), "t": dt.datetime(2026, 1, 2, tzinfo=dt.timezone.utc)})
    b'{"x": NaN, "t": "2026-01-02T00:00:00+00:00"}'
    """
    return json.dumps(as_sent(row), allow_nan=True).encode("utf-8")


class HttpServing:
    """``POST url`` with one JSON row, read one JSON object of outputs (see the module docs)."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 10.0,
        concurrency: int = 4,
        retries: int = 0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if not url.startswith(("http://", "https://")):
            raise FeaturekitError(
                f"--serving-url {url!r}: not an http(s) URL\n  Fix: e.g. http://127.0.0.1:8000/features"
            )
        if concurrency < 1 or timeout <= 0 or retries < 0:
            raise FeaturekitError(
                f"HttpServing: concurrency >= 1, timeout > 0 and retries >= 0 are required; got "
                f"concurrency={concurrency}, timeout={timeout}, retries={retries}"
            )
        self.url = url
        self.timeout = timeout
        self.concurrency = concurrency
        self.retries = retries
        self.headers = {"content-type": "application/json", "accept": "application/json", **(headers or {})}
        self._reached = False

    as_sent = staticmethod(as_sent)

    def __call__(self, row: Mapping[str, Any]) -> dict[str, Any]:
        for attempt in range(self.retries + 1):
            try:
                return self._post(row)
            except (TimeoutError, urllib.error.URLError):
                if attempt == self.retries:
                    raise
        raise AssertionError("unreachable")  # the loop returns or raises

    def _post(self, row: Mapping[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(self.url, data=encode_row(row), headers=self.headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                body = response.read()
        except urllib.error.HTTPError as exc:
            text = exc.read().decode("utf-8", "replace")
            if exc.code in FATAL:
                raise EndpointError(
                    f"serving endpoint {self.url} answered HTTP {exc.code} {exc.reason}: {text[:200]}\n"
                    "  Fix: check the URL's path, the method (POST) and any credentials (--header)"
                ) from None
            self._reached = True
            raise (ServingRefusedInput if exc.code in REFUSED else ServingHttpError)(exc.code, text) from None
        except urllib.error.URLError as exc:
            if not self._reached:
                raise EndpointError(
                    f"serving endpoint {self.url} cannot be reached: {exc.reason}\n"
                    "  Fix: start the server (and check host and port) before the parity run"
                ) from None
            raise
        self._reached = True
        out = json.loads(body)
        if not isinstance(out, dict):
            raise ServingHttpError(200, f"expected a JSON object of output columns; got {type(out).__name__}")
        return out

    def map(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any] | BaseException]:
        """Outputs (or the exception) for each row, in order, ``concurrency`` requests at a time.

        The first row goes alone, so an unreachable server fails once, fast."""
        if not rows:
            return []
        results: list[dict[str, Any] | BaseException] = [_attempt(self, rows[0])]
        if not isinstance(results[0], EndpointError):
            with ThreadPoolExecutor(max_workers=self.concurrency) as pool:
                results += pool.map(lambda row: _attempt(self, row), rows[1:])
        for result in results:
            if isinstance(result, EndpointError):
                raise result
        return results


def _attempt(serving: HttpServing, row: Mapping[str, Any]) -> dict[str, Any] | BaseException:
    try:
        return serving(row)
    except Exception as exc:  # a failing row is a finding of the run, not an error of the tool
        return exc
