"""A generic JSON-RPC server on 127.0.0.1 answering from a Python object's methods.

Method `foo` of the request calls `rpc_foo(*params)` on the handler object; a handler raises
RpcFault for a JSON-RPC error. Batches are answered in order. The first `rate_limit_first`
requests get HTTP 429 with Retry-After: 0, as a provider's rate limiter would; with
`refuse_batches` a batch is answered with one JSON-RPC error object, as providers without
batch support answer.

The HTTP side is a small HTTP/1.1 loop (one thread per connection, keep-alive, one write per
response, no Nagle delay) rather than http.server's BaseHTTPRequestHandler, whose header
parsing (email.parser) cost more than the answer itself: mainnet-sized replays (bench/
real_networks.py, about a million requests) need thousands of requests a second. Every
JSON-RPC call is counted in `calls` (a batch counts each of its calls, as providers bill
them); `http_requests` counts the HTTP requests. `log` keeps (method, params) of every call
unless `keep_log=False` (a mainnet-sized replay would hold millions).
"""

from __future__ import annotations

import socketserver
import threading
from collections import Counter
from typing import Any

import orjson

_REASONS = {200: b"OK", 400: b"Bad Request", 405: b"Method Not Allowed",
            429: b"Too Many Requests"}
_MAX_LINE = 65_536


class RpcFault(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64


class JsonRpcServer:
    def __init__(self, handler: object, *, rate_limit_first: int = 0,
                 keep_log: bool = True, refuse_batches: bool = False) -> None:
        self.handler = handler
        self.refuse_batches = refuse_batches  # answer a batch with one error, as some do
        self.rate_limit_first = rate_limit_first
        self.keep_log = keep_log
        self.calls: Counter[str] = Counter()
        self.log: list[tuple[str, list[Any]]] = []
        self.limited = 0
        self.http_requests = 0
        self._lock = threading.Lock()
        outer = self

        class Handler(socketserver.StreamRequestHandler):
            rbufsize = 1 << 16
            disable_nagle_algorithm = True

            def handle(self) -> None:
                rfile, sock = self.rfile, self.connection
                while True:
                    line = rfile.readline(_MAX_LINE)
                    if not line:
                        return
                    if line in (b"\r\n", b"\n"):
                        continue
                    verb = line.split(b" ", 1)[0]
                    length, close = 0, line.rstrip().endswith(b"HTTP/1.0")
                    while True:
                        h = rfile.readline(_MAX_LINE)
                        if h in (b"\r\n", b"\n", b""):
                            break
                        key, _, value = h.partition(b":")
                        key = key.strip().lower()
                        if key == b"content-length":
                            length = int(value)
                        elif key == b"connection":
                            close = value.strip().lower() == b"close"
                    body = rfile.read(length) if length else b""
                    if verb != b"POST":
                        status, data, extra = 405, b'{"error":"POST only"}', b""
                    else:
                        status, data, extra = outer.respond(body)
                    sock.sendall(
                        b"HTTP/1.1 %d %s\r\ncontent-type: application/json\r\n"
                        b"content-length: %d\r\n%s%s\r\n"
                        % (status, _REASONS.get(status, b"OK"), len(data), extra,
                           b"connection: close\r\n" if close else b"") + data)
                    if close:
                        return

        self.httpd = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def respond(self, body: bytes) -> tuple[int, bytes, bytes]:
        """(HTTP status, body, extra header lines) for one HTTP request's body."""
        with self._lock:
            self.http_requests += 1
            limited = self.limited < self.rate_limit_first
            if limited:
                self.limited += 1
        if limited:
            return 429, b'{"error":"rate limited"}', b"Retry-After: 0\r\n"
        try:
            req = orjson.loads(body)
        except orjson.JSONDecodeError:
            return 400, b'{"error":"not JSON"}', b""
        if isinstance(req, list):
            if self.refuse_batches:
                return 200, orjson.dumps({"jsonrpc": "2.0", "id": None, "error": {
                    "code": -32600, "message": "batch requests are not supported"}}), b""
            return 200, orjson.dumps([self.dispatch(r) for r in req]), b""
        return 200, orjson.dumps(self.dispatch(req)), b""

    def dispatch(self, req: dict[str, Any]) -> dict[str, Any]:
        method = req.get("method", "")
        params = req.get("params") or []
        with self._lock:
            self.calls[method] += 1
            if self.keep_log:
                self.log.append((method, params))
        fn = getattr(self.handler, f"rpc_{method}", None)
        try:
            if fn is None:
                raise RpcFault(-32601, f"Method not found: {method}")
            return {"jsonrpc": "2.0", "id": req.get("id"), "result": fn(*params)}
        except RpcFault as exc:
            return {
                "jsonrpc": "2.0",
                "id": req.get("id"),
                "error": {"code": exc.code, "message": exc.message},
            }

    def __enter__(self) -> JsonRpcServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
