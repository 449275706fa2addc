"""A JSON-RPC proxy on 127.0.0.1 in front of a real node that lies about eth_getLogs (and
CountingProxy, the same proxy telling the truth, to count a run's requests).

Every request is forwarded to the upstream node unchanged, except that eth_getLogs answers
leave out the logs of blocks in a blanked range: a provider that silently returns nothing (or
too little) for some blocks. The answer is still well-formed, so the indexer cannot tell.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import httpx

from tests.support.jsonrpc_server import JsonRpcServer, RpcFault


class _Forwarder:
    def __init__(self, upstream: str, blank: tuple[int, int] | None) -> None:
        self.upstream = upstream
        self.blank = blank
        self.blanked_logs = 0
        self._client = httpx.Client(timeout=30.0)
        self._ids = itertools.count(1)

    def forward(self, method: str, params: list[Any]) -> Any:
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        data = self._client.post(self.upstream, json=body).json()
        if "error" in data:
            raise RpcFault(int(data["error"].get("code", -32000)), str(data["error"]["message"]))
        return data.get("result")

    def rpc_eth_getLogs(self, flt: dict[str, Any]) -> list[dict[str, Any]]:
        logs = self.forward("eth_getLogs", [flt])
        if self.blank is None:
            return list(logs)
        lo, hi = self.blank
        kept = [lg for lg in logs if not lo <= int(lg["blockNumber"], 16) <= hi]
        self.blanked_logs += len(logs) - len(kept)
        return kept

    def __getattr__(self, name: str) -> Callable[..., Any]:
        if not name.startswith("rpc_"):
            raise AttributeError(name)
        method = name.removeprefix("rpc_")
        return lambda *params: self.forward(method, list(params))

    def close(self) -> None:
        self._client.close()


class LyingProxy(JsonRpcServer):
    """Serve `upstream` on 127.0.0.1, without the logs of blocks blank[0]..blank[1]."""

    def __init__(self, upstream: str, blank: tuple[int, int]) -> None:
        self.forwarder = _Forwarder(upstream, blank)
        super().__init__(self.forwarder)

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self.forwarder.close()


class CountingProxy(JsonRpcServer):
    """Serve `upstream` on 127.0.0.1 unchanged, counting every JSON-RPC call (`calls`; a
    batch's calls one by one): the requests a run makes against a real node (anvil)."""

    def __init__(self, upstream: str) -> None:
        self.forwarder = _Forwarder(upstream, None)
        super().__init__(self.forwarder)

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self.forwarder.close()
