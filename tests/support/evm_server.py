"""A JSON-RPC server on 127.0.0.1 that answers like an EVM node from recorded data.

It applies eth_getLogs filters (block range, address, topics per position) to recorded logs
exactly as a node does, serves block headers, answers batches, and can misbehave like real
providers: refuse wide ranges ("block range too large"), refuse large result sets, rate-limit
with HTTP 429 + Retry-After, or drop connections. Every fault is bounded and counted.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import orjson


@dataclass
class Faults:
    max_block_range: int | None = None  # refuse wider eth_getLogs ranges
    max_results: int | None = None  # refuse responses with more logs
    rate_limit_first: int = 0  # answer the first N requests with HTTP 429
    counts: dict[str, int] = field(default_factory=lambda: {"range": 0, "results": 0, "429": 0})


class RecordedChain:
    def __init__(
        self,
        chain_id: int,
        logs: list[dict[str, Any]],
        headers: dict[int, dict[str, Any]],
        head: int,
        faults: Faults | None = None,
    ) -> None:
        self.chain_id = chain_id
        self.logs = logs
        self.headers = headers
        self.head = head
        self.faults = faults or Faults()
        self.requests: list[str] = []
        self._lock = threading.Lock()

    # --- methods ---------------------------------------------------------------------------
    def eth_chainId(self) -> str:
        return hex(self.chain_id)

    def eth_blockNumber(self) -> str:
        return hex(self.head)

    def eth_getBlockByNumber(self, number: str, full: bool = False) -> dict[str, Any] | None:
        n = self.head if number == "latest" else int(number, 16)
        return self.headers.get(n)

    def eth_getLogs(self, flt: dict[str, Any]) -> list[dict[str, Any]]:
        lo = int(flt.get("fromBlock", "0x0"), 16)
        hi = int(flt.get("toBlock", hex(self.head)), 16)
        f = self.faults
        if f.max_block_range is not None and hi - lo + 1 > f.max_block_range:
            f.counts["range"] += 1
            raise _RpcFault(-32005, f"block range too large: max is {f.max_block_range}")
        addrs = flt.get("address")
        if isinstance(addrs, str):
            addrs = [addrs]
        addrs = None if addrs is None else {a.lower() for a in addrs}
        topics = flt.get("topics") or []
        out = []
        for lg in self.logs:
            b = int(lg["blockNumber"], 16)
            if not lo <= b <= hi:
                continue
            if addrs is not None and lg["address"].lower() not in addrs:
                continue
            if not _topics_match(lg["topics"], topics):
                continue
            out.append(lg)
        if f.max_results is not None and len(out) > f.max_results:
            f.counts["results"] += 1
            raise _RpcFault(-32005, f"query returned more than {f.max_results} results")
        return out

    def dispatch(self, req: dict[str, Any]) -> dict[str, Any]:
        method = req.get("method", "")
        with self._lock:
            self.requests.append(method)
        fn = getattr(self, method, None) if method.startswith("eth_") else None
        try:
            if fn is None:
                raise _RpcFault(-32601, f"the method {method} does not exist/is not available")
            result = fn(*req.get("params", []))
            return {"jsonrpc": "2.0", "id": req.get("id"), "result": result}
        except _RpcFault as exc:
            return {
                "jsonrpc": "2.0",
                "id": req.get("id"),
                "error": {"code": exc.code, "message": exc.message},
            }


class _RpcFault(Exception):
    def __init__(self, code: int, message: str) -> None:
        self.code = code
        self.message = message


def _topics_match(log_topics: list[str], flt: list[Any]) -> bool:
    for i, want in enumerate(flt):
        if want is None:
            continue
        if i >= len(log_topics):
            return False
        options = [want] if isinstance(want, str) else want
        if log_topics[i].lower() not in {o.lower() for o in options}:
            return False
    return True


class EvmServer:
    """Serve a RecordedChain over HTTP on 127.0.0.1; use as a context manager."""

    def __init__(self, chain: RecordedChain) -> None:
        self.chain = chain
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                f = outer.chain.faults
                with outer.chain._lock:
                    limited = f.counts["429"] < f.rate_limit_first
                    if limited:
                        f.counts["429"] += 1
                if limited:
                    self._send(429, b'{"error":"rate limited"}', {"Retry-After": "0"})
                    return
                req = orjson.loads(body)
                if isinstance(req, list):
                    resp = orjson.dumps([outer.chain.dispatch(r) for r in req])
                else:
                    resp = orjson.dumps(outer.chain.dispatch(req))
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

    def __enter__(self) -> EvmServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
