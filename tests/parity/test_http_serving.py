"""HttpServing: a serving endpoint on loopback as the row side, over real HTTP."""

from __future__ import annotations

import json
import math
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

import featurekit as fk
from featurekit.datasets import make_churn, to_rows
from featurekit.parity.http import (
    EndpointError,
    HttpServing,
    ServingHttpError,
    ServingRefusedInput,
    encode_row,
)


@pytest.fixture(scope="module")
def fitted():
    return fk.load_spec("specs/churn.yaml").fit(make_churn(3000, seed=0))


class Server:
    """A loopback HTTP server answering POST /features with ``handler(row) -> (status, body)``."""

    def __init__(self, handler):
        self.handler, self.active, self.peak = handler, 0, 0
        lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                with lock:
                    outer.active += 1
                    outer.peak = max(outer.peak, outer.active)
                try:
                    if self.path != "/features":
                        status, body = 404, "no such path"
                    else:
                        row = json.loads(self.rfile.read(int(self.headers["content-length"])))
                        try:
                            status, body = outer.handler(row)
                        except Exception as exc:  # a crashing server answers 500, as web frameworks do
                            status, body = 500, repr(exc)
                finally:  # before answering: the client sends its next row only after the answer
                    with lock:
                        outer.active -= 1
                data = body.encode() if isinstance(body, str) else json.dumps(body, allow_nan=True).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/features"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve():
    servers = []

    def start(handler):
        servers.append(Server(handler))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def _decode(row, fitted):
    import datetime as dt

    types = {i.name: i.type for i in fitted.spec.inputs}
    return {
        k: dt.datetime.fromisoformat(v) if types.get(k) == "timestamp" and isinstance(v, str) else v
        for k, v in row.items()
    }


def _same(a, b):
    return a == b or (isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b))


def test_features_come_back_as_the_row_path_computes_them(fitted, serve):
    server = serve(lambda row: (200, fitted.transform_row(_decode(row, fitted))))
    rows = to_rows(make_churn(200, seed=3))
    rows[0]["monthly_spend"] = float("nan")  # goes out as the NaN literal
    del rows[1]["device"]  # a missing key stays missing
    serving = HttpServing(server.url, concurrency=3)
    got = serving.map(rows)
    assert len(got) == len(rows)
    for row, out in zip(rows, got):
        expected = fitted.transform_row(row)
        assert set(out) == set(expected) and all(_same(out[k], expected[k]) for k in expected)
    assert 1 <= server.peak <= 3


def test_request_body_encoding():
    import datetime as dt

    body = json.loads(encode_row({"t": dt.datetime(2026, 1, 2, 3, tzinfo=dt.UTC), "b": b"\x00", "x": float("-inf")}))
    assert body == {"t": "2026-01-02T03:00:00+00:00", "b": "AA==", "x": float("-inf")}


def test_error_statuses(serve):
    def handler(row):
        return {"bad": (422, "tenure_days: null"), "crash": (500, "Traceback ...")}.get(row["k"], (200, {"y": 1}))

    serving = HttpServing(serve(handler).url)
    refused, crashed, fine = serving.map([{"k": "bad"}, {"k": "crash"}, {"k": "ok"}])
    assert isinstance(refused, ServingRefusedInput) and isinstance(refused, fk.ContractError)
    assert refused.status == 422 and "tenure_days" in str(refused)
    assert isinstance(crashed, ServingHttpError) and not isinstance(crashed, fk.FeaturekitError)
    assert crashed.status == 500
    assert fine == {"y": 1}


def test_unusable_endpoint_stops_the_run(serve):
    server = serve(lambda row: (200, {}))
    with pytest.raises(EndpointError, match="HTTP 404"):
        HttpServing(server.url.replace("/features", "/nope")).map([{"a": 1}, {"a": 2}])
    port = server.httpd.server_address[1]
    server.close()
    with pytest.raises(EndpointError, match="cannot be reached"):
        HttpServing(f"http://127.0.0.1:{port}/features", timeout=2).map([{"a": 1}])
    with pytest.raises(fk.FeaturekitError, match="not an http"):
        HttpServing("127.0.0.1:8000/features")


def test_timeout_is_per_request_and_not_retried_by_default(serve):
    calls = []

    def slow(row):
        calls.append(row["i"])
        time.sleep(1.0 if row["i"] == 1 else 0)
        return 200, {"i": row["i"]}

    serving = HttpServing(serve(slow).url, timeout=0.3, concurrency=2)
    out = serving.map([{"i": 0}, {"i": 1}, {"i": 2}])
    assert out[0] == {"i": 0} and out[2] == {"i": 2}
    assert isinstance(out[1], TimeoutError | OSError)
    assert sorted(calls) == [0, 1, 2]  # the slow row was sent once


def test_compare_against_a_server_finds_a_planted_bug_and_passes_the_correct_one(fitted, serve):
    rows = to_rows(make_churn(150, seed=4))

    def correct(row):  # as the FastAPI example: a contract violation is HTTP 422
        try:
            return 200, fitted.transform_row(_decode(row, fitted))
        except (fk.ContractError, ValueError) as exc:
            return 422, str(exc)

    def buggy(row):  # the server forgot log1p for tickets
        status, out = correct(row)
        if status == 200:
            out["tickets_log1p"] = float(row.get("num_support_tickets") or 0)
        return status, out

    ok = fk.parity.compare(
        fitted.transform, HttpServing(serve(correct).url), rows, contract=fitted, fuzz=100, shrink=False
    )
    assert ok.rows > len(rows) and ok.equality == "value", ok.to_text(color=False)

    # JSON carries bytes as base64 text, which the server rightly accepts: the only findings are
    # those rows (featurekit's contract refuses bytes; report examples hold inputs codec-tagged)
    def has_bytes(example):
        return any(isinstance(v, dict) and "$bytes" in v for v in example.input.values())

    for col in ok.failing:
        assert set(col.kinds) == {"raises"}, ok.to_text(color=False)
        assert all(has_bytes(ex) for ex in col.examples), [ex.input for ex in col.examples if not has_bytes(ex)]
    bad = fk.parity.compare(
        fitted.transform, HttpServing(serve(buggy).url), rows, contract=fitted, fuzz=100, invalid=False
    )
    assert [c.column for c in bad.failing] == ["tickets_log1p"]


def test_cli_serving_url(fitted, serve, tmp_path, capsys):
    from featurekit.cli import main

    art = fitted.save(str(tmp_path / "art"))
    data = tmp_path / "eval.parquet"
    make_churn(200, seed=5).to_parquet(data)
    server = serve(lambda row: (200, fitted.transform_row(_decode(row, fitted))))
    args = ["parity", art, "--data", str(data), "--fuzz", "100", "--serving-url", server.url, "--valid-only"]
    assert main([*args, "--output", str(tmp_path / "r.json"), "--format", "json"]) == 0
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["ok"] and report["equality"] == "value" and report["compared_columns"] == len(fitted.output_columns)
    assert "parity ok:" in capsys.readouterr().err
    port = server.httpd.server_address[1]
    server.close()
    assert main(["parity", art, "--data", str(data), "--serving-url", f"http://127.0.0.1:{port}/features"]) == 2
    assert "cannot be reached" in capsys.readouterr().err
