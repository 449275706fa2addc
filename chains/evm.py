"""An EVM chain over the one transport: identity, heads, headers, block times, eth_call.

The readers (indexers/evm), the audit (warehouse/audit) and the partition clock
(indexers/dispatch.chain_clock) reach an EVM chain through `EvmChain`. Every answer is
checked to be for the question: a header for the block number asked, a chain id in hex.
"""

from __future__ import annotations

from typing import Any

from chains.base import BlockHeader, ChainHandle, Header
from chains.blocktime import BlockClock
from chains.transport import BadResponse, ChainMismatch, JsonRpcClient, RpcError
from depinrev.config import ChainConfig

HEADER_BATCH = 200


def _hex_int(value: Any, what: str) -> int:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise BadResponse(f"{what} is {value!r}, not a hex quantity")
    try:
        return int(value, 16)
    except ValueError:
        raise BadResponse(f"{what} is {value!r}, not a hex quantity") from None


def parse_header(raw: Any, number: int) -> Header:
    """A header answer for block `number`, or BadResponse for anything else (another block, a
    missing field, null for a block the node has reported)."""
    if not isinstance(raw, dict):
        raise BadResponse(f"block {number}: answer is {'null' if raw is None else 'not a block'}")
    got = _hex_int(raw.get("number"), f"block {number} number")
    if got != number:
        raise BadResponse(f"asked for block {number}, the answer is block {got}")
    h, parent = raw.get("hash"), raw.get("parentHash")
    if not isinstance(h, str) or not isinstance(parent, str):
        raise BadResponse(f"block {number}: answer lacks hash or parentHash")
    return Header(number, h.lower(), parent.lower(), _hex_int(raw.get("timestamp"), "timestamp"))


def connect(name: str, config: ChainConfig, url: str | None = None) -> JsonRpcClient:
    """A client for the chain's configured RPC (or another `url` of the same chain, e.g. the
    audit's second endpoint), refused (ChainMismatch) if the endpoint reports another chain
    id."""
    client = JsonRpcClient(url or config.rpc_url())
    try:
        got = _hex_int(client.call("eth_chainId", expect=str), "eth_chainId")
    except Exception:
        client.close()
        raise
    if got != config.chain_id:
        client.close()
        raise ChainMismatch(
            f"chains.{name}: the RPC at {client.host} reports chain id {got}, "
            f"but the configuration says {config.chain_id}; refusing to index"
        )
    return client


def head(client: JsonRpcClient) -> int:
    return _hex_int(client.call("eth_blockNumber", expect=str), "eth_blockNumber")


def header(client: JsonRpcClient, number: int) -> Header | None:
    """Block `number`'s header, None if the node does not know it (reorged away, or above
    its head)."""

    def check(raw: Any) -> None:
        if raw is not None:
            parse_header(raw, number)

    raw = client.call(
        "eth_getBlockByNumber", [hex(number), False], expect=(dict, type(None)), check=check,
        where=f"block {number}",
    )
    return None if raw is None else parse_header(raw, number)


def headers(client: JsonRpcClient, numbers: list[int]) -> list[Header]:
    """Headers of blocks the node has reported (at or below its head), in JSON-RPC batches;
    null for such a block is a fault (a lying or lagging backend), retried."""
    out: list[Header] = []
    for i in range(0, len(numbers), HEADER_BATCH):
        part = numbers[i : i + HEADER_BATCH]
        params = [[hex(n), False] for n in part]
        where = f"block {part[0]}" if len(part) == 1 else f"blocks {part[0]}-{part[-1]}"
        try:
            blocks = client.batch(
                "eth_getBlockByNumber", params, expect=dict,
                check=lambda pos, raw, part=part: parse_header(raw, part[pos]), where=where,
            )
        except RpcError:  # some providers refuse batches: one call each
            blocks = [
                client.call(
                    "eth_getBlockByNumber", p, expect=dict,
                    check=lambda raw, n=n: parse_header(raw, n), where=f"block {n}",
                )
                for n, p in zip(part, params, strict=True)
            ]
        out.extend(parse_header(b, n) for n, b in zip(part, blocks, strict=True))
    return out


def eth_call(client: JsonRpcClient, to: str, data: str, block: int) -> bytes:
    """eth_call at `block`; the return data as bytes."""

    def check(result: Any) -> None:
        try:
            if not result.startswith("0x"):
                raise ValueError
            bytes.fromhex(result[2:])
        except ValueError:
            raise BadResponse(f"eth_call result {result[:40]!r} is not hex data") from None

    result = client.call(
        "eth_call", [{"to": to, "data": data}, hex(block)], expect=str, check=check,
        where=f"block {block}",
    )
    return bytes.fromhex(result[2:])


class EvmChain(ChainHandle):
    """One EVM chain's RPC, checked to serve the configured chain id; headers are cached
    (immutable below the final block, and the audit reads some many times)."""

    kind = "evm"

    def __init__(self, client: JsonRpcClient, name: str, config: ChainConfig) -> None:
        super().__init__(client, name, config)
        self.client = client
        self._blocks: dict[int, Header] = {}

    @classmethod
    def connect(cls, name: str, config: ChainConfig) -> EvmChain:
        return cls(connect(name, config), name, config)





    def head(self) -> int:
        return head(self.client)


    def earliest(self) -> int:
        """The lowest block the node serves: EVM archive nodes serve every block."""
        return 0

    def block(self, number: int) -> BlockHeader:
        """The audit's view of block `number` (cached); an unknown block is an RpcError."""
        h = self._blocks.get(number) or header(self.client, number)
        if h is None:
            raise RpcError("eth_getBlockByNumber", None, f"block {number} does not exist",
                           host=self.host)
        self._blocks[number] = h
        return BlockHeader(h.number, h.hash, h.timestamp)

    def timestamp(self, number: int) -> int:
        return self.block(number).timestamp

    def clock(self) -> BlockClock:
        return BlockClock(self.timestamp)

    def call(self, to: str, data: str, block: int) -> bytes:
        return eth_call(self.client, to, data, block)
