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
from dataclasses import dataclass
from typing import Any

import polars as pl
import pyarrow as pa

from chains import evm as evm_chain
from chains.transport import BadResponse, JsonRpcClient, RangeTooLarge
from depinrev.config import ChainConfig, Config, SourceConfig, SourceKind
from depinrev.lake import Checkpoint, ChunkRecord, ReorgRecord
from indexers.chunked import ChainReport, blocks_table_of
from indexers.driver import ChunkOutput, SessionOnChain
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

CHUNK_ATTEMPTS = 4

# Memory per row of a chunk in flight (response bodies, the parsed and decoded frames, Arrow
# tables, the Parquet writer's buffers), the figure that turns a chain's memory_budget_mib
# into rows: the default 128 MiB is 58,000 rows, so the bench's 42,000-row chunks run one at
# a time and its 4,000-row ones four at once (docs/benchmarks.md, "Peak RSS").
BYTES_PER_ROW_IN_FLIGHT = 2_300


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
        refused: dict[int, int] = {}
        pending = [(start, end)]
        while pending:
            s, e = pending.pop()
            if e - s + 1 > self.span:
                mid = s + self.span - 1
                pending.extend([(mid + 1, e), (s, mid)])
                continue
            params = [{**flt, "fromBlock": hex(s), "toBlock": hex(e)}]
            try:
                table = self.client.call_parsed(
                    "eth_getLogs",
                    params,
                    lambda body, rid, flt=flt, s=s, e=e: checked_logs(body, rid, flt, s, e),
                    where=f"blocks {s}-{e}",
                )
            except RangeTooLarge as exc:
                if s == e:
                    # One block refused: too many logs in it, or a flaky provider's spurious
                    # refusal. Asked again with backoff; after the retry budget, a clear error.
                    refused[s] = refused.get(s, 0) + 1
                    if refused[s] > self.client.max_retries:
                        raise RangeTooLarge(
                            "eth_getLogs", exc.code,
                            f"block {s} alone refused as too large {refused[s]} times: "
                            f"{exc.message}", exc.data, self.client.host,
                        ) from None
                    time.sleep(min(5.0, self.client.backoff * 2 ** (refused[s] - 1)))
                    pending.append((s, e))
                    continue
                self._shrink(e - s + 1)
                mid = (s + e) // 2
                pending.extend([(mid + 1, e), (s, mid)])
                continue
            self._grew()
            out.append(table)
        return out


def checked_logs(
    body: bytes, request_id: int, flt: dict[str, Any], start: int, end: int
) -> pa.Table:
    """An eth_getLogs body as a raw log table, proved to answer this request: a complete
    envelope with the request's id, and every log inside [start, end], from one of the
    filter's addresses, with the filter's topics. Anything else is a BadResponse (retried)."""
    table = parse_logs_body(body, request_id)
    if table.num_rows == 0:
        return table
    df = pl.from_arrow(table.select(["address", "topics", "blockNumber"]))
    assert isinstance(df, pl.DataFrame)
    numbers = df["blockNumber"].str.strip_prefix("0x").str.to_integer(base=16, strict=False)
    if numbers.null_count() or numbers.min() < start or numbers.max() > end:  # type: ignore[operator]
        raise BadResponse(
            f"eth_getLogs for blocks {start}-{end} answered logs of blocks "
            f"{numbers.min()}-{numbers.max()} (an answer to another request)"
        )
    addresses = flt.get("address")
    if addresses is not None:
        wanted = {a.lower() for a in ([addresses] if isinstance(addresses, str) else addresses)}
        if not df["address"].str.to_lowercase().is_in(list(wanted)).all():
            raise BadResponse("eth_getLogs answered logs of an address not asked for")
    for pos, want in enumerate(flt.get("topics") or []):
        if want is None:
            continue
        options = [t.lower() for t in ([want] if isinstance(want, str) else want)]
        got = df["topics"].list.get(pos, null_on_oob=True).str.to_lowercase()
        if not got.is_in(options).fill_null(False).all():
            raise BadResponse(f"eth_getLogs answered logs whose topic {pos} was not asked for")
    return table


def fetch_headers(client: JsonRpcClient, numbers: list[int]) -> pl.DataFrame:
    """Headers (number, hash, parent hash, timestamp) of the given blocks, in JSON-RPC batches
    (chains.evm.headers: each answer checked to be the block asked)."""
    rows = [
        {
            "block_number": h.number,
            "block_hash": h.hash,
            "parent_hash": h.parent_hash,
            "block_timestamp": h.timestamp,
        }
        for h in evm_chain.headers(client, numbers)
    ]
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
    job = ChunkJob(
        network, chain_id, sources, log_filters(sources), datasets_for(sources), start, end
    )
    return index_chunk(job, LogFetcher(client, max(1, max_span)), DecodeStats()).tables


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


