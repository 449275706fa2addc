"""A JSON-RPC server on 127.0.0.1 that answers like an EVM node from recorded data.

It applies eth_getLogs filters (block range, address, topics per position) to recorded logs
exactly as a node does, serves block headers, answers batches, and can misbehave like real
providers: refuse wide ranges ("block range too large"), refuse large result sets, rate-limit
with HTTP 429 + Retry-After. Every fault is bounded and counted; the HTTP side is the
generic JsonRpcServer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tests.support.jsonrpc_server import JsonRpcServer, RpcFault


@dataclass
class Faults:
    max_block_range: int | None = None  # refuse wider eth_getLogs ranges
    max_results: int | None = None  # refuse responses with more logs
    rate_limit_first: int = 0  # answer the first N requests with HTTP 429 (JsonRpcServer)
    counts: dict[str, int] = field(default_factory=lambda: {"range": 0, "results": 0})


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

    # --- methods ---------------------------------------------------------------------------
    def rpc_eth_chainId(self) -> str:
        return hex(self.chain_id)

    def rpc_eth_blockNumber(self) -> str:
        return hex(self.head)

    def rpc_eth_getBlockByNumber(self, number: str, full: bool = False) -> dict[str, Any] | None:
        n = self.head if number == "latest" else int(number, 16)
        return self.headers.get(n)

    def rpc_eth_getLogs(self, flt: dict[str, Any]) -> list[dict[str, Any]]:
        lo = int(flt.get("fromBlock", "0x0"), 16)
        hi = int(flt.get("toBlock", hex(self.head)), 16)
        f = self.faults
        if f.max_block_range is not None and hi - lo + 1 > f.max_block_range:
            f.counts["range"] += 1
            raise RpcFault(-32005, f"block range too large: max is {f.max_block_range}")
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
            raise RpcFault(-32005, f"query returned more than {f.max_results} results")
        return out


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


class EvmServer(JsonRpcServer):
    """Serve a RecordedChain over HTTP on 127.0.0.1; use as a context manager."""

    def __init__(self, chain: RecordedChain) -> None:
        super().__init__(chain, rate_limit_first=chain.faults.rate_limit_first)
        self.chain = chain
