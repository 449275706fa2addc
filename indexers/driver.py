"""The one reader driver: the outline every chain kind shares, written once.

For one network on one chain, under the network-chain's writer lock:

1. the chain kind opens a session (identity checked, sources of the chain known);
2. the final head (`head - finality_depth`) and the requested range, widened to whole chunks
   of the fixed grid (so backfills and one-shot runs write the same files);
3. the checkpoint, and a reorg walk where the chain kind can reorg (EVM): the chunks from the
   first changed one are dropped and indexed again;
4. the chunks still to do (all files and a checkpoint record make a chunk complete);
5. the chain kind's preparation over those chunks (e.g. Solana lists signatures once);
6. each chunk: the chain kind reads and decodes it (`index_chunk(start, end)`), the driver
   writes its dataset files, then its blocks file last (its presence marks a whole chunk),
   then records it in the checkpoint;
7. the report.

A chain kind supplies only what differs (`ChainSession`): which requests, how to decode.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

import pyarrow as pa

from chains.blocktime import final_block
from depinrev.config import Config, ConfigError, SourceConfig, SourceKind
from depinrev.lake import Checkpoint, ChunkRecord, Lake, ReorgRecord
from indexers.chunked import (
    ChainReport,
    ProgressFn,
    aligned_range,
    chunks_to_do,
    record_chunk,
    run_bounded,
    run_budgeted,
    writer_lock,
)

log = logging.getLogger(__name__)


@dataclass
class ChunkOutput:
    """A chunk read and decoded, not yet written: a table per dataset, the blocks table and
    the hashes of its boundary blocks (empty strings where a chunk has no produced block)."""

    tables: dict[str, pa.Table]
    blocks: pa.Table
    boundary_hashes: tuple[str, str]


class ChainSession(Protocol):
    """What a chain kind supplies for one network on one of its chains."""

    chain_id: int
    finality_depth: int
    chunk_size: int
    sources: list[SourceConfig]
    datasets: list[str]  # every dataset each chunk writes
    workers: int  # chunks in flight at once (1: one after another)

    def head(self) -> int:
        """The chain's newest block as the node reports it (before finality depth)."""
        ...

    def find_reorg(self, cp: Checkpoint, head: int) -> ReorgRecord | None:
        """The first recorded chunk whose boundary no longer matches the chain, if any."""
        ...

    def prepare(self, todo: list[tuple[int, int]]) -> None:
        """Work done once for all chunks to do (listings, range checks)."""
        ...

    def index_chunk(self, start: int, end: int) -> ChunkOutput:
        """Read and decode one chunk (thread-safe: several chunks may run at once)."""
        ...

    def finish(self, report: ChainReport) -> None:
        """Fill the chain kind's counters into the report (items read, ignored, RPC stats)."""
        ...

    def close(self) -> None: ...


SessionFactory = Callable[[], ChainSession]


class SessionOnChain:
    """What every chain kind's session reads from the configuration the same way: the
    network's sources on the chain (of the given source kind, if one), the chain's
    configuration (refused unless it is of `chain_type`), its id, finality depth and chunk
    size. A session subclasses it and adds its connection and reads."""

    def __init__(
        self,
        config: Config,
        network: str,
        chain_name: str,
        chain_kind: str,
        source_kind: SourceKind | None = None,
    ) -> None:
        chain = config.any_chain(chain_name)
        if chain.kind != chain_kind:
            raise ConfigError(f"chains.{chain_name} is not a {chain_kind} chain")
        self.network = network
        self.chain_name = chain_name
        self.chain = chain
        self.chain_id: int = chain.chain_id
        self.finality_depth: int = chain.finality_depth
        self.chunk_size: int = chain.chunk_size
        self.sources: list[SourceConfig] = [
            s
            for s in config.network(network).sources
            if s.chain == chain_name and (source_kind is None or s.kind is source_kind)
        ]


def write_chunk(
    lake: Lake,
    network: str,
    chain_id: int,
    start: int,
    end: int,
    out: ChunkOutput,
    writer: Executor | None = None,
) -> ChunkRecord:
    """Write a chunk's dataset files (in parallel on `writer`: a file's fsync is I/O wait),
    then its blocks file last: its presence with the checkpoint record marks a whole chunk."""
    names = sorted(out.tables)
    if writer is None:
        for d in names:
            lake.write_chunk(d, network, chain_id, start, end, out.tables[d])
    else:
        futures = [
            writer.submit(lake.write_chunk, d, network, chain_id, start, end, out.tables[d])
            for d in names
        ]
        for f in futures:
            f.result()
    lake.write_chunk("blocks", network, chain_id, start, end, out.blocks)
    rows = {d: out.tables[d].num_rows for d in names}
    return ChunkRecord(start, end, out.boundary_hashes[0], out.boundary_hashes[1], rows)


