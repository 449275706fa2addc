"""Map wall-clock time to blocks (binary search over block timestamps), and the final head.

Block timestamps never decrease along a chain (EVM blocks, Solana slots, Cosmos heights), so
the first block at or after a time is found with O(log n) header reads. Used to turn a day or
a quarter into a block range. This is the codebase's one such search: the Dagster ingest
partitions and the warehouse audit's quarter boundaries both use it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


def final_block(head: int, finality_depth: int) -> int:
    """The newest block counted as final: `finality_depth` blocks (slots, heights) below the
    head. The one place this is computed (readers, the audit and the partition clock)."""
    return head - finality_depth


@dataclass
class BlockClock:
    """Timestamps of blocks read so far (headers are immutable below the final block).

    `timestamp_of(n)` reads block n's time (unix seconds) from the chain; see
    chains.evm / chains.solana / chains.cosmos `clock()` for one per chain kind.
    """

    timestamp_of: Callable[[int], int]
    cache: dict[int, int] = field(default_factory=dict)

    def timestamp(self, number: int) -> int:
        if number not in self.cache:
            self.cache[number] = self.timestamp_of(number)
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