def index_chunk(job: ChunkJob, fetcher: LogFetcher, stats: DecodeStats) -> ChunkOutput:
    """Fetch and decode one chunk (the driver writes it); the caller retries ReorgDuringRun."""
    raw: list[pa.Table] = []
    for flt in job.filters:
        raw.extend(fetcher.fetch(flt, job.start, job.end))
    logs = normalize(pa.concat_tables(raw)) if raw else normalize(parse_logs_body(b'{"result":[]}'))
    del raw  # the raw strings are copied into `logs`: free them before decoding
    # A transfer from 0x0 to 0x0 matches both the mint and the burn filter. The frame is
    # copied without the twins only when there are any: the copy of a dense chunk's logs is
    # a sizeable part of the indexer's peak memory (docs/benchmarks.md).
    key = pl.struct("block_number", "log_index")
    if logs.select(key.is_duplicated().any()).item():
        logs = logs.unique(subset=["block_number", "log_index"], keep="first", maintain_order=True)
    wanted = sorted({job.start, job.end, *logs["block_number"].unique().to_list()})
    headers = fetch_headers(fetcher.client, wanted).sort("block_number")
    tables = decode_logs(
        logs, headers, job.sources, network=job.network, chain_id=job.chain_id, stats=stats
    )
    blocks = blocks_table_of(
        job.network,
        job.chain_id,
        headers["block_number"].to_arrow(),
        headers["block_hash"].to_arrow(),
        headers["parent_hash"].to_arrow(),
        headers["block_timestamp"].to_arrow(),
        {job.start, job.end},
    )
    by_num = dict(
        zip(headers["block_number"].to_list(), headers["block_hash"].to_list(), strict=True)
    )
    return ChunkOutput(
        {d: tables[d] for d in job.datasets}, blocks, (by_num[job.start], by_num[job.end])
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
        # At or below the head the block exists: null for it is a fault (retried, then an
        # error), never a reorg, or a lying provider would make us delete the lake.
        chain_hash = evm_chain.headers(client, [rec.end])[0].hash if rec.end <= head else (
            "(missing)"
        )
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
    return evm_chain.connect(chain_name, chain)


class EvmSession(SessionOnChain):
    """The EVM chain kind for the driver (indexers.driver): eth_getLogs per chunk, split
    adaptively; headers of the blocks holding logs; a reorg walk over the checkpoint."""

    def __init__(self, config: Config, network: str, chain_name: str) -> None:
        super().__init__(config, network, chain_name, "evm")
        chain = config.chain(chain_name)
        self.workers = chain.concurrency
        self.datasets = datasets_for(self.sources)
        self.client = connect(chain_name, chain)
        self.fetcher = LogFetcher(self.client, min(chain.max_blocks_per_request, chain.chunk_size))
        self.filters = log_filters(self.sources)
        self.stats = DecodeStats()
        # Chunks in flight are admitted by their rows (indexers.chunked.run_budgeted): the
        # chain's memory budget at the bytes a row holds at the peak (docs/benchmarks.md).
        self.rows_in_flight = chain.memory_budget_mib * 2**20 // BYTES_PER_ROW_IN_FLIGHT

    def head(self) -> int:
        return evm_chain.head(self.client)

    def find_reorg(self, cp: Checkpoint, head: int) -> ReorgRecord | None:
        return find_reorg(self.client, cp, head)

    def prepare(self, todo: list[tuple[int, int]]) -> None:
        pass  # every chunk asks its own logs

    def index_chunk(self, start: int, end: int) -> ChunkOutput:
        job = ChunkJob(
            self.network, self.chain_id, self.sources, self.filters, self.datasets, start, end
        )
        for attempt in range(1, CHUNK_ATTEMPTS + 1):
            try:
                return index_chunk(job, self.fetcher, self.stats)
            except ReorgDuringRun as exc:  # logs and headers disagree: the chain moved
                if attempt == CHUNK_ATTEMPTS:
                    raise IndexError_(f"chunk {start}-{end}: chain kept changing: {exc}") from exc
                time.sleep(0.5 * attempt)
        raise AssertionError("unreachable")

    def finish(self, report: ChainReport) -> None:
        report.logs = self.stats.logs
        report.ignored_shape = self.stats.ignored_shape
        report.rpc = dict(self.client.stats)

    def close(self) -> None:
        self.client.close()
