"""The one JSON-RPC transport: bytes in, checked answers out, retries with backoff and jitter.

Every answer is proved before it counts. A body counts only if it is one complete JSON-RPC
envelope: `jsonrpc` "2.0", the request's `id`, a `result` of the expected type (for a batch:
every id exactly once); a caller can add a check that the answer is for the question asked
(the block range of eth_getLogs, the slot of a transaction, the height of a block). Anything
else (a cut body, an HTML page, an empty body, a wrong id, a missing answer, a crossed answer)
is a transient fault (`BadResponse`): retried like HTTP 429/5xx and connection errors, with
exponential backoff and jitter, a server's Retry-After winning; after the retries the caller
gets `RpcUnavailable`, one line naming the fault, the method, the block range and the host.

The hot path (eth_getLogs) never builds Python objects per log: the caller's `parse` gets the
body bytes and proves completeness itself (indexers/evm/decode.parse_logs_body).

Provider errors that mean "ask for less" are raised as RangeTooLarge so the caller can split
the block range; other JSON-RPC error objects are the node's answer (RpcError), raised at once,
except rate limits sent as error objects, which are retried.

An RPC URL carries secrets (API keys in the path or query): it is never shown or stored, only
`redact(url)` (scheme, host, port) is. Timeouts and the retry budget come from the environment
when not given: DEPINREV_RPC_TIMEOUT (seconds), DEPINREV_RPC_RETRIES, DEPINREV_RPC_BACKOFF
(seconds, the first backoff step).
"""

from __future__ import annotations

import functools
import itertools
import logging
import os
import random
import re
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

import orjson
import urllib3
from urllib3.exceptions import HTTPError as Urllib3Error

from depinrev.config import ConfigError

log = logging.getLogger(__name__)

T = TypeVar("T")

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
_RATE_LIMIT_CODES = {429, -32005, -32029}
_ENVELOPE_KEYS = {"jsonrpc", "id", "result", "error"}

DEFAULT_TIMEOUT = 60.0
DEFAULT_RETRIES = 6
DEFAULT_BACKOFF = 0.25


def redact(url: str) -> str:
    """An RPC URL as it may be shown and stored: scheme://host[:port], nothing else (provider
    URLs carry API keys in the path, the query or the user part)."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "(unparseable RPC URL)"
    if not parts.scheme or not host:
        return "(unparseable RPC URL)"
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")


class RedactUrls(logging.Filter):
    """Rewrites URLs in log records to `redact(url)`, and hides the request target (path and
    query) in urllib3's request lines ('"POST /v2/KEY?api-key=... HTTP/1.1" 200'): provider
    URLs carry API keys there, which would otherwise reach the logs at DEBUG."""

    _URL = re.compile(r"[a-zA-Z][a-zA-Z0-9+.-]*://[^\s\"'<>]+")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(self._clean(a) for a in record.args)
        if isinstance(record.msg, str) and "://" in record.msg:
            # a format's own "%s://%s:%s" (urllib3's request line) is left for the args
            record.msg = self._URL.sub(
                lambda m: m.group(0) if "%" in m.group(0) else redact(m.group(0)), record.msg
            )
        return True

    def _clean(self, arg: object) -> object:
        if not isinstance(arg, str):
            return arg
        if "://" in arg:
            return self._URL.sub(lambda m: redact(m.group(0)), arg)
        if arg.startswith("/") and arg != "/":
            return "/(path hidden)"
        return arg


for _name in ("urllib3.connectionpool", "urllib3.connection", "urllib3.response",
              "urllib3.poolmanager", "urllib3.util.retry"):
    if not any(isinstance(f, RedactUrls) for f in logging.getLogger(_name).filters):
        logging.getLogger(_name).addFilter(RedactUrls())


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"environment variable {name}={raw!r} is not a number") from None
    if value < 0:
        raise ConfigError(f"environment variable {name}={raw!r} must not be negative")
    return value


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context per process: building one loads the CA bundle (~25 ms),
    which every client would otherwise pay again."""
    import certifi

    return ssl.create_default_context(cafile=certifi.where())


# --- errors -------------------------------------------------------------------------------
class ChainAccessError(RuntimeError):
    """Reaching a chain failed; the message is one line naming what, where (host) and why."""


class RpcError(ChainAccessError):
    """A JSON-RPC error object returned by the node (its answer, not a transport fault)."""

    def __init__(
        self, method: str, code: int | None, message: str, data: Any = None, host: str = ""
    ) -> None:
        at = f" at {host}" if host else ""
        super().__init__(f"{method}{at}: JSON-RPC error {code}: {message}")
        self.method = method
        self.code = code
        self.message = message
        self.data = data
        self.host = host


class RangeTooLarge(RpcError):
    """The provider refused the request as too large: split the block range and retry."""


