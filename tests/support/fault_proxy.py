"""A seeded fault-injecting JSON-RPC proxy on 127.0.0.1 in front of an upstream URL.

Per request, with a seeded RNG and a rate, it injects one of the enabled fault classes;
otherwise (and when a class does not apply to the request) it forwards the request as is.
The classes are the ways real providers and the networks between fail:

transient (must be retried away; the result must not change):
  http_429            HTTP 429 with Retry-After: 0
  http_429_bare       HTTP 429 without Retry-After
  http_5xx_html       HTTP 502 with an HTML body (a load balancer's error page)
  http_200_html       HTTP 200 with an HTML body (a captive portal, a CDN page)
  reset               the connection closed without an answer (RST)
  stall               no answer until past the client's timeout, then closed
  cut                 the upstream answer cut at a random byte (Content-Length matches the cut)
  wrong_id            the upstream answer with another id (for a batch: one element's)
  batch_missing       a batch answer with one element missing
  range_error         eth_getLogs refused as too large (EVM; the client must split)
  crossed             the answer to another question with the id rewritten: eth_getLogs of
                      another block range (one with logs), getTransaction of another signature,
                      a CometBFT block / block_results of another height; in a batch, two
                      calls' results swapped (a batch of getTransaction)
  empty               a `result` of null from a lying provider
benign (valid JSON-RPC; must simply parse, to the same result):
  whitespace          the upstream answer re-serialized with spaces and newlines
  batch_reordered     a batch answer in another order

`stats` counts the injections per class. Only 127.0.0.1 upstreams are used in tests.
"""

from __future__ import annotations

import json
import random
import socket
import struct
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import orjson

TRANSIENT = (
    "http_429",
    "http_429_bare",
    "http_5xx_html",
    "http_200_html",
    "reset",
    "stall",
    "cut",
    "wrong_id",
    "batch_missing",
    "range_error",
    "crossed",
    "empty",
)
BENIGN = ("whitespace", "batch_reordered")
ALL_CLASSES = TRANSIENT + BENIGN
HTML = b"<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>\n"


