"""Index a network's Substrate sources (Bittensor's Subtensor runtime) into the lake.

Every block of a chunk is read, in JSON-RPC batches of `blocks_per_request` blocks
(`concurrency` batches at once): their hashes (`chain_getBlockHash`), their `System.Events`
(`state_getStorage`), decoded with the metadata of each block's runtime; the body
(`chain_getBlock`) of blocks whose revenue events belong to an extrinsic (its hash is the
blake2-256 of the extrinsic's bytes), and the header (`chain_getHeader`) of a boundary block
without one. The spec version is read at the chunk's two ends; where they differ the upgrade
block is found by bisection, so a chunk costs two or three `state_getRuntimeVersion` calls,
not one per block. Reads follow the finalized head (GRANDPA), so there is no reorg walk; a
node that pruned the asked state is refused clearly. The rows are appended to one list per
column, block after block in block and event order, and made into the lake's table at once.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field, replace

import pyarrow as pa

from chains.substrate import StatePruned, SubstrateHeader, extrinsic_hash
from chains.substrate import connect as connect
from depinrev.catalogue import CATALOGUE
from depinrev.config import Config, ConfigError, SourceConfig, SourceKind, SubstrateChainConfig
from depinrev.lake import DATASETS as LAKE_SCHEMAS
from depinrev.lake import Checkpoint, ReorgRecord
from indexers.chunked import (
    ChainReport,
    Header,
    amount_columns,
    blocks_table,
    run_bounded,
    sorted_table,
)
from indexers.driver import ChunkOutput, SessionOnChain
from indexers.substrate.events import RevenueEvent, RuntimeDecoder, revenue_events

log = logging.getLogger(__name__)

DATASET = "tao_events"
DATASETS = list(CATALOGUE[SourceKind.subtensor].datasets)
# transaction_index of block-level events (initialization, finalization): no extrinsic.
BLOCK_EVENT_TX_INDEX = -1


@dataclass
class _Stats:
    blocks: int = 0
    events: int = 0
    revenue_events: int = 0
    spec_versions: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _header(h: SubstrateHeader) -> Header:
    return Header(h.number, h.hash, h.parent_hash, h.timestamp)


class SubstrateSession(SessionOnChain):
    """The Substrate chain kind for the driver (indexers.driver)."""

    workers = 1  # chunks one after another; the blocks inside a chunk run in parallel

    def __init__(self, config: Config, network: str, chain_name: str) -> None:
        super().__init__(config, network, chain_name, "substrate", SourceKind.subtensor)
        chain = self.chain
        assert isinstance(chain, SubstrateChainConfig)
        if len(self.sources) != 1:
            raise ConfigError(
                f"networks.{network}: a substrate chain takes exactly one subtensor source "
                f"(the runtime's events); chain {chain_name} has {len(self.sources)}"
            )
        self.datasets = DATASETS
        self.client = connect(chain_name, chain)
        self._decoders: dict[int, RuntimeDecoder] = {}
        self._decoders_lock = threading.Lock()
        self.stats = _Stats()

    # --- driver interface ----------------------------------------------------------------
    def head(self) -> int:
        return self.client.finalized_head()

    def find_reorg(self, cp: Checkpoint, head: int) -> ReorgRecord | None:
        return None  # only finalized blocks are read: GRANDPA-final blocks never change

    def prepare(self, todo: list[tuple[int, int]]) -> None:
        first = todo[0][0]
        try:
            self.client.spec_version(self.client.block_hash(first))
        except StatePruned as exc:
            raise ConfigError(
                f"chains.{self.chain_name}: block {first} is asked for, but {exc}; use an "
                "archive RPC or a later start_block"
            ) from exc

    def index_chunk(self, start: int, end: int) -> ChunkOutput:
        specs = self._spec_ranges(start, end)
        src = self.sources[0]
        # Blocks per JSON-RPC batch: a round trip for their hashes, one for their events, one
        # for the bodies of those holding revenue events (instead of three per block).
        size = self.chain.blocks_per_request
        groups = [
            list(range(lo, min(end, lo + size - 1) + 1)) for lo in range(start, end + 1, size)
        ]

        def read(numbers: list[int]) -> tuple[int, _Columns, dict[int, Header], int]:
            """A batch of blocks: hashes, events, then the bodies of blocks with revenue."""
            hashes = self.client.block_hashes(numbers)
            events = self.client.events_many(hashes)
            # the blocks of each runtime decoded together (one bt-decode call per runtime)
            by_spec: dict[int, list[int]] = {}
            for i, n in enumerate(numbers):
                by_spec.setdefault(_spec_at(specs, n), []).append(i)
            found: dict[int, tuple[str, int, list[RevenueEvent]]] = {}
            count = 0
            for spec, idx in by_spec.items():
                dec = self._decoder(spec, hashes[idx[0]])
                for i, (n_records, records) in zip(
                    idx, dec.revenue_records([events[i] for i in idx]), strict=True
                ):
                    n = numbers[i]
                    count += n_records
                    revenue = revenue_events(records, spec)
                    if revenue or n in (start, end):
                        found[n] = (hashes[i], spec, revenue)
            with_body = [n for n, (_, _, r) in found.items()
                         if any(ev.record.extrinsic_index is not None for ev in r)]
            bodies = dict(zip(with_body, self.client.blocks_many([found[n][0] for n in with_body]),
                              strict=True))
            cols = _Columns(src.token)
            headers: dict[int, Header] = {}
            for n, (h, spec, revenue) in sorted(found.items()):
                head, extrinsics = bodies[n] if n in bodies else (self.client.header(h), [])
                if head.number != n:
                    raise StatePruned(f"asked block {n} by hash {h}, the node answered "
                                      f"{head.number}")
                headers[n] = _header(head)
                cols.add(headers[n], self._with_min_lock(revenue, spec, head), spec, extrinsics)
            return numbers[0], cols, headers, count

        # the parts in block order (they finish in any order), so the rows come sorted
        parts = sorted(run_bounded(read, groups, self.chain.concurrency), key=lambda p: p[0])
        cols = _Columns(src.token)
        headers: dict[int, Header] = {}
        n_events = 0
        for _, part_cols, part_headers, count in parts:
            cols.extend(part_cols)
            headers.update(part_headers)
            n_events += count
        with self.stats.lock:
            self.stats.blocks += end - start + 1
            self.stats.events += n_events
            self.stats.revenue_events += len(cols.log_index)
            self.stats.spec_versions.update(s for _, _, s in specs)
        return ChunkOutput(
            {DATASET: cols.table(self.chain_id, self.network, src)},
            blocks_table(self.network, self.chain_id, headers, {start, end}),
            (headers[start].hash, headers[end].hash),
        )

    def finish(self, report: ChainReport) -> None:
        report.logs = self.stats.events
        report.identity = self.client.identity
        report.rpc = {**self.client.rpc.stats, "metadata_fetches": self.client.metadata_fetches}
        if self.stats.spec_versions:
            log.info("%s/%s: spec versions read: %s", self.network, self.chain_name,
                     sorted(self.stats.spec_versions))

    def close(self) -> None:
        self.client.close()

    # --- parts ---------------------------------------------------------------------------
    def _decoder(self, spec: int, block_hash: str) -> RuntimeDecoder:
        with self._decoders_lock:
            dec = self._decoders.get(spec)
            if dec is None:
                dec = RuntimeDecoder(spec, self.client.metadata(spec, block_hash))
                self._decoders[spec] = dec
            return dec

    def _with_min_lock(
        self, revenue: list[RevenueEvent], spec: int, head: SubstrateHeader
    ) -> list[RevenueEvent]:
        """A block's network locks with the NetworkMinLockCost in force when they were taken
        (the state of the parent block; at most the lock): from spec 233 that part seeds the
        new subnet's pool and only the rest is recycled (NETWORKS.md). Runtimes without the
        item leave it NULL."""
        if not any(ev.kind == "network_lock" for ev in revenue):
            return revenue
        default = self._decoders[spec].min_lock_default
        if default is None:
            return revenue
        cost = self.client.network_min_lock_cost(head.parent_hash, default)
        return [replace(ev, min_lock=min(cost, ev.amount)) if ev.kind == "network_lock" else ev
                for ev in revenue]

    def _spec_ranges(self, start: int, end: int) -> list[tuple[int, int, int]]:
        """(first block, last block, spec version) covering [start, end]: spec versions only
        grow, so equal versions at both ends mean one runtime; else bisect for the upgrade."""
        def spec(n: int) -> int:
            return self.client.spec_version(self.client.block_hash(n))

        out: list[tuple[int, int, int]] = []
        lo, s_lo = start, spec(start)
        while True:
            s_end = spec(end)
            if s_end == s_lo:
                out.append((lo, end, s_lo))
                return out
            a, b = lo, end  # spec(a) == s_lo, spec(b) != s_lo
            while b - a > 1:
                mid = (a + b) // 2
                if spec(mid) == s_lo:
                    a = mid
                else:
                    b = mid
            out.append((lo, a, s_lo))
            lo, s_lo = b, spec(b)


class _Columns:
    """The tao_events rows of a run of blocks as lists, one per column that varies (appended
    block by block, in block and event order), made into the lake's table at once."""

    def __init__(self, token: str) -> None:
        self.token = token  # the source's token (an amount in it has no unit of its own)
        self.block_number: list[int] = []
        self.block_hash: list[str] = []
        self.block_timestamp: list[int] = []
        self.spec_version: list[int] = []
        self.tokens: list[str] = []
        self.event: list[str] = []
        self.transaction_hash: list[str] = []
        self.transaction_index: list[int] = []
        self.log_index: list[int] = []
        self.extrinsic_index: list[int | None] = []
        self.pallet: list[str] = []
        self.event_name: list[str] = []
        self.netuid: list[int | None] = []
        self.account: list[str | None] = []
        self.amount: list[int | None] = []
        self.tip: list[int | None] = []
        self.min_lock: list[int | None] = []

    def add(
        self, header: Header, found: list[RevenueEvent], spec: int, extrinsics: list[str]
    ) -> None:
        """One block's revenue events (in event order) as rows."""
        tx_hashes: dict[int, str] = {}  # a stake's fee and its transaction fee share one
        for ev in found:
            r = ev.record
            ext = r.extrinsic_index
            if ext is not None:
                if ext >= len(extrinsics):
                    raise StatePruned(
                        f"block {header.number}: event {r.index} names extrinsic "
                        f"{ext}, the block has {len(extrinsics)}"
                    )
                tx_hash = tx_hashes.get(ext)
                if tx_hash is None:
                    tx_hash = tx_hashes[ext] = extrinsic_hash(extrinsics[ext])
                self.transaction_hash.append(tx_hash)
                self.transaction_index.append(ext)
            else:
                self.transaction_hash.append(r.phase)
                self.transaction_index.append(BLOCK_EVENT_TX_INDEX)
            self.tokens.append(ev.unit or self.token)
            self.event.append(ev.kind)
            self.log_index.append(r.index)
            self.extrinsic_index.append(ext)
            self.pallet.append(r.pallet)
            self.event_name.append(r.name)
            self.netuid.append(ev.netuid)
            self.account.append(ev.account)
            self.amount.append(ev.amount)
            self.tip.append(ev.tip)
            self.min_lock.append(ev.min_lock)
        k = len(found)
        self.block_number.extend([header.number] * k)
        self.block_hash.extend([header.hash] * k)
        self.block_timestamp.extend([header.timestamp] * k)
        self.spec_version.extend([spec] * k)

    def extend(self, other: _Columns) -> None:
        for name, values in vars(other).items():
            if isinstance(values, list):
                getattr(self, name).extend(values)

    def table(self, chain_id: int, network: str, src: SourceConfig) -> pa.Table:
        """The lake table (schema `tao_events`), in block and log-index order."""
        n = len(self.log_index)
        amount, amount_str = amount_columns(self.amount)
        tip, tip_str = amount_columns(self.tip)
        min_lock, min_lock_str = amount_columns(self.min_lock)
        values: dict[str, list[object] | pa.Array] = {
            "chain_id": [chain_id] * n,
            "network": [network] * n,
            "source": [src.name] * n,
            "token": self.tokens,
            "address": [src.address] * n,
            "event": self.event,
            "block_number": self.block_number,
            "block_hash": self.block_hash,
            "block_timestamp": self.block_timestamp,
            "transaction_hash": self.transaction_hash,
            "transaction_index": self.transaction_index,
            "log_index": self.log_index,
            "extrinsic_index": self.extrinsic_index,
            "event_index": self.log_index,
            "spec_version": self.spec_version,
            "pallet": self.pallet,
            "event_name": self.event_name,
            "netuid": self.netuid,
            "account": self.account,
            "amount": amount,
            "amount_str": amount_str,
            "tip": tip,
            "tip_str": tip_str,
            "min_lock": min_lock,
            "min_lock_str": min_lock_str,
        }
        schema = LAKE_SCHEMAS[DATASET]
        cols = [v if isinstance(v := values[f.name], pa.Array) else pa.array(v, f.type)
                for f in schema]
        return sorted_table(pa.Table.from_arrays(cols, schema=schema))


def _spec_at(specs: list[tuple[int, int, int]], n: int) -> int:
    for lo, hi, s in specs:
        if lo <= n <= hi:
            return s
    raise AssertionError(f"block {n} outside the chunk's spec ranges {specs}")