def drive(
    open_session: SessionFactory,
    lake: Lake,
    network: str,
    chain_name: str,
    chain_id: int,
    *,
    from_block: int | None = None,
    to_block: int | None = None,
    overwrite: bool = False,
    progress: ProgressFn | None = None,
) -> ChainReport:
    """Index one network's sources on one chain: the outline above, for any chain kind."""
    t0 = time.perf_counter()
    with writer_lock(lake, network, chain_id):
        session = open_session()
        try:
            report = _run(session, lake, network, chain_name, from_block, to_block, overwrite,
                          progress)
        finally:
            session.close()
    report.seconds = time.perf_counter() - t0
    return report


def _run(
    session: ChainSession,
    lake: Lake,
    network: str,
    chain_name: str,
    from_block: int | None,
    to_block: int | None,
    overwrite: bool,
    progress: ProgressFn | None,
) -> ChainReport:
    cid = session.chain_id
    head = session.head()
    final = final_block(head, session.finality_depth)
    first = min(s.start_block for s in session.sources)
    rng = aligned_range(first, final, session.chunk_size, from_block, to_block)
    report = ChainReport(chain_name, cid, head, final, rng)
    cp = lake.load_checkpoint(network, cid)

    reorg = session.find_reorg(cp, head)
    if reorg is not None:
        log.warning(
            "%s/%s: block %d hash changed (%s -> %s): re-indexing from block %d",
            network, chain_name, reorg.block_number, reorg.stored_hash, reorg.chain_hash,
            reorg.reindexed_from,
        )
        cp.drop_from(reorg.reindexed_from)
        cp.reorgs.append(reorg)
        lake.delete_from(network, cid, reorg.reindexed_from)
        lake.save_checkpoint(cp)
        report.reorgs.append(reorg)
        if rng is not None:
            rng = (min(rng[0], reorg.reindexed_from), rng[1])
    if rng is None:
        session.finish(report)
        return report

    todo, report.chunks_skipped = chunks_to_do(
        lake, cp, network, cid, rng, session.chunk_size, session.datasets, overwrite
    )
    if todo:
        # A chain kind that classifies with facts of earlier ranges (Akash: depositors of
        # escrow accounts) reads them from the lake once, before its chunks.
        load_history = getattr(session, "load_history", None)
        if load_history is not None:
            load_history(lake)
        session.prepare(todo)
    for rec in _write_chunks(session, lake, network, todo):
        record_chunk(
            report, cp, lake, rec,
            network=network, chain_name=chain_name, total=len(todo), progress=progress,
        )
    session.finish(report)
    return report


def _write_chunks(
    session: ChainSession, lake: Lake, network: str, todo: list[tuple[int, int]]
) -> Iterator[ChunkRecord]:
    workers = session.workers

    with ThreadPoolExecutor(max_workers=2 * workers, thread_name_prefix="write") as writer:

        def run(se: tuple[int, int]) -> ChunkRecord:
            out = session.index_chunk(*se)
            missing = set(session.datasets) - set(out.tables)
            if missing:  # a chain kind that forgot a dataset would leave chunks never complete
                raise RuntimeError(f"chunk {se[0]}-{se[1]} has no table for {sorted(missing)}")
            return write_chunk(lake, network, session.chain_id, se[0], se[1], out, writer)

        # No chunk queued beyond the busy workers: a dense chunk holds tens of MB of response
        # bodies and Arrow tables, and peak memory scales with the chunks in flight. A chain
        # kind with a row budget (EVM) bounds them by their rows as well: four dense chunks
        # at once would exceed the memory a single one fits in.
        budget: int | None = getattr(session, "rows_in_flight", None)
        if budget is None:
            yield from run_bounded(run, todo, workers, workers)
        else:
            yield from run_budgeted(run, todo, workers, budget, _rows)


def _rows(rec: ChunkRecord) -> int:
    return sum(rec.rows.values())
