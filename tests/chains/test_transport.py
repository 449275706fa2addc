"""The transport's strictness, one problem at a time, against canned answers on 127.0.0.1.

Each problem a user reported has its test: a cut eth_getLogs body is never the logs before the
cut; logs of another range are refused; valid JSON with spaces parses; a cut body on
eth_chainId / eth_getBlockByNumber / a batch is retried, not a JSONDecodeError traceback.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import orjson
import pytest

from chains import evm as evm_chain
from chains.transport import (
    BadResponse,
    ChainAccessError,
    JsonRpcClient,
    RpcUnavailable,
    redact,
)
from indexers.evm.decode import DecodeError, normalize, parse_logs_body
from indexers.evm.extract import checked_logs

ADDR = "0x" + "ab" * 20
TOPIC = "0x" + "dd" * 32


def _log(block: int, index: int) -> dict[str, Any]:
    return {
        "address": ADDR,
        "topics": [TOPIC, "0x" + "00" * 12 + "11" * 20],
        "data": "0x" + f"{index:064x}",
        "blockNumber": hex(block),
        "blockHash": "0x" + "cd" * 32,
        "transactionHash": "0x" + "ef" * 32,
        "transactionIndex": "0x2",
        "logIndex": hex(index),
        "removed": False,
    }


LOGS = [_log(16, 1), _log(17, 2), _log(18, 3)]


def _body(result: Any, request_id: int = 1, **dump: Any) -> bytes:
    doc = {"jsonrpc": "2.0", "id": request_id, "result": result}
    return json.dumps(doc, **dump).encode() if dump else orjson.dumps(doc)


# --- a server answering from a script of canned replies --------------------------------------
@contextmanager
def canned(replies: list[Any]) -> Iterator[tuple[str, list[bytes]]]:
    """Each request gets the next reply (the last one repeats): a callable(request) -> (status,
    body, headers), or a (status, body, headers) tuple."""
    seen: list[bytes] = []
    lock = threading.Lock()

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            with lock:
                seen.append(body)
                reply = replies[min(len(seen), len(replies)) - 1]
            status, data, headers = reply(orjson.loads(body)) if callable(reply) else reply
            self.send_response(status)
            self.send_header("content-length", str(len(data)))
            for k, v in headers.items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(data)

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), H)
    httpd.daemon_threads = True
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", seen
    finally:
        httpd.shutdown()
        httpd.server_close()


def _answer(result: Any, **dump: Any) -> Any:
    """A reply with `result`, for a single request or each request of a batch."""

    def reply(req: Any) -> tuple[int, bytes, dict[str, str]]:
        if isinstance(req, list):
            docs = [{"jsonrpc": "2.0", "id": r["id"], "result": result} for r in req]
            return 200, orjson.dumps(docs), {}
        return 200, _body(result, req["id"], **dump), {}

    return reply


def _client(url: str, retries: int = 3) -> JsonRpcClient:
    return JsonRpcClient(url, timeout=2.0, max_retries=retries, backoff=0.001)


# --- eth_getLogs bodies --------------------------------------------------------------------
def test_a_cut_logs_body_is_never_the_logs_before_the_cut():
    body = _body(LOGS)
    assert parse_logs_body(body, 1).num_rows == 3
    for cut in range(1, len(body)):
        with pytest.raises(DecodeError):
            parse_logs_body(body[:cut], 1)


def test_a_cut_pretty_or_spaced_body_is_refused_too():
    for body in (_body(LOGS, indent=2), _body(LOGS, separators=(", ", ": "))):
        for cut in range(1, len(body.rstrip())):
            with pytest.raises(DecodeError):
                parse_logs_body(body[:cut], 1)


def test_spaces_key_order_and_pretty_printing_are_data():
    want = normalize(parse_logs_body(_body(LOGS), 1))
    reordered = {"result": LOGS, "id": 1, "jsonrpc": "2.0"}
    for body in (
        _body(LOGS, separators=(", ", ": ")),  # the reported "The document is empty"
        _body(LOGS, indent=1),
        json.dumps(reordered).encode(),
        orjson.dumps(reordered),
        b"  \n" + _body(LOGS) + b"\n",
    ):
        assert normalize(parse_logs_body(body, 1)).equals(want), body[:80]


def test_an_answer_with_another_id_or_without_jsonrpc_is_refused():
    with pytest.raises(DecodeError, match="id 2"):
        parse_logs_body(_body(LOGS, 2), 1)
    with pytest.raises(DecodeError, match="jsonrpc"):
        parse_logs_body(orjson.dumps({"id": 1, "result": LOGS}), 1)
    with pytest.raises(DecodeError, match="not a list"):
        parse_logs_body(_body(None), 1)


def test_logs_outside_the_requested_range_or_filter_are_refused():
    flt = {"address": [ADDR], "topics": [TOPIC]}
    assert checked_logs(_body(LOGS), 1, flt, 16, 18).num_rows == 3
    with pytest.raises(BadResponse, match="blocks 16-17 answered logs of blocks 16-18"):
        checked_logs(_body(LOGS), 1, flt, 16, 17)
    with pytest.raises(BadResponse, match="address"):
        checked_logs(_body(LOGS), 1, {"address": ["0x" + "01" * 20]}, 0, 100)
    with pytest.raises(BadResponse, match="topic 0"):
        checked_logs(_body(LOGS), 1, {"topics": ["0x" + "ee" * 32]}, 0, 100)
    with pytest.raises(BadResponse, match="topic 2"):
        checked_logs(_body(LOGS), 1, {"topics": [TOPIC, None, "0x" + "00" * 32]}, 0, 100)


# --- small calls ---------------------------------------------------------------------------
def test_a_cut_body_on_small_calls_is_retried_not_a_traceback():
    full = _body("0x7a69")
    with canned([(200, full[:10], {}), (200, b"", {}), _answer("0x7a69")]) as (url, seen):
        with _client(url) as c:
            assert c.call("eth_chainId", expect=str) == "0x7a69"
        assert len(seen) == 3
    with canned([(200, full[:-1], {})]) as (url, seen), _client(url, retries=2) as c, \
            pytest.raises(RpcUnavailable) as err:
        c.call("eth_chainId", expect=str)
    msg = str(err.value)
    assert msg == (
        f"eth_chainId at {url}: no valid answer after 2 retries; last fault: body is not "
        f"complete JSON (cut or garbled, {len(full) - 1} bytes)"
    )
    assert len(seen) == 3


def test_a_block_header_must_be_the_block_asked():
    block = {"number": "0x5", "hash": "0x" + "aa" * 32, "parentHash": "0x" + "bb" * 32,
             "timestamp": "0x10"}
    with canned([_answer({**block, "number": "0x6"}), _answer(block)]) as (url, seen), \
            _client(url) as c:
        (h,) = evm_chain.headers(c, [5])
    assert (h.number, h.timestamp) == (5, 16) and len(seen) == 2


def test_a_batch_must_answer_every_id_exactly_once_in_any_order():
    def blocks(req: list[dict[str, Any]], drop: bool = False, twice: bool = False) -> Any:
        out = [{"jsonrpc": "2.0", "id": r["id"], "result": {
            "number": r["params"][0], "hash": "0x" + "aa" * 32, "parentHash": "0x" + "bb" * 32,
            "timestamp": "0x1"}} for r in req]
        out.reverse()  # another order: fine
        if drop:
            out.pop()
        if twice:
            out.append(out[0])
        return 200, orjson.dumps(out), {}

    replies = [lambda r: blocks(r, drop=True), lambda r: blocks(r, twice=True), blocks]
    with canned(replies) as (url, seen), _client(url) as c:
        got = evm_chain.headers(c, [1, 2, 3])
    assert [h.number for h in got] == [1, 2, 3] and len(seen) == 3


def test_html_and_5xx_are_retried_and_retry_after_is_honoured():
    replies = [
        (502, b"<html>bad gateway</html>", {"content-type": "text/html"}),
        (200, b"<html>portal</html>", {}),
        (429, b"slow down", {"Retry-After": "0.3"}),
        _answer("0x1"),
    ]
    with canned(replies) as (url, seen), _client(url) as c:
        t0 = time.perf_counter()
        assert c.call("eth_blockNumber", expect=str) == "0x1"
        assert time.perf_counter() - t0 >= 0.3
    assert len(seen) == 4


def test_a_stall_past_the_timeout_from_the_environment_is_retried(monkeypatch):
    def stall(req: dict[str, Any]) -> Any:
        time.sleep(1.0)
        return 200, _body("0x1", req["id"]), {}

    monkeypatch.setenv("DEPINREV_RPC_TIMEOUT", "0.2")
    monkeypatch.setenv("DEPINREV_RPC_BACKOFF", "0.001")
    with canned([stall, _answer("0x2")]) as (url, _), JsonRpcClient(url) as c:
        t0 = time.perf_counter()
        assert c.call("eth_blockNumber", expect=str) == "0x2"
        assert time.perf_counter() - t0 < 0.9
    assert c.timeout == 0.2


def test_a_bad_timeout_variable_is_one_clear_line(monkeypatch):
    monkeypatch.setenv("DEPINREV_RPC_TIMEOUT", "soon")
    with pytest.raises(ValueError, match=r"^environment variable DEPINREV_RPC_TIMEOUT='soon' is "
                                         r"not a number$"):
        JsonRpcClient("http://127.0.0.1:1")


# --- redaction -----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("https://eth-mainnet.g.alchemy.com/v2/SECRETKEY", "https://eth-mainnet.g.alchemy.com"),
        ("https://rpc.example.com:8443/?api-key=SECRET", "https://rpc.example.com:8443"),
        ("https://user:SECRET@rpc.example.com/x", "https://rpc.example.com"),
        ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
        ("http://[::1]:8545/key/SECRET", "http://[::1]:8545"),
        ("not a url SECRET", "(unparseable RPC URL)"),
    ],
)
def test_an_rpc_url_is_shown_as_scheme_host_and_port_only(url: str, shown: str):
    assert redact(url) == shown


def test_errors_name_the_host_never_the_key():
    with canned([(500, b"", {})]) as (url, _):
        secret = f"{url}/v2/SECRETKEY?api-key=SECRET"
        with _client(secret, retries=1) as c, pytest.raises(ChainAccessError) as err:
            c.call("eth_blockNumber", where="blocks 1-2")
        assert repr(c) == f"JsonRpcClient({url})"
    assert str(err.value) == (
        f"eth_blockNumber blocks 1-2 at {url}: no valid answer after 1 retries; last fault: "
        "HTTP 500"
    )
    assert "SECRET" not in repr(err.value)


def test_a_long_error_object_is_the_nodes_answer_not_a_fault():
    from chains.transport import RangeTooLarge

    def refuse(req: dict[str, Any]) -> Any:
        err = {"code": -32602, "message": "x" * 600 + " query returned more than 10000 results",
               "data": "y" * 600}
        return 200, orjson.dumps({"jsonrpc": "2.0", "id": req["id"], "error": err}), {}

    flt = {"address": [ADDR]}
    with canned([refuse]) as (url, seen), _client(url) as c, pytest.raises(RangeTooLarge):
        c.call_parsed("eth_getLogs", [flt], lambda b, i: checked_logs(b, i, flt, 0, 9))
    assert len(seen) == 1  # refused at once, not retried as a garbled answer


def test_https_endpoints_verify_against_the_ca_bundle_and_plain_http_makes_no_tls(monkeypatch):
    import ssl

    import urllib3

    for var in ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY",
                "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    secure = JsonRpcClient("https://user:p%40ss@rpc.example.org/v1/KEY?x=1")
    plain = JsonRpcClient("HTTP://127.0.0.1:8545")
    try:
        pool = secure._http.pool
        assert isinstance(pool, urllib3.HTTPSConnectionPool)
        tls = pool.conn_kw["ssl_context"]
        assert tls.verify_mode is ssl.CERT_REQUIRED and tls.check_hostname
        assert tls.cert_store_stats()["x509_ca"] > 0
        assert secure._http.target == "/v1/KEY?x=1"
        assert pool.headers["authorization"] == "Basic dXNlcjpwQHNz"  # user:p@ss
        assert type(plain._http.pool) is urllib3.HTTPConnectionPool
        assert plain._http.target == "/"
    finally:
        secure.close()
        plain.close()


class _ForwardProxy(BaseHTTPRequestHandler):
    """A forward HTTP proxy: POST http://host:port/path is sent on to that host."""

    seen: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        import http.client
        from urllib.parse import urlsplit

        type(self).seen.append(self.path)
        url = urlsplit(self.path)
        body = self.rfile.read(int(self.headers["content-length"]))
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        conn.request("POST", url.path or "/", body=body,
                     headers={"content-type": "application/json"})
        answer = conn.getresponse().read()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: Any) -> None:
        pass


def test_the_environments_proxy_is_used_unless_no_proxy_names_the_host(monkeypatch):
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), _ForwardProxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    _ForwardProxy.seen = []
    try:
        with canned([_answer("0x1")]) as (url, _):
            for var in ("no_proxy", "NO_PROXY", "all_proxy", "ALL_PROXY"):
                monkeypatch.delenv(var, raising=False)
            monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_port}")
            with _client(url + "/v2/KEY") as client:
                assert client._http.via_proxy
                assert client.call("eth_chainId") == "0x1"
            assert _ForwardProxy.seen == [url + "/v2/KEY"]
            monkeypatch.setenv("NO_PROXY", "127.0.0.1")
            with _client(url) as client:
                assert not client._http.via_proxy
                assert client.call("eth_chainId") == "0x1"
            assert len(_ForwardProxy.seen) == 1
    finally:
        proxy.shutdown()
        proxy.server_close()


@pytest.mark.parametrize("url", ["ws://127.0.0.1:8546", "127.0.0.1:8545", "http://"])
def test_an_rpc_url_that_is_not_http_is_a_configuration_error(url: str):
    from depinrev.config import ConfigError

    with pytest.raises(ConfigError, match="not an http:// or https:// URL"):
        JsonRpcClient(url)
