"""Checks on what an ingest run wrote: pure functions over the lake, unit-testable."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import pyarrow.parquet as pq

from depinrev.config import Config
from depinrev.lake import Lake


@dataclass(frozen=True)
class CheckOutcome:
    passed: bool
    description: str
    metadata: dict[str, object]


def coverage_contiguous(config: Config, lake: Lake, network: str) -> CheckOutcome:
    """Every chain of the network is covered from its first source block with no gap."""
    problems: list[str] = []
    covered: dict[str, object] = {}
    for chain_name in config.chains_of(network):
        chain = config.any_chain(chain_name)
        first = min(s.start_block for s in config.network(network).sources if s.chain == chain_name)
        ranges = list(lake.load_checkpoint(network, chain.chain_id).covered())
        covered[chain_name] = [list(r) for r in ranges]
        if not ranges:
            problems.append(f"{chain_name}: nothing indexed")
        elif ranges[0][0] != first:
            problems.append(f"{chain_name}: coverage starts at {ranges[0][0]}, not {first}")
        if len(ranges) > 1:
            gaps = [f"{a[1] + 1}-{b[0] - 1}" for a, b in itertools.pairwise(ranges)]
            problems.append(f"{chain_name}: gaps in block coverage: {', '.join(gaps)}")
    return CheckOutcome(
        not problems,
        "; ".join(problems) or f"{network}: block coverage contiguous from the start block",
        {"covered": covered},
    )


def range_indexed(
    lake: Lake, network: str, chain_id: int, block_range: tuple[int, int]
) -> CheckOutcome:
    """The blocks of a partition lie inside one contiguous stretch of indexed chunks."""
    lo, hi = block_range
    ranges = list(lake.load_checkpoint(network, chain_id).covered())
    ok = any(a <= lo and hi <= b for a, b in ranges)
    return CheckOutcome(
        ok,
        f"blocks {lo}-{hi} indexed"
        if ok
        else f"blocks {lo}-{hi} not covered; indexed ranges {ranges}",
        {"blocks": f"{lo}-{hi}", "indexed": [list(r) for r in ranges]},
    )


def rows_written_match(
    lake: Lake,
    network: str,
    chain_id: int,
    chunks: list[tuple[int, int]],
    rows_written: dict[str, int],
) -> CheckOutcome:
    """The rows the indexer reported writing equal the rows read back from its files."""
    read: dict[str, int] = {}
    for dataset in rows_written:
        n = 0
        for start, end in chunks:
            path = lake.chunk_path(dataset, network, chain_id, start, end)
            n += pq.read_metadata(path).num_rows if path.exists() else 0
        read[dataset] = n
    ok = read == rows_written
    return CheckOutcome(
        ok,
        "rows read back equal rows written" if ok else f"written {rows_written} != read {read}",
        {"written": rows_written, "read": read},
    )