class RpcUnavailable(ChainAccessError):
    """The endpoint could not be reached, or kept answering faults, after all retries."""

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        host: str = "",
        fault: str = "",
        where: str | None = None,
    ) -> None:
        super().__init__(message)
        self.method = method
        self.host = host
        self.fault = fault
        self.where = where


class ChainMismatch(ChainAccessError, ConfigError):
    """The RPC endpoint serves another chain than the configuration says."""


class BadResponse(ValueError):
    """A body that is not one complete JSON-RPC answer to the request sent: a transient fault
    (cut, HTML, empty, wrong id, missing answers, an answer to another question)."""


class _RateLimited(Exception):
    def __init__(self, fault: str) -> None:
        super().__init__(fault)


# --- envelopes ----------------------------------------------------------------------------
def loads(body: bytes) -> Any:
    """orjson.loads with a cut, empty or HTML body as BadResponse (never JSONDecodeError)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        if not body.strip():
            raise BadResponse("empty body") from None
        if body.lstrip()[:1] == b"<":
            raise BadResponse("an HTML page instead of JSON") from None
        raise BadResponse(
            f"body is not complete JSON (cut or garbled, {len(body)} bytes)"
        ) from None


def check_envelope(doc: Any, request_id: int) -> dict[str, Any]:
    """The JSON-RPC 2.0 envelope of one answer: a dict with jsonrpc "2.0" and the request's id,
    holding a result or an error."""
    if not isinstance(doc, dict):
        raise BadResponse(f"answer is a {type(doc).__name__}, not a JSON-RPC object")
    if doc.get("jsonrpc") != "2.0":
        raise BadResponse(f"answer has jsonrpc {doc.get('jsonrpc')!r}, not '2.0'")
    if doc.get("id") != request_id or isinstance(doc.get("id"), bool):
        raise BadResponse(f"answer has id {doc.get('id')!r}, the request had {request_id}")
    if "result" not in doc and doc.get("error") is None:
        raise BadResponse("answer has neither result nor error")
    return doc


def _expect(method: str, result: Any, expect: type | tuple[type, ...] | None) -> None:
    if expect is not None and not isinstance(result, expect):
        kinds = expect if isinstance(expect, tuple) else (expect,)
        names = " or ".join("null" if k is type(None) else k.__name__ for k in kinds)
        got = "null" if result is None else type(result).__name__
        raise BadResponse(f"{method} result is {got}, expected {names}")


# --- the client ---------------------------------------------------------------------------
class JsonRpcClient:
    """Thread-safe JSON-RPC over HTTP with bounded retries and strict answers.

    `max_retries` bounds transient-fault retries per call; backoff is exponential with
    jitter, capped at `max_backoff` seconds, and a server's Retry-After wins when given.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        backoff: float | None = None,
        max_backoff: float = 10.0,
        pool_size: int = 16,
    ) -> None:
        self.host = redact(url)
        if timeout is None:
            timeout = _env_number("DEPINREV_RPC_TIMEOUT", DEFAULT_TIMEOUT)
        if max_retries is None:
            max_retries = int(_env_number("DEPINREV_RPC_RETRIES", DEFAULT_RETRIES))
        if backoff is None:
            backoff = _env_number("DEPINREV_RPC_BACKOFF", DEFAULT_BACKOFF)
        self.timeout = timeout
        self.max_retries = max_retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self._ids = itertools.count(1)
        self._id_lock = threading.Lock()
        self._http = _Http(url, self.host, timeout, pool_size)
        self.stats = {"requests": 0, "retries": 0, "range_errors": 0, "bytes": 0}

    def __repr__(self) -> str:
        return f"JsonRpcClient({self.host})"

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> JsonRpcClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _next_id(self) -> int:
        with self._id_lock:
            return next(self._ids)

    # --- the retry loop -------------------------------------------------------------------
    def _exchange(
        self, payload: bytes, method: str, where: str | None, parse: Callable[[bytes], T]
    ) -> T:
        """POST `payload` and return `parse(body)`, retrying transient faults."""
        attempt = 0
        while True:
            delay: float | None = None
            try:
                self.stats["requests"] += 1
                resp = self._http.post(payload)
                status = resp.status
                if status in _RETRY_STATUS:
                    delay = _retry_after(resp.headers.get("retry-after"))
                    fault = f"HTTP {status}"
                elif status == 413:
                    raise RangeTooLarge(
                        method, 413, "HTTP 413: request or response too large", host=self.host
                    )
                else:
                    body = resp.data
                    if status != 200 and not body.lstrip().startswith((b"{", b"[")):
                        # 401, 403, 404 ...: the endpoint refuses; retrying will not help
                        reason = f"HTTP {status} {resp.reason or ''}".rstrip()
                        raise RpcError(method, status, reason, host=self.host)
                    self.stats["bytes"] += len(body)
                    return parse(body)
            except BadResponse as exc:
                fault = str(exc)
            except _RateLimited as exc:
                fault = str(exc)
            except Urllib3Error as exc:  # refused, reset, timed out, cut short, TLS
                fault = _transport_fault(exc, self._http.target)
            attempt += 1
            if attempt > self.max_retries:
                span = f" {where}" if where else ""
                raise RpcUnavailable(
                    f"{method}{span} at {self.host}: no valid answer after "
                    f"{self.max_retries} retries; last fault: {fault}",
                    method=method,
                    host=self.host,
                    fault=fault,
                    where=where,
                )
            self.stats["retries"] += 1
            if delay is None:
                delay = min(self.max_backoff, self.backoff * 2 ** (attempt - 1))
                delay *= 0.5 + random.random()  # jitter keeps parallel workers apart
            log.debug("retrying %s at %s in %.2fs after %s", method, self.host, delay, fault)
            time.sleep(delay)

    def _error(self, method: str, err: Any) -> RpcError:
        """The node's error object as an exception; rate limits are transient (retried)."""
        if not isinstance(err, dict):
            raise BadResponse(f"error member is a {type(err).__name__}, not an object")
        exc = _to_error(method, err, self.host)
        if isinstance(exc, RangeTooLarge):
            self.stats["range_errors"] += 1
            return exc
        if exc.code in _RATE_LIMIT_CODES:
            raise _RateLimited(f"rate limited (JSON-RPC error {exc.code})")
        return exc

    # --- calls ----------------------------------------------------------------------------
    def call_parsed(
        self,
        method: str,
        params: list[Any],
        parse: Callable[[bytes, int], T],
        *,
        where: str | None = None,
    ) -> T:
        """Call and hand the raw body to `parse(body, request_id)`, which returns the value or
        raises BadResponse (retried) or `self.raise_error(...)`'s RpcError. The body's error
        object, if it has one, is found first: an error body is small."""
        request_id = self._next_id()
        payload = orjson.dumps(
            {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        )

        def error_in(body: bytes) -> None:
            doc = loads(body)
            if isinstance(doc, dict) and doc.get("error") is not None:
                check_envelope(doc, request_id)
                raise self._error(method, doc["error"])

        def checked(body: bytes) -> T:
            if b'"error"' in body[:256] or b'"error"' in body[-512:]:
                error_in(body)
            try:
                return parse(body, request_id)
            except BadResponse:
                if b'"error"' in body:  # a long error object (big `data`)
                    error_in(body)
                raise

        return self._exchange(payload, method, where, checked)

    def call(
        self,
        method: str,
        params: list[Any] | None = None,
        *,
        expect: type | tuple[type, ...] | None = None,
        check: Callable[[Any], None] | None = None,
        where: str | None = None,
    ) -> Any:
        """Call and return the `result`, of type `expect` (when given) and accepted by
        `check(result)` (which raises BadResponse for an answer to another question)."""
        request_id = self._next_id()
        payload = orjson.dumps(
            {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params or []}
        )

        def parse(body: bytes) -> Any:
            doc = check_envelope(loads(body), request_id)
            if doc.get("error") is not None:
                raise self._error(method, doc["error"])
            result = doc["result"]
            _expect(method, result, expect)
            if check is not None:
                check(result)
            return result

        return self._exchange(payload, method, where, parse)

    def batch(
        self,
        method: str,
        params_list: list[list[Any]],
        *,
        expect: type | tuple[type, ...] | None = None,
        check: Callable[[int, Any], None] | None = None,
        where: str | None = None,
    ) -> list[Any]:
        """Several calls of one method in one JSON-RPC batch; results in request order.

        Every request id must be answered exactly once (any order); `check(i, result)` sees
        each result with its request's position."""
        if not params_list:
            return []
        with self._id_lock:
            ids = [next(self._ids) for _ in params_list]
        reqs = [
            {"jsonrpc": "2.0", "id": i, "method": method, "params": p}
            for i, p in zip(ids, params_list, strict=True)
        ]
        what = f"batch {method}"

        def parse(body: bytes) -> list[Any]:
            docs = loads(body)
            if isinstance(docs, dict):  # a provider refusing batches answers with one error
                if docs.get("error") is not None:
                    raise self._error(what, docs["error"])
                raise BadResponse("batch answered with one object, not a list")
            if not isinstance(docs, list):
                raise BadResponse(f"batch answer is a {type(docs).__name__}, not a list")
            by_id: dict[int, dict[str, Any]] = {}
            for d in docs:
                if not isinstance(d, dict):
                    raise BadResponse("batch answer holds a non-object")
                rid = d.get("id")
                if not isinstance(rid, int) or isinstance(rid, bool) or rid in by_id:
                    raise BadResponse(f"batch answer has id {rid!r} twice or of a wrong type")
                by_id[rid] = d
            if set(by_id) != set(ids):
                missing = sorted(set(ids) - set(by_id))
                extra = sorted(set(by_id) - set(ids))
                raise BadResponse(
                    f"batch answer lacks ids {missing[:3]} / has unknown ids {extra[:3]}"
                )
            out = []
            for pos, rid in enumerate(ids):
                d = check_envelope(by_id[rid], rid)
                if d.get("error") is not None:
                    raise self._error(method, d["error"])
                result = d["result"]
                _expect(method, result, expect)
                if check is not None:
                    check(pos, result)
                out.append(result)
            return out

        return self._exchange(orjson.dumps(reqs), what, where, parse)


def _to_error(method: str, err: dict[str, Any], host: str = "") -> RpcError:
    code = err.get("code")
    message = str(err.get("message", ""))
    data = err.get("data")
    text = f"{message} {data if isinstance(data, str) else ''}"
    cls = RangeTooLarge if _RANGE_PATTERNS.search(text) else RpcError
    return cls(method, code if isinstance(code, int) else None, message, data, host)


def _transport_fault(exc: Exception, target: str) -> str:
    """A transport error as a fault text without the request URL or its path (they carry
    keys); urllib3 names the pool by host and port only."""
    text = str(exc).replace(target, "/(path hidden)") if target != "/" else str(exc)
    if "://" in text:
        text = ""
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


class _Http:
    """POSTs to one RPC URL over keep-alive connections (urllib3), through the proxy the
    environment names for it, if any (HTTP_PROXY / HTTPS_PROXY / ALL_PROXY, minus NO_PROXY,
    read as urllib reads them).

    The body is read whole into one buffer as the server sends it (httpx, used before, read
    it in 64 KiB pieces joined at the end: ~6x the CPU and ~50,000 page faults per 144 MB of
    eth_getLogs answers, docs/benchmarks.md). A plain-http endpoint (a local node) makes no
    TLS context; https verifies against certifi's CA bundle. Credentials in the URL's user
    part are sent as HTTP basic auth. Redirects are not followed, nothing is retried here
    (the client's loop does that)."""

    def __init__(self, url: str, shown: str, timeout: float, size: int) -> None:
        try:
            parts = urllib3.util.parse_url(url)
        except urllib3.exceptions.LocationParseError:
            parts = None
        if parts is None or parts.scheme not in ("http", "https") or not parts.host:
            raise ConfigError(f"RPC URL {shown} is not an http:// or https:// URL")
        headers = {"content-type": "application/json", "accept-encoding": "gzip, deflate"}
        if parts.auth:
            headers.update(urllib3.util.make_headers(basic_auth=unquote(parts.auth)))
        common: dict[str, Any] = {
            "maxsize": size,
            "timeout": urllib3.Timeout(connect=min(10.0, timeout), read=timeout),
            "retries": False,
        }
        if parts.scheme == "https":
            common["ssl_context"] = _tls_context()
        proxy = _proxy_for(parts.scheme, parts.host)
        self.pool: urllib3.HTTPConnectionPool | urllib3.ProxyManager
        if proxy is not None:
            self.pool = urllib3.ProxyManager(proxy, num_pools=1, headers=headers, **common)
            self.target = parts._replace(auth=None).url  # a proxy is asked for the whole URL
        else:
            cls = (urllib3.HTTPSConnectionPool if parts.scheme == "https"
                   else urllib3.HTTPConnectionPool)
            self.pool = cls(parts.host, parts.port, headers=headers, **common)
            self.target = parts.request_uri
        self.via_proxy = proxy is not None

    def post(self, payload: bytes) -> urllib3.BaseHTTPResponse:
        return self.pool.urlopen(
            "POST", self.target, body=payload, retries=False, redirect=False,
            preload_content=True,  # the whole body, or an error if it is cut short
        )

    def close(self) -> None:
        if isinstance(self.pool, urllib3.ProxyManager):
            self.pool.clear()
        else:
            self.pool.close()


def _proxy_for(scheme: str, host: str) -> str | None:
    """The proxy URL the environment gives for `scheme://host`, None if none applies."""
    if not any(k.lower().endswith("_proxy") for k in os.environ):
        return None  # the usual case, without importing urllib.request
    import urllib.request

    proxies = urllib.request.getproxies()
    proxy = proxies.get(scheme) or proxies.get("all")
    if not proxy or urllib.request.proxy_bypass(host):
        return None
    return proxy


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return min(60.0, max(0.0, float(value)))
    except ValueError:
        return None
