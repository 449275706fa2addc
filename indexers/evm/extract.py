"""Index a network's EVM sources into the lake: plan chunks, fetch, decode, write, checkpoint.

Job -> reader -> mapper -> sink: a chunk is a block range on a fixed grid (multiples of the
chain's chunk_size, so the same blocks always land in the same file however a run was asked
for); the reader fetches its logs with eth_getLogs, splitting the range when the provider
refuses it; the mapper decodes the logs in bulk; the sink writes one file per dataset and a
blocks file, atomically. Chunks run concurrently (fetching, parsing and writing release the
GIL) with a bounded number in flight; the checkpoint records each finished chunk with its
boundary block hashes, so a crash resumes where it stopped and a deep reorg is detected.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl
import pyarrow as pa

from chains.transport import JsonRpcClient, RangeTooLarge
from depinrev.config import ChainConfig, Config, SourceConfig, SourceKind
from depinrev.lake import BLOCKS_SCHEMA, Checkpoint, ChunkRecord, Lake, ReorgRecord
from indexers.chunked import (
    ChainMismatch,
    ChainReport,
    ProgressFn,
    aligned_range,
    chunks_to_do,
    record_chunk,
    run_bounded,
    with_writer_lock,
)
from indexers.evm.decode import (
    DecodeStats,
    ReorgDuringRun,
    datasets_for,
    decode_logs,
    normalize,
    parse_logs_body,
)
from indexers.evm.events import EVENTS, TRANSFER, ZERO_TOPIC

log = logging.getLogger(__name__)

HEADER_BATCH = 200
CHUNK_ATTEMPTS = 4


class IndexError_(RuntimeError):
    """Indexing could not complete; the message says which chunk and why."""


def log_filters(sources: list[SourceConfig]) -> list[dict[str, Any]]:
    """eth_getLogs filters (without the block range) that fetch exactly what the sources need.

    ERC-20 sources ask only for mints and burns (topic filters on the zero address) unless
    they keep every transfer; other kinds ask for their event topics.
    """
    filters: list[dict[str, Any]] = []
    erc20_all = sorted(
        s.address for s in sources if s.kind is SourceKind.erc20 and s.index_transfers
    )
    erc20_supply = sorted(
        s.address for s in sources if s.kind is SourceKind.erc20 and not s.index_transfers
    )
    if erc20_all:
        filters.append({"address": erc20_all, "topics": [TRANSFER.topic0]})
    if erc20_supply:
        filters.append({"address": erc20_supply, "topics": [TRANSFER.topic0, None, ZERO_TOPIC]})
        filters.append({"address": erc20_supply, "topics": [TRANSFER.topic0, ZERO_TOPIC]})
    others = [s for s in sources if s.kind is not SourceKind.erc20]
    if others:
        topics = sorted({spec.topic0 for s in others for spec, _ in EVENTS[s.kind]})
        filters.append({"address": sorted({s.address for s in others}), "topics": [topics]})
    return filters


# --- fetching -----------------------------------------------------------------------------
class LogFetcher:
    """eth_getLogs over a block range, splitting it when the provider says it is too large.

    The working span adapts: it halves on a refusal and grows back after a run of successes,
    so a provider's limit is learned once instead of hit on every chunk.
    """

    def __init__(self, client: JsonRpcClient, max_span: int) -> None:
        self.client = client
        self.max_span = max_span
        self.span = max_span
        self._ok = 0
        self._lock = threading.Lock()

    def _shrink(self, failed: int) -> None:
        with self._lock:
            self.span = max(1, min(self.span, failed // 2))
            self._ok = 0

    def _grew(self) -> None:
        with self._lock:
            self._ok += 1
            if self._ok >= 16 and self.span < self.max_span:
                self.span = min(self.max_span, self.span * 2)
                self._ok = 0

    def fetch(self, flt: dict[str, Any], start: int, end: int) -> list[pa.Table]:
        out: list[pa.Table] = []
        pending = [(start, end)]
        while pending:
            s, e = pending.pop()
            if e - s + 1 > self.span:
                mid = s + self.span - 1
                pending.extend([(mid + 1, e), (s, mid)])
                continue
            params = [{**flt, "fromBlock": hex(s), "toBlock": hex(e)}]
            try:
                body = self.client.call_raw("eth_getLogs", params)
            except RangeTooLarge:
                if s == e:
                    raise
                self._shrink(e - s + 1)
                mid = (s + e) // 2
                pending.extend([(mid + 1, e), (s, mid)])
                continue
            self._grew()
            out.append(parse_logs_body(body))
        return out


def fetch_headers(client: JsonRpcClient, numbers: list[int]) -> pl.DataFrame:
    """Headers (number, hash, parent hash, timestamp) of the given blocks, in JSON-RPC batches."""
    rows: list[dict[str, Any]] = []
    for i in range(0, len(numbers), HEADER_BATCH):
        part = numbers[i : i + HEADER_BATCH]
        params = [[hex(n), False] for n in part]
        try:
            blocks = client.batch("eth_getBlockByNumber", params)
        except Exception:  # some providers refuse batches: one call each
            blocks = [client.call("eth_getBlockByNumber", p) for p in params]
        for n, b in zip(part, blocks, strict=True):
            if b is None:
                raise ReorgDuringRun(f"block {n} is unknown to the node (reorged or pruned)")
            rows.append(
                {
                    "block_number": int(b["number"], 16),
                    "block_hash": b["hash"].lower(),
                    "parent_hash": b["parentHash"].lower(),
                    "block_timestamp": int(b["timestamp"], 16),
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "block_number": pl.Int64,
            "block_hash": pl.String,
            "parent_hash": pl.String,
            "block_timestamp": pl.Int64,
        },
    )


def read_chunk_tables(
    client: JsonRpcClient,
    network: str,
    chain_id: int,
    sources: list[SourceConfig],
    start: int,
    end: int,
    *,
    max_span: int = 10_000,
) -> dict[str, pa.Table]:
    """The decoded dataset tables of one chunk for the given sources, read from `client` and
    NOT written: the fetch and decode of index_chunk, with the same filters, range splitting,
    headers and decoder (the audit's second endpoint reads a chunk again with this and compares
    it with the lake)."""
    fetcher = LogFetcher(client, max(1, max_span))
    raw: list[pa.Table] = []
    for flt in log_filters(sources):
        raw.extend(fetcher.fetch(flt, start, end))
    logs = normalize(pa.concat_tables(raw)) if raw else normalize(parse_logs_body(b'{"result":[]}'))
    logs = logs.unique(subset=["block_number", "log_index"], keep="first", maintain_order=True)
    wanted = sorted({start, end, *logs["block_number"].unique().to_list()})
    headers = fetch_headers(client, wanted)
    tables = decode_logs(logs, headers, sources, network=network, chain_id=chain_id,
                         stats=DecodeStats())
    return {d: tables[d] for d in datasets_for(sources)}


# --- one chunk ----------------------------------------------------------------------------
@dataclass
class ChunkJob:
    network: str
    chain_id: int
    sources: list[SourceConfig]
    filters: list[dict[str, Any]]
    datasets: list[str]
    start: int
    end: int
    # Where the chunk's dataset files are written (None: one after another, in this thread).
    writer: Executor | None = field(default=None, compare=False, repr=False)


def index_chunk(job: ChunkJob, fetcher: LogFetcher, lake: Lake, stats: DecodeStats) -> ChunkRecord:
    """Fetch, decode and write one chunk; retried by the caller on ReorgDuringRun.

    With a `job.writer` pool, the chunk's dataset files are encoded and synced in parallel
    (a file's fsync is I/O wait, not CPU); the blocks file still goes last, after all of them.
    """
    raw: list[pa.Table] = []
    for flt in job.filters:
        raw.extend(fetcher.fetch(flt, job.start, job.end))
    logs = normalize(pa.concat_tables(raw)) if raw else normalize(parse_logs_body(b'{"result":[]}'))
    del raw  # the raw strings are copied into `logs`: free them before decoding
    # A transfer from 0x0 to 0x0 matches both the mint and the burn filter.
    logs = logs.unique(subset=["block_number", "log_index"], keep="first", maintain_order=True)
    wanted = sorted({job.start, job.end, *logs["block_number"].unique().to_list()})
    headers = fetch_headers(fetcher.client, wanted)
    tables = decode_logs(
        logs, headers, job.sources, network=job.network, chain_id=job.chain_id, stats=stats
    )
    blocks = _blocks_table(headers, job)
    rows = {dataset: tables[dataset].num_rows for dataset in job.datasets}
    writer = job.writer
    if writer is None:
        for d in job.datasets:
            lake.write_chunk(d, job.network, job.chain_id, job.start, job.end, tables[d])
    else:
        futures = [
            writer.submit(
                lake.write_chunk, d, job.network, job.chain_id, job.start, job.end, tables[d]
            )
            for d in job.datasets
        ]
        for f in futures:
            f.result()
    del tables
    # The blocks file is written last: its presence with the checkpoint marks a whole chunk.
    lake.write_chunk("blocks", job.network, job.chain_id, job.start, job.end, blocks)
    by_num = dict(
        zip(headers["block_number"].to_list(), headers["block_hash"].to_list(), strict=True)
    )
    return ChunkRecord(job.start, job.end, by_num[job.start], by_num[job.end], rows)


def _blocks_table(headers: pl.DataFrame, job: ChunkJob) -> pa.Table:
    h = headers.sort("block_number")
    n = h.height
    roles = [
        "boundary" if b in (job.start, job.end) else "log" for b in h["block_number"].to_list()
    ]
    return pa.Table.from_arrays(
        [
            pa.array([job.chain_id] * n, pa.int64()),
            pa.array([job.network] * n, pa.string()),
            h["block_number"].to_arrow(),
            h["block_hash"].to_arrow().cast(pa.string()),
            h["parent_hash"].to_arrow().cast(pa.string()),
            h["block_timestamp"].to_arrow(),
            pa.array(roles, pa.string()),
        ],
        schema=BLOCKS_SCHEMA,
    )


# --- reorgs -------------------------------------------------------------------------------
def find_reorg(client: JsonRpcClient, cp: Checkpoint, head: int) -> ReorgRecord | None:
    """Walk recorded chunks newest-first until one's end hash matches the chain.

    Block hashes chain: a matching end hash proves every earlier block unchanged, so one
    request suffices on an unchanged chain.
    """
    bad: ChunkRecord | None = None
    first_seen: tuple[int, str, str] | None = None
    for rec in reversed(cp.chunks):
        block = (
            client.call("eth_getBlockByNumber", [hex(rec.end), False]) if rec.end <= head else None
        )
        chain_hash = block["hash"].lower() if block else "(missing)"
        if chain_hash == rec.end_hash:
            break
        bad = rec
        if first_seen is None:
            first_seen = (rec.end, rec.end_hash, chain_hash)
    if bad is None or first_seen is None:
        return None
    return ReorgRecord(
        block_number=first_seen[0],
        stored_hash=first_seen[1],
        chain_hash=first_seen[2],
        reindexed_from=bad.start,
        detected_at_head=head,
    )


# --- a chain, a network -------------------------------------------------------------------
def connect(chain_name: str, chain: ChainConfig) -> JsonRpcClient:
    """A client for the chain, refused if the endpoint reports another chain id."""
    client = JsonRpcClient(chain.rpc_url())
    try:
        got = int(client.call("eth_chainId"), 16)
    except Exception:
        client.close()
        raise
    if got != chain.chain_id:
        client.close()
        raise ChainMismatch(
            f"chains.{chain_name}: the RPC at {client.url} reports chain id {got}, "
            f"but the configuration says {chain.chain_id}; refusing to index"
        )
    return client


@with_writer_lock
def index_chain(
    config: Config,
    network: str,
    chain_name: str,
    lake: Lake,
    *,
    from_block: int | None = None,
    to_block: int | None = None,
    overwrite: bool = False,
    progress: ProgressFn | None = None,
) -> ChainReport:
    """Index the network's sources on one EVM chain (one writer per network and chain)."""
    t0 = time.perf_counter()
    chain = config.chain(chain_name)
    sources = [s for s in config.network(network).sources if s.chain == chain_name]
    client = connect(chain_name, chain)
    try:
        return _index_chain_locked(
            client,
            chain_name,
            chain,
            sources,
            network,
            lake,
            t0,
            from_block=from_block,
            to_block=to_block,
            overwrite=overwrite,
            progress=progress,
        )
    finally:
        client.close()


def _index_chain_locked(
    client: JsonRpcClient,
    chain_name: str,
    chain: ChainConfig,
    sources: list[SourceConfig],
    network: str,
    lake: Lake,
    t0: float,
    *,
    from_block: int | None,
    to_block: int | None,
    overwrite: bool,
    progress: ProgressFn | None,
) -> ChainReport:
    head = int(client.call("eth_blockNumber"), 16)
    final = head - chain.finality_depth
    first = min(s.start_block for s in sources)
    rng = aligned_range(first, final, chain.chunk_size, from_block, to_block)
    report = ChainReport(chain_name, chain.chain_id, head, final, rng)
    cp = lake.load_checkpoint(network, chain.chain_id)

    reorg = find_reorg(client, cp, head)
    if reorg is not None:
        log.warning(
            "%s/%s: block %d hash changed (%s -> %s): re-indexing from block %d",
            network,
            chain_name,
            reorg.block_number,
            reorg.stored_hash,
            reorg.chain_hash,
            reorg.reindexed_from,
        )
        cp.drop_from(reorg.reindexed_from)
        cp.reorgs.append(reorg)
        lake.delete_from(network, chain.chain_id, reorg.reindexed_from)
        lake.save_checkpoint(cp)
        report.reorgs.append(reorg)
        if rng is not None:
            rng = (min(rng[0], reorg.reindexed_from), rng[1])
    if rng is None:
        return report

    datasets = datasets_for(sources)
    todo, report.chunks_skipped = chunks_to_do(
        lake, cp, network, chain.chain_id, rng, chain.chunk_size, datasets, overwrite
    )

    fetcher = LogFetcher(client, min(chain.max_blocks_per_request, chain.chunk_size))
    stats = DecodeStats()
    filters = log_filters(sources)
    jobs = (ChunkJob(network, chain.chain_id, sources, filters, datasets, s, e) for s, e in todo)
    total = len(todo)
    for rec in _run_jobs(jobs, fetcher, lake, stats, chain.concurrency):
        record_chunk(
            report,
            cp,
            lake,
            rec,
            network=network,
            chain_name=chain_name,
            total=total,
            progress=progress,
        )
    report.logs = stats.logs
    report.ignored_shape = stats.ignored_shape
    report.rpc = dict(client.stats)
    report.seconds = time.perf_counter() - t0
    return report


def _run_jobs(
    jobs: Iterator[ChunkJob], fetcher: LogFetcher, lake: Lake, stats: DecodeStats, workers: int
) -> Iterator[ChunkRecord]:
    """Chunk jobs on the bounded pool; a chunk whose chain changed under it is retried."""

    def run(job: ChunkJob) -> ChunkRecord:
        for attempt in range(1, CHUNK_ATTEMPTS + 1):
            try:
                return index_chunk(job, fetcher, lake, stats)
            except ReorgDuringRun as exc:
                if attempt == CHUNK_ATTEMPTS:
                    raise IndexError_(
                        f"chunk {job.start}-{job.end}: chain kept changing: {exc}"
                    ) from exc
                time.sleep(0.5 * attempt)
        raise AssertionError("unreachable")

    with ThreadPoolExecutor(max_workers=2 * workers, thread_name_prefix="write") as writer:
        # No chunk queued beyond the busy workers: a dense chunk holds tens of MB of response
        # bodies and Arrow tables, and peak memory scales with the chunks in flight.
        yield from run_bounded(
            run, (replace(job, writer=writer) for job in jobs), workers, workers
        )
