"""The audit's access to a Substrate chain (Bittensor): a LedgerReader over chains.substrate.

Block numbers are heights; every height has a block; the head is the finalized head (GRANDPA);
block times come from the header's Aura slot, as the indexer reads them. The genesis hash is
checked against the configuration before anything is read.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from chains.substrate import SubstrateClient, SubstrateError
from chains.transport import RpcError as ClientRpcError
from chains.transport import RpcUnavailable
from warehouse.audit.rpc import BlockHeader, RpcError

T = TypeVar("T")


class SubstrateReader:
    """A Substrate chain as the audit sees it; headers are cached (the audit re-reads them)."""

    kind = "substrate"

    def __init__(self, url: str, genesis_hash: str, slot_seconds: int = 12) -> None:
        self._client = SubstrateClient(url, slot_seconds=slot_seconds)
        self._blocks: dict[int, BlockHeader] = {}
        got = self._guard(self._client.genesis_hash)
        if got.lower() != genesis_hash.lower():
            self._client.close()
            raise RpcError(
                f"{url} serves the chain with genesis hash {got}, but the configuration says "
                f"{genesis_hash}: not auditing against another chain"
            )

    def _guard(self, fn: Callable[..., T], *args: Any) -> T:
        try:
            return fn(*args)
        except (ClientRpcError, RpcUnavailable, SubstrateError) as exc:
            raise RpcError(f"{self._client.url}: {exc}") from exc

    def head(self) -> int:
        return int(self._guard(self._client.finalized_head))

    def earliest(self) -> int:
        return 0

    def block(self, number: int) -> BlockHeader:
        cached = self._blocks.get(number)
        if cached is not None:
            return cached
        h = self._guard(self._client.header_at, number)
        header = BlockHeader(h.number, h.hash, h.timestamp)
        self._blocks[number] = header
        return header

    def block_time(self, number: int) -> int:
        return self.block(number).timestamp

    def produced_bounds(self, start: int, end: int) -> tuple[int, int] | None:
        return (start, end)  # every height has a block

    def close(self) -> None:
        self._client.close()
