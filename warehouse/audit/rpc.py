"""What the audit reads from a chain, behind two small interfaces.

EVM chains (`ChainReader`): `HttpChainReader` speaks JSON-RPC (eth_blockNumber,
eth_getBlockByNumber, eth_call) to the chain's RPC URL; tests can hand the audit any other
object with the same three methods.

Solana and Cosmos chains (`LedgerReader`): `SolanaReader` (getSlot, getBlockTime, getBlock,
getBlocksWithLimit, getBlocks, all at commitment finalized; block numbers are slots) and
`CosmosReader` (CometBFT `status` and `block`; block numbers are heights). They give headers
and block times only: neither chain's standard API reads the sources' state at a past block
in a form the lake can be reconciled with (see warehouse/audit/run.py and docs/tables.md).

Blocks are found by time with the indexer's BlockClock, not a second search.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import httpx

from chains.transport import JsonRpcClient, RpcUnavailable
from chains.transport import RpcError as ClientRpcError
from depinrev.config import (
    ChainConfig,
    CosmosChainConfig,
    SolanaChainConfig,
    SubstrateChainConfig,
)
from indexers.blocktime import BlockClock
from indexers.cosmos.extract import header_of
from indexers.dispatch import MAX_SKIPPED_SLOTS

SELECTOR_TOTAL_SUPPLY = "0x18160ddd"
SELECTOR_BALANCE_OF = "0x70a08231"


class RpcError(RuntimeError):
    """The chain's RPC could not answer; the audit reports it instead of guessing."""


class NoBlock(RpcError):
    """No block at that number: a skipped Solana slot (the number exists, the block does not)."""


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


class LedgerReader(Protocol):
    """A Solana or Cosmos chain as the audit sees it; block numbers are slots or heights."""

    kind: str  # the chain kind: "solana" or "cosmos"

    def head(self) -> int:
        """The newest block the chain considers final (finalized slot, latest height)."""
        ...

    def earliest(self) -> int:
        """The lowest block number the node serves (0 on Solana, earliest height on Cosmos)."""
        ...

    def block(self, number: int) -> BlockHeader:
        """The header at `number`; raises NoBlock when no block was produced there."""
        ...

    def block_time(self, number: int) -> int:
        """Time of block `number`, or of the next produced block if none was produced there
        (so times never decrease along the numbers and the clock's search holds)."""
        ...

    def produced_bounds(self, start: int, end: int) -> tuple[int, int] | None:
        """The first and last produced blocks in [start, end]; None if there is none."""
        ...


AnyChainConfig = ChainConfig | SolanaChainConfig | CosmosChainConfig | SubstrateChainConfig
AnyReader = ChainReader | LedgerReader


