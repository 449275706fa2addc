"""A small JSON-RPC client for the local anvil nodes (plain httpx, no web3 formatters).

The simulator sends thousands of requests; web3's middleware and response formatting cost more
than anvil's work here, so requests go out as raw JSON and come back as plain dicts.
"""

from __future__ import annotations

import itertools
from typing import Any

import httpx
import orjson

from chains.transport import redact


class RpcError(RuntimeError):
    """A JSON-RPC call that returned an error object."""


class Rpc:
    def __init__(self, url: str, timeout: float = 120.0) -> None:
        self.url = url
        self._client = httpx.Client(timeout=timeout, headers={"content-type": "application/json"})
        self._ids = itertools.count(1)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Rpc:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, *params: Any) -> Any:
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": list(params)}
        resp = self._client.post(self.url, content=orjson.dumps(body))
        resp.raise_for_status()
        data = orjson.loads(resp.content)
        if "error" in data:
            raise RpcError(f"{method} failed on {redact(self.url)}: {data['error']}")
        return data["result"]

    def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        """Send many calls in one HTTP request; results come back in call order."""
        if not calls:
            return []
        first = next(self._ids)
        body = [
            {"jsonrpc": "2.0", "id": first + i, "method": m, "params": p}
            for i, (m, p) in enumerate(calls)
        ]
        # Keep the id counter ahead of the ids used by this batch.
        self._ids = itertools.count(first + len(calls))
        resp = self._client.post(self.url, content=orjson.dumps(body))
        resp.raise_for_status()
        by_id = {item["id"]: item for item in orjson.loads(resp.content)}
        out: list[Any] = []
        for i, (method, _) in enumerate(calls):
            item = by_id[first + i]
            if "error" in item:
                raise RpcError(f"{method} failed on {redact(self.url)}: {item['error']}")
            out.append(item["result"])
        return out


def try_chain_id(url: str, timeout: float = 2.0) -> int | None:
    """The chain id of whatever answers JSON-RPC at `url`, or None if nothing sensible does."""
    try:
        with httpx.Client(timeout=timeout) as c:
            r = c.post(url, json={"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []})
            return int(r.json()["result"], 16)
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return None
