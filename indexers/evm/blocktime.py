"""Map wall-clock time to blocks: binary search over block timestamps.

Block timestamps never decrease along a chain, so the first block at or after a time is
found with O(log n) header reads. Used to turn a day or a quarter into a block range.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


class HeaderRpc(Protocol):
    """What BlockClock needs from a node: `eth_getBlockByNumber` (indexers.evm.rpc.JsonRpcClient;
    the warehouse audit adapts its own chain reader to it)."""

    def call(self, method: str, params: list[Any] | None = None) -> Any: ...


@dataclass
class BlockClock:
    """Timestamps of blocks read so far (headers are immutable below the final block).

    The codebase's one binary search over block timestamps: the indexer's pipelines and the
    warehouse audit's quarter boundaries both use it.
    """

    client: HeaderRpc
    cache: dict[int, int] = field(default_factory=dict)

    def timestamp(self, number: int) -> int:
        if number not in self.cache:
            block = self.client.call("eth_getBlockByNumber", [hex(number), False])
            if block is None:
                raise LookupError(f"block {number} is unknown to the node")
            self.cache[number] = int(block["timestamp"], 16)
        return self.cache[number]

    def first_at_or_after(self, ts: int, lo: int, hi: int) -> int | None:
        """The first block in [lo, hi] whose timestamp is >= ts, or None if there is none."""
        if lo > hi or self.timestamp(hi) < ts:
            return None
        while lo < hi:
            mid = (lo + hi) // 2
            if self.timestamp(mid) >= ts:
                hi = mid
            else:
                lo = mid + 1
        return lo

    def range_for(self, start_ts: int, end_ts: int, lo: int, hi: int) -> tuple[int, int] | None:
        """Blocks in [lo, hi] with start_ts <= timestamp < end_ts (None if no such block)."""
        first = self.first_at_or_after(start_ts, lo, hi)
        if first is None:
            return None
        after = self.first_at_or_after(end_ts, first, hi)
        last = hi if after is None else after - 1
        return (first, last) if first <= last else None
