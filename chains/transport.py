"""A raw JSON-RPC client for EVM nodes: bytes in, bytes out, retries with backoff.

The hot path (eth_getLogs) never builds web3 response objects: it gets the response body
as bytes and hands it to the bulk decoder. Small calls (chain id, head, headers) are parsed
with orjson. Provider errors that mean "ask for less" are raised as RangeTooLarge so the
caller can split the block range; transient failures are retried with exponential backoff
(honouring Retry-After).
"""

from __future__ import annotations

import functools
import itertools
import logging
import random
import re
import ssl
import threading
import time
from typing import Any

import httpx
import orjson

log = logging.getLogger(__name__)

# Messages providers use when a getLogs range or result set is too large (Alchemy, Infura,
# QuickNode, Ankr, geth, erigon, reth, anvil, ...). Matched case-insensitively.
_RANGE_PATTERNS = re.compile(
    r"block range|range too (large|wide|big)|too many (blocks|results|logs)|"
    r"query returned more than|response size|exceed(s|ed) (the )?(max|limit)|"
    r"limit exceeded|log response size|eth_getLogs is limited|query timeout exceeded|"
    r"max(imum)? (block )?range|up to a \d+ block range",
    re.IGNORECASE,
)
_RETRY_STATUS = {408, 425, 429, 500, 502, 503, 504}


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process: building one loads the CA bundle (~25 ms),
    which every client would otherwise pay again."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


class RpcError(RuntimeError):
    """A JSON-RPC error object returned by the node."""

    def __init__(self, method: str, code: int | None, message: str, data: Any = None) -> None:
        super().__init__(f"{method}: JSON-RPC error {code}: {message}")
        self.method = method
        self.code = code
        self.message = message
        self.data = data


class RangeTooLarge(RpcError):
    """The provider refused the request as too large: split the block range and retry."""


class RpcUnavailable(RuntimeError):
    """The endpoint could not be reached or kept failing after all retries."""


class JsonRpcClient:
    """Thread-safe JSON-RPC over HTTP with bounded retries.

    `max_retries` bounds transient-failure retries per call; backoff is exponential with
    jitter, capped at `max_backoff` seconds, and a server's Retry-After wins when given.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float = 60.0,
        max_retries: int = 6,
        backoff: float = 0.25,
        max_backoff: float = 10.0,
        pool_size: int = 16,
    ) -> None:
        self.url = url
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._ids = itertools.count(1)
        self._id_lock = threading.Lock()
        self._http = httpx.Client(
            verify=_tls_context(),
            timeout=httpx.Timeout(timeout, connect=10.0),
            limits=httpx.Limits(max_connections=pool_size, max_keepalive_connections=pool_size),
            headers={"content-type": "application/json"},
        )
        self.stats = {"requests": 0, "retries": 0, "range_errors": 0, "bytes": 0}

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> JsonRpcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _next_id(self) -> int:
        with self._id_lock:
            return next(self._ids)

    # --- transport ------------------------------------------------------------------------
    def _post(self, payload: bytes, what: str) -> bytes:
        """POST with retries on transport errors and retryable HTTP statuses."""
        attempt = 0
        while True:
            delay: float | None = None
            try:
                self.stats["requests"] += 1
                resp = self._http.post(self.url, content=payload)
                if resp.status_code == 200:
                    body = resp.content
                    self.stats["bytes"] += len(body)
                    return body
                if resp.status_code in _RETRY_STATUS:
                    delay = _retry_after(resp.headers.get("retry-after"))
                    err = f"HTTP {resp.status_code}"
                elif resp.status_code == 413:
                    raise RangeTooLarge(what, 413, "HTTP 413: request or response too large")
                else:
                    # Some providers send JSON-RPC errors with a 4xx status: surface them.
                    body = resp.content
                    if body.lstrip().startswith(b"{"):
                        return body
                    raise RpcError(
                        what, resp.status_code, f"HTTP {resp.status_code}: {body[:200]!r}"
                    )
            except (httpx.TransportError, httpx.TimeoutException) as exc:
                err = f"{type(exc).__name__}: {exc}"
            attempt += 1
            if attempt > self.max_retries:
                raise RpcUnavailable(
                    f"{what} to {self.url} failed after {self.max_retries} retries: {err}"
                )
            self.stats["retries"] += 1
            if delay is None:
                delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                delay *= 0.5 + random.random()  # jitter keeps parallel workers apart
            log.debug("retrying %s in %.2fs after %s", what, delay, err)
            time.sleep(delay)

    def call_raw(self, method: str, params: list[Any]) -> bytes:
        """Call and return the raw response body; raise on a JSON-RPC error object.

        Rate-limit errors sent as JSON-RPC errors (code 429 / -32005 without a range hint)
        are retried like HTTP 429.
        """
        payload = orjson.dumps(
            {"jsonrpc": "2.0", "id": self._next_id(), "method": method, "params": params}
        )
        for attempt in range(self.max_retries + 1):
            body = self._post(payload, method)
            # A result body never holds the key "error"; an error body is small.
            if b'"error"' not in body[:256] and b'"error"' not in body[-512:]:
                return body
            doc = orjson.loads(body)
            if "error" not in doc or doc["error"] is None:
                return body
            exc = _to_error(method, doc["error"])
            if isinstance(exc, RangeTooLarge):
                self.stats["range_errors"] += 1
                raise exc
            if exc.code in (429, -32005, -32029) and attempt < self.max_retries:
                self.stats["retries"] += 1
                time.sleep(min(self.max_backoff, self.backoff * 2**attempt))
                continue
            raise exc
        raise AssertionError("unreachable")

    def call(self, method: str, params: list[Any] | None = None) -> Any:
        """Call and return the parsed `result`."""
        doc = orjson.loads(self.call_raw(method, params or []))
        if "result" not in doc:
            raise RpcError(method, None, f"response has neither result nor error: {doc!r}"[:300])
        return doc["result"]

    def batch(self, method: str, params_list: list[list[Any]]) -> list[Any]:
        """Several calls of one method in one JSON-RPC batch; results in request order."""
        if not params_list:
            return []
        with self._id_lock:
            ids = [next(self._ids) for _ in params_list]
        reqs = [
            {"jsonrpc": "2.0", "id": i, "method": method, "params": p}
            for i, p in zip(ids, params_list, strict=True)
        ]
        body = self._post(orjson.dumps(reqs), f"batch {method}")
        docs = orjson.loads(body)
        if isinstance(docs, dict):  # a provider refusing batches answers with one error
            raise _to_error(f"batch {method}", docs.get("error") or {"message": str(docs)})
        by_id = {d.get("id"): d for d in docs}
        out = []
        for r in reqs:
            d = by_id.get(r["id"])
            if d is None:
                raise RpcError(method, None, f"batch response lacks id {r['id']}")
            if d.get("error") is not None:
                raise _to_error(method, d["error"])
            out.append(d["result"])
        return out


def _to_error(method: str, err: dict[str, Any]) -> RpcError:
    code = err.get("code")
    message = str(err.get("message", ""))
    data = err.get("data")
    text = f"{message} {data if isinstance(data, str) else ''}"
    cls = RangeTooLarge if _RANGE_PATTERNS.search(text) else RpcError
    return cls(method, code, message, data)


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return min(60.0, max(0.0, float(value)))
    except ValueError:
        return None
