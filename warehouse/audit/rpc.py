"""What the audit reads from a chain, behind one small interface.

`HttpChainReader` speaks JSON-RPC (eth_blockNumber, eth_getBlockByNumber, eth_call) to the
chain's RPC URL; tests can hand the audit any other object with the same three methods.
Blocks are found by time with the indexer's BlockClock (`block_clock`), not a second search.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import httpx

from depinrev.config import ChainConfig
from indexers.blocktime import BlockClock

SELECTOR_TOTAL_SUPPLY = "0x18160ddd"
SELECTOR_BALANCE_OF = "0x70a08231"


class RpcError(RuntimeError):
    """The chain's RPC could not answer; the audit reports it instead of guessing."""


@dataclass(frozen=True)
class BlockHeader:
    number: int
    hash: str
    timestamp: int


class ChainReader(Protocol):
    def head(self) -> int: ...

    def block(self, number: int) -> BlockHeader: ...

    def call(self, to: str, data: str, block: int) -> bytes: ...


class HttpChainReader:
    """A JSON-RPC client for one chain; block headers are cached (the audit re-reads them)."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.url = url
        self._client = httpx.Client(timeout=timeout)
        self._blocks: dict[int, BlockHeader] = {}
        self._id = 0

    def _rpc(self, method: str, params: list[object]) -> object:
        self._id += 1
        try:
            resp = self._client.post(
                self.url, json={"jsonrpc": "2.0", "id": self._id, "method": method,
                                "params": params}
            )
            resp.raise_for_status()
            body = resp.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise RpcError(f"{self.url}: {method} failed: {exc}") from exc
        if "error" in body:
            raise RpcError(f"{self.url}: {method}{params} returned error {body['error']}")
        return body.get("result")

    def head(self) -> int:
        return int(str(self._rpc("eth_blockNumber", [])), 16)

    def block(self, number: int) -> BlockHeader:
        cached = self._blocks.get(number)
        if cached is not None:
            return cached
        raw = self._rpc("eth_getBlockByNumber", [hex(number), False])
        if not isinstance(raw, dict):
            raise RpcError(f"{self.url}: block {number} does not exist")
        header = BlockHeader(number, str(raw["hash"]).lower(), int(str(raw["timestamp"]), 16))
        self._blocks[number] = header
        return header

    def call(self, to: str, data: str, block: int) -> bytes:
        result = self._rpc("eth_call", [{"to": to, "data": data}, hex(block)])
        return bytes.fromhex(str(result).removeprefix("0x"))

    def close(self) -> None:
        self._client.close()


def default_reader(chain: ChainConfig) -> ChainReader:
    return HttpChainReader(chain.rpc_url())


def block_clock(reader: ChainReader) -> BlockClock:
    """The indexer's BlockClock over `reader` (header reads go through the reader's cache), so
    the audit's quarter boundaries use the codebase's one binary search over block times."""
    return BlockClock(lambda n: reader.block(n).timestamp)


def uint_word(data: bytes) -> int:
    """A uint256 return value; an empty result (no contract at that block yet) reads as 0."""
    if not data:
        return 0
    return int.from_bytes(data[:32], "big")


def total_supply(reader: ChainReader, token: str, block: int) -> int:
    return uint_word(reader.call(token, SELECTOR_TOTAL_SUPPLY, block))


def balance_of(reader: ChainReader, token: str, holder: str, block: int) -> int:
    data = SELECTOR_BALANCE_OF + holder.lower().removeprefix("0x").rjust(64, "0")
    return uint_word(reader.call(token, data, block))