class _Client:
    """The indexers' JSON-RPC client (retries, Retry-After) with errors as audit RpcErrors."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.client = JsonRpcClient(url)

    def call(self, method: str, params: list[Any]) -> Any:
        try:
            return self.client.call(method, params)
        except (ClientRpcError, RpcUnavailable) as exc:
            raise RpcError(f"{self.url}: {method}{params} failed: {exc}") from exc

    def close(self) -> None:
        self.client.close()


FINALIZED = {"commitment": "finalized"}
# Solana's answers for a slot without a block (skipped, or not in long-term storage).
SOLANA_NO_BLOCK = ("skipped", "missing in long-term storage", "not available", "-32007",
                   "-32009", "-32004")


class SolanaReader:
    """A Solana cluster at commitment finalized; headers are cached (the audit re-reads them).

    The cluster's genesis hash is checked against the configuration (when it gives one)
    before anything is read, as the indexer does.
    """

    kind = "solana"

    def __init__(self, url: str, genesis_hash: str | None = None) -> None:
        self._rpc = _Client(url)
        self._blocks: dict[int, BlockHeader | None] = {}
        self._times: dict[int, int] = {}
        if genesis_hash is not None:
            got = self._rpc.call("getGenesisHash", [])
            if got != genesis_hash:
                self._rpc.close()
                raise RpcError(
                    f"{url} serves the cluster with genesis hash {got}, but the configuration "
                    f"says {genesis_hash}: not auditing against another cluster"
                )

    def head(self) -> int:
        return int(self._rpc.call("getSlot", [FINALIZED]))

    def earliest(self) -> int:
        return 0

    def _header(self, slot: int) -> BlockHeader | None:
        if slot in self._blocks:
            return self._blocks[slot]
        opts = {"encoding": "json", "transactionDetails": "none", "rewards": False,
                "maxSupportedTransactionVersion": 0, **FINALIZED}
        try:
            raw = self._rpc.call("getBlock", [slot, opts])
        except RpcError as exc:
            if not any(m in str(exc) for m in SOLANA_NO_BLOCK):
                raise
            raw = None
        header = None
        if isinstance(raw, dict) and raw.get("blockTime") is not None:
            header = BlockHeader(slot, str(raw["blockhash"]), int(raw["blockTime"]))
        self._blocks[slot] = header
        return header

    def block(self, number: int) -> BlockHeader:
        header = self._header(number)
        if header is None:
            raise NoBlock(f"slot {number} has no block (skipped)")
        return header

    def block_time(self, number: int) -> int:
        if number in self._times:
            return self._times[number]
        for s in range(number, number + MAX_SKIPPED_SLOTS):
            header = self._header(s)
            if header is not None:
                self._times[number] = header.timestamp
                return header.timestamp
        raise RpcError(f"no produced block in slots {number}..{number + MAX_SKIPPED_SLOTS - 1}")

    def produced_bounds(self, start: int, end: int) -> tuple[int, int] | None:
        first = self._rpc.call("getBlocksWithLimit", [start, 1, FINALIZED])
        if not first or int(first[0]) > end:
            return None
        span = 1_000
        while True:
            lo = max(int(first[0]), end - span + 1)
            produced = self._rpc.call("getBlocks", [lo, end, FINALIZED])
            if produced:
                return int(first[0]), int(max(produced))
            span *= 2

    def close(self) -> None:
        self._rpc.close()


class CosmosReader:
    """A Cosmos SDK chain over CometBFT JSON-RPC; /status must name the configured chain."""

    kind = "cosmos"

    def __init__(self, url: str, chain_name: str) -> None:
        self._rpc = _Client(url)
        self._blocks: dict[int, BlockHeader] = {}
        status = self._status()
        got = (status.get("node_info") or {}).get("network")
        if got != chain_name:
            self._rpc.close()
            raise RpcError(
                f"{url} serves chain {got!r}, but the configuration says {chain_name!r}: not "
                "auditing against another chain"
            )

    def _status(self) -> dict[str, Any]:
        return dict(self._rpc.call("status", []))

    def head(self) -> int:
        return int(self._status()["sync_info"]["latest_block_height"])

    def earliest(self) -> int:
        return int(self._status()["sync_info"].get("earliest_block_height") or 1)

    def block(self, number: int) -> BlockHeader:
        cached = self._blocks.get(number)
        if cached is not None:
            return cached
        h = header_of(self._rpc.call("block", [str(number)]))
        header = BlockHeader(h.number, h.hash, h.timestamp)
        self._blocks[number] = header
        return header

    def block_time(self, number: int) -> int:
        return self.block(number).timestamp

    def produced_bounds(self, start: int, end: int) -> tuple[int, int] | None:
        return (start, end)  # every height has a block

    def close(self) -> None:
        self._rpc.close()


def default_reader(chain: AnyChainConfig) -> AnyReader:
    """The reader of the chain's kind at the chain's configured RPC URL."""
    if isinstance(chain, SolanaChainConfig):
        return SolanaReader(chain.rpc_url(), chain.genesis_hash)
    if isinstance(chain, CosmosChainConfig):
        return CosmosReader(chain.rpc_url(), chain.chain_name)
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
