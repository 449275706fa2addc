"""Index a network's Substrate sources (Bittensor's Subtensor runtime) into the lake.

Every block of a chunk is read, in JSON-RPC batches of `blocks_per_request` blocks
(`concurrency` batches at once): their hashes (`chain_getBlockHash`), their `System.Events`
(`state_getStorage`), decoded with the metadata of each block's runtime; the body
(`chain_getBlock`) of blocks whose revenue events belong to an extrinsic (its hash is the
blake2-256 of the extrinsic's bytes), and the header (`chain_getHeader`) of a boundary block
without one. The spec version is read at the chunk's two ends; where they differ the upgrade
block is found by bisection, so a chunk costs two or three `state_getRuntimeVersion` calls,
not one per block. Reads follow the finalized head (GRANDPA), so there is no reorg walk; a
node that pruned the asked state is refused clearly.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from chains.substrate import StatePruned, SubstrateHeader, extrinsic_hash
from chains.substrate import connect as connect
from depinrev.catalogue import CATALOGUE
from depinrev.config import Config, ConfigError, SourceConfig, SourceKind, SubstrateChainConfig
from depinrev.lake import Checkpoint, ReorgRecord
from indexers.chunked import (
    ChainReport,
    Header,
    amount_fields,
    blocks_table,
    rows_table,
    run_bounded,
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

        def read(numbers: list[int]) -> tuple[list[dict[str, Any]], dict[int, Header], int]:
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
            rows: list[dict[str, Any]] = []
            headers: dict[int, Header] = {}
            for n, (h, spec, revenue) in sorted(found.items()):
                head, extrinsics = bodies[n] if n in bodies else (self.client.header(h), [])
                if head.number != n:
                    raise StatePruned(f"asked block {n} by hash {h}, the node answered "
                                      f"{head.number}")
                headers[n] = _header(head)
                rows.extend(self._rows(src, headers[n], revenue, spec, extrinsics))
            return rows, headers, count

        rows: list[dict[str, Any]] = []
        headers: dict[int, Header] = {}
        n_events = 0
        for part_rows, part_headers, count in run_bounded(read, groups, self.chain.concurrency):
            rows.extend(part_rows)
            headers.update(part_headers)
            n_events += count
        with self.stats.lock:
            self.stats.blocks += end - start + 1
            self.stats.events += n_events
            self.stats.revenue_events += len(rows)
            self.stats.spec_versions.update(s for _, _, s in specs)
        return ChunkOutput(
            {DATASET: rows_table(DATASET, rows)},
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

    def _rows(
        self,
        src: SourceConfig,
        header: Header,
        found: list[RevenueEvent],
        spec: int,
        extrinsics: list[str],
    ) -> list[dict[str, Any]]:
        rows = []
        for ev in found:
            r = ev.record
            if r.extrinsic_index is not None:
                if r.extrinsic_index >= len(extrinsics):
                    raise StatePruned(
                        f"block {header.number}: event {r.index} names extrinsic "
                        f"{r.extrinsic_index}, the block has {len(extrinsics)}"
                    )
                tx_hash = extrinsic_hash(extrinsics[r.extrinsic_index])
                tx_index = r.extrinsic_index
            else:
                tx_hash, tx_index = r.phase, BLOCK_EVENT_TX_INDEX
            rows.append(
                {
                    "chain_id": self.chain_id,
                    "network": self.network,
                    "source": src.name,
                    "token": ev.unit or src.token,
                    "address": src.address,
                    "event": ev.kind,
                    "block_number": header.number,
                    "block_hash": header.hash,
                    "block_timestamp": header.timestamp,
                    "transaction_hash": tx_hash,
                    "transaction_index": tx_index,
                    "log_index": r.index,
                    "extrinsic_index": r.extrinsic_index,
                    "event_index": r.index,
                    "spec_version": spec,
                    "pallet": r.pallet,
                    "event_name": r.name,
                    "netuid": ev.netuid,
                    "account": ev.account,
                    **amount_fields("amount", ev.amount),
                    **amount_fields("tip", ev.tip),
                }
            )
        return rows


def _spec_at(specs: list[tuple[int, int, int]], n: int) -> int:
    for lo, hi, s in specs:
        if lo <= n <= hi:
            return s
    raise AssertionError(f"block {n} outside the chunk's spec ranges {specs}")
