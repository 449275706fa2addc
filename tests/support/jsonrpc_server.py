"""A generic JSON-RPC server on 127.0.0.1 answering from a Python object's methods.

Method `foo` of the request calls `rpc_foo(*params)` on the handler object; a handler raises
RpcFault for a JSON-RPC error. Batches are answered in order. The first `rate_limit_first`
requests get HTTP 429 with Retry-After: 0, as a provider's rate limiter would.
"""

from __future__ import annotations

import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


class RpcFault(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class JsonRpcServer:
    def __init__(self, handler: object, *, rate_limit_first: int = 0) -> None:
        self.handler = handler
        self.rate_limit_first = rate_limit_first
        self.calls: Counter[str] = Counter()
        self.log: list[tuple[str, list[Any]]] = []
        self.limited = 0
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # One buffered write per response and no Nagle delay: otherwise every
            # keep-alive request waits ~40 ms for a delayed ACK.
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with outer._lock:
                    limited = outer.limited < outer.rate_limit_first
                    if limited:
                        outer.limited += 1
                if limited:
                    self._send(429, b'{"error":"rate limited"}', {"Retry-After": "0"})
                    return
                req = orjson.loads(body)
                if isinstance(req, list):
                    resp = orjson.dumps([outer.dispatch(r) for r in req])
                else:
                    resp = orjson.dumps(outer.dispatch(req))
                self._send(200, resp, {})

            def _send(self, status: int, data: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def dispatch(self, req: dict[str, Any]) -> dict[str, Any]:
        method = req.get("method", "")
        params = req.get("params") or []
        with self._lock:
            self.calls[method] += 1
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