class FaultProxy:
    def __init__(
        self,
        upstream: str,
        *,
        seed: int,
        rate: float,
        classes: tuple[str, ...] | list[str],
        stall_seconds: float = 1.0,
        methods: set[str] | None = None,
    ) -> None:
        """`methods`: inject only into requests of these methods (a batch by its method);
        others always pass through untouched."""
        unknown = set(classes) - set(ALL_CLASSES)
        if unknown:
            raise ValueError(f"unknown fault classes {sorted(unknown)}")
        self.upstream = upstream
        self.rate = rate
        self.classes = list(classes)
        self.stall_seconds = stall_seconds
        self.methods = methods
        self.stats: Counter[str] = Counter()
        self.requests = 0
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._http = httpx.Client(timeout=30.0, headers={"content-type": "application/json"})
        self._signatures: list[str] = []  # seen in getTransaction requests (crossed answers)
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = 1 << 16
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                outer._handle(self, body)

            def send(self, status: int, data: bytes, headers: dict[str, str] | None = None,
                     ctype: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("content-type", ctype)
                self.send_header("content-length", str(len(data)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    # --- lifecycle ------------------------------------------------------------------------
    def __enter__(self) -> FaultProxy:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._http.close()

    # --- helpers --------------------------------------------------------------------------
    def _forward(self, body: bytes) -> bytes:
        resp = self._http.post(self.upstream, content=body)
        return resp.content

    def _pick(self, req: Any) -> str | None:
        with self._lock:
            self.requests += 1
            if isinstance(req, dict) and req.get("method") == "getTransaction":
                sig = (req.get("params") or [None])[0]
                if isinstance(sig, str) and sig not in self._signatures:
                    self._signatures.append(sig)
            if self.methods is not None:
                first = req[0] if isinstance(req, list) and req else req
                method = first.get("method") if isinstance(first, dict) else None
                if method not in self.methods:
                    return None
            if not self.classes or self._rng.random() >= self.rate:
                return None
            return self._rng.choice(self.classes)

    def _rand(self, n: int) -> int:
        with self._lock:
            return self._rng.randrange(n)

    # --- one request ----------------------------------------------------------------------
    def _handle(self, h: Any, body: bytes) -> None:
        try:
            req = orjson.loads(body)
        except orjson.JSONDecodeError:
            req = None
        fault = self._pick(req)
        answer = self._inject(h, fault, req, body)
        if answer is None:
            return
        status, data, headers = answer
        h.send(status, data, headers)

    def _count(self, fault: str) -> None:
        with self._lock:
            self.stats[fault] += 1

    def _inject(
        self, h: Any, fault: str | None, req: Any, body: bytes
    ) -> tuple[int, bytes, dict[str, str]] | None:
        is_batch = isinstance(req, list)
        method = req.get("method") if isinstance(req, dict) else None
        if fault == "http_429":
            self._count(fault)
            return 429, b'{"error":"rate limited"}', {"Retry-After": "0"}
        if fault == "http_429_bare":
            self._count(fault)
            return 429, b"Too Many Requests", {}
        if fault == "http_5xx_html":
            self._count(fault)
            h.send(502, HTML, ctype="text/html")
            return None
        if fault == "http_200_html":
            self._count(fault)
            h.send(200, HTML, ctype="text/html")
            return None
        if fault == "reset":
            self._count(fault)
            h.close_connection = True
            h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return None
        if fault == "stall":
            self._count(fault)
            time.sleep(self.stall_seconds)
            h.close_connection = True
            return None
        if fault == "range_error" and method == "eth_getLogs":
            self._count(fault)
            err = {"code": -32005, "message": "query returned more than 10000 results"}
            return 200, orjson.dumps({"jsonrpc": "2.0", "id": req.get("id"), "error": err}), {}
        if fault == "crossed" and not is_batch and isinstance(req, dict):
            crossed = self._crossed(req)
            if crossed is not None:
                self._count(fault)
                return 200, crossed, {}

        data = self._forward(body)
        if method == "getSignaturesForAddress":
            self._remember_signatures(data)
        if fault is None:
            return 200, data, {}
        if fault == "cut" and len(data) > 1:
            self._count(fault)
            return 200, data[: 1 + self._rand(len(data) - 1)], {}
        try:
            doc = orjson.loads(data)
        except orjson.JSONDecodeError:
            return 200, data, {}
        if fault == "wrong_id":
            self._count(fault)
            target = doc[self._rand(len(doc))] if isinstance(doc, list) and doc else doc
            if isinstance(target, dict):
                target["id"] = (target.get("id") or 0) + 1000
            return 200, orjson.dumps(doc), {}
        if fault == "crossed" and isinstance(doc, list) and len(doc) > 1:
            # a batch's answers crossed: two calls' results swapped, their ids kept
            i = self._rand(len(doc) - 1)
            x, y = doc[i], doc[i + 1]
            if isinstance(x, dict) and isinstance(y, dict) and x.get("result") != y.get("result"):
                self._count(fault)
                x["result"], y["result"] = y.get("result"), x.get("result")
                return 200, orjson.dumps(doc), {}
        if fault == "batch_missing" and isinstance(doc, list) and doc:
            self._count(fault)
            del doc[self._rand(len(doc))]
            return 200, orjson.dumps(doc), {}
        if fault == "batch_reordered" and isinstance(doc, list) and len(doc) > 1:
            self._count(fault)
            doc = doc[1:] + doc[:1]
            return 200, orjson.dumps(doc), {}
        if fault == "empty" and isinstance(doc, dict) and "result" in doc:
            self._count(fault)
            doc["result"] = None
            return 200, orjson.dumps(doc), {}
        if fault == "whitespace":
            self._count(fault)
            # key order reversed, spaces after separators, newlines: still the same JSON
            def rev(x: Any) -> Any:
                if isinstance(x, dict):
                    return {k: rev(x[k]) for k in reversed(list(x))}
                if isinstance(x, list):
                    return [rev(v) for v in x]
                return x

            indent = None if self._rand(2) else 1
            return 200, json.dumps(rev(doc), indent=indent).encode(), {}
        return 200, data, {}

    def _remember_signatures(self, data: bytes) -> None:
        try:
            listed = orjson.loads(data).get("result") or []
        except (orjson.JSONDecodeError, AttributeError):
            return
        with self._lock:
            for entry in listed:
                sig = entry.get("signature") if isinstance(entry, dict) else None
                if isinstance(sig, str) and sig not in self._signatures:
                    self._signatures.append(sig)

    def _crossed(self, req: dict[str, Any]) -> bytes | None:
        """The upstream's answer to a neighbouring question, with this request's id."""
        method = req.get("method")
        params = list(req.get("params") or [])
        others: list[list[Any]] = []
        if method == "eth_getLogs" and params and isinstance(params[0], dict):
            flt = params[0]
            lo, hi = int(flt["fromBlock"], 16), int(flt["toBlock"], 16)
            span = hi - lo + 1
            for k in (1, -1, 2, -2, 3, 5, 8):
                a = lo + k * span
                if a >= 0:
                    others.append([{**flt, "fromBlock": hex(a), "toBlock": hex(a + span - 1)}])
        elif method == "getTransaction" and params:
            with self._lock:
                sigs = [s for s in self._signatures if s != params[0]]
            others = [[s, *params[1:]] for s in sigs[-3:]]
        elif method in ("block", "block_results") and params:
            height = int(params[0])
            others = [[str(height + 1)], [str(height - 1)]]
        for p in others:
            out = self._forward(
                orjson.dumps({"jsonrpc": "2.0", "id": req.get("id"), "method": method, "params": p})
            )
            try:
                doc = orjson.loads(out)
            except orjson.JSONDecodeError:
                continue
            result = doc.get("result") if isinstance(doc, dict) else None
            if result:  # an answer with content: an empty one is the `empty` class
                return out
        return None
