"""Index a network's Solana sources (SPL burns) into the lake, chunk by chunk of slots.

Job -> reader -> mapper -> sink, as in the EVM reader, with Solana's access paths:
getSignaturesForAddress lists the transactions touching an address newest first (pages of at
most 1000, continued with `before`), so one pass per run lists the signatures of the whole
slot range for each scanned address (the mint, and the burn wallets), then each grid chunk
fetches its transactions with getTransaction (jsonParsed, maxSupportedTransactionVersion 0;
in JSON-RPC batches of `transactions_per_batch`, each answer checked as a single call is),
keeps the burns of the configured mints, fetches the headers of its boundary and burn slots
with getBlock, and writes token_burns and blocks files and its checkpoint record.

Everything is read at commitment "finalized": a finalized slot is never rolled back, so no
reorg walk is needed. Skipped slots have no block; a chunk's boundary headers are its first
and last produced blocks (getBlocksWithLimit / getBlocks).
"""

from __future__ import annotations

import logging
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from chains import solana as sol
from chains.solana import FINALIZED
from chains.transport import JsonRpcClient, RpcError
from depinrev.catalogue import CATALOGUE
from depinrev.config import Config, ConfigError, SolanaChainConfig, SourceConfig, SourceKind
from depinrev.lake import Checkpoint, ReorgRecord
from indexers.chunked import (
    ChainReport,
    Header,
    amount_fields,
    blocks_table,
    rows_table,
)
from indexers.driver import ChunkOutput, SessionOnChain
from indexers.solana.burns import Burn, burns_in

log = logging.getLogger(__name__)

DATASETS = list(CATALOGUE[SourceKind.spl_burns].datasets)
# getTransaction gives no position in the block; this marks it unknown (never a real index).
UNKNOWN_TX_INDEX = -1


@dataclass(frozen=True)
class Signature:
    signature: str
    slot: int
    failed: bool


@dataclass
class _Stats:
    signatures: int = 0
    failed_skipped: int = 0
    transactions: int = 0
    burns: int = 0
    batch_refused: bool = False  # the provider takes no JSON-RPC batches: one call each
    lock: threading.Lock = field(default_factory=threading.Lock)


def connect(chain_name: str, chain: SolanaChainConfig) -> JsonRpcClient:
    """A client for the cluster, refused if its genesis hash is not the configured one."""
    return sol.connect(chain_name, chain)


def check_decimals(client: JsonRpcClient, config: Config, sources: list[SourceConfig]) -> None:
    """The configured decimals must be the mint's own (getTokenSupply): an unconfirmed value
    in the file is checked against the chain before any amount is stored."""
    for src in sources:
        token = config.tokens[src.token]
        decimals = sol.token_decimals(client, src.address)
        if decimals != token.decimals:
            raise ConfigError(
                f"tokens.{src.token}.decimals is {token.decimals}, but mint {src.address} has "
                f"{decimals} decimals on chain; fix the configuration"
            )


def list_signatures(
    client: JsonRpcClient,
    address: str,
    lo: int,
    hi: int,
    page: int,
    seek: tuple[str | None, str | None] = (None, None),
) -> list[Signature]:
    """Signatures touching `address` in slots [lo, hi], paging newest to oldest with
    `before` until a page ends below `lo` or the history ends (a short page).

    `seek` = (before, until) from chains.solana.seek_bounds: ledger signatures just after and
    just before the range, so the first page starts at `hi` and the last ends at `lo`: the
    cost follows the signatures inside the range, not the history after it."""
    out: list[Signature] = []
    before, until = seek
    while True:
        opts: dict[str, Any] = {"limit": page, **FINALIZED}
        if before is not None:
            opts["before"] = before
        if until is not None:
            opts["until"] = until
        batch = sol.signatures(client, address, opts)
        for s in batch:
            if lo <= s["slot"] <= hi:
                out.append(Signature(s["signature"], int(s["slot"]), s.get("err") is not None))
        if len(batch) < page or batch[-1]["slot"] < lo:
            return out
        before = batch[-1]["signature"]


def _header(client: JsonRpcClient, slot: int) -> Header:
    h = sol.header(client, slot)
    if h is None:
        raise RpcError("getBlock", None, f"slot {slot} has no block or no blockTime",
                       host=client.host)
    return h


def _boundary_slots(client: JsonRpcClient, start: int, end: int) -> tuple[int, int] | None:
    """First and last produced slots of [start, end]; None if every slot was skipped."""
    return sol.produced_bounds(client, start, end)


def _burn_row(
    b: Burn, src: SourceConfig, network: str, chain_id: int, header: Header
) -> dict[str, Any]:
    return {
        "chain_id": chain_id,
        "network": network,
        "source": src.name,
        "token": src.token,
        "address": b.mint,
        "event": "burn",
        "block_number": b.slot,
        "block_hash": header.hash,
        "block_timestamp": b.block_time if b.block_time is not None else header.timestamp,
        "transaction_hash": b.signature,
        "transaction_index": UNKNOWN_TX_INDEX,
        "log_index": b.ordinal,
        "from_address": b.from_address,
        "to_address": None,
        **amount_fields("amount", b.amount),
    }


def _transactions(client: JsonRpcClient, part: list[Signature], stats: _Stats
                  ) -> list[dict[str, Any]]:
    """The transactions of `part`, each checked to carry its signature at the slot it was
    listed at: in one JSON-RPC batch, or one call each once the provider refused a batch."""
    wanted = [(s.signature, s.slot) for s in part]
    txs: list[dict[str, Any]] | None = None
    if len(part) > 1 and not stats.batch_refused:
        try:
            txs = sol.transactions(client, wanted)
        except sol.BatchRefused as exc:
            with stats.lock:
                if not stats.batch_refused:
                    log.warning("%s: JSON-RPC batches refused (%s); reading transactions one "
                                "call at a time", client.host, exc.message)
                stats.batch_refused = True
    if txs is None:
        txs = [sol.transaction(client, sig, slot) for sig, slot in wanted]
    with stats.lock:
        stats.transactions += len(txs)
    return txs


def _index_chunk(
    client: JsonRpcClient,
    network: str,
    chain: SolanaChainConfig,
    sources: list[SourceConfig],
    start: int,
    end: int,
    sigs: list[Signature],
    stats: _Stats,
) -> ChunkOutput:
    rows: list[dict[str, Any]] = []
    slots: set[int] = set()
    burns: list[tuple[Burn, SourceConfig]] = []
    ordered = sorted(sigs, key=lambda s: (s.slot, s.signature))
    wanted = [s for s in ordered if not s.failed]  # a failed transaction burned nothing
    with stats.lock:
        stats.failed_skipped += len(ordered) - len(wanted)
    size = chain.transactions_per_batch
    for i in range(0, len(wanted), size):
        part = wanted[i : i + size]
        for sig, tx in zip(part, _transactions(client, part, stats), strict=True):
            for src in sources:
                for b in burns_in(tx, sig.signature, {src.address}, set(src.burn_owners)):
                    burns.append((b, src))
                    slots.add(b.slot)
    bounds = _boundary_slots(client, start, end)
    wanted = sorted(slots | (set(bounds) if bounds else set()))
    headers = {s: _header(client, s) for s in wanted}
    for b, src in burns:
        rows.append(_burn_row(b, src, network, chain.chain_id, headers[b.slot]))
    with stats.lock:
        stats.burns += len(rows)
    hashes = (headers[bounds[0]].hash, headers[bounds[1]].hash) if bounds else ("", "")
    return ChunkOutput(
        {"token_burns": rows_table("token_burns", rows)},
        blocks_table(network, chain.chain_id, headers, set(bounds) if bounds else set()),
        hashes,
    )


class SolanaSession(SessionOnChain):
    """The Solana chain kind for the driver (indexers.driver): signatures listed once for
    the chunks to do, then each chunk's transactions and burn / boundary headers."""

    def __init__(self, config: Config, network: str, chain_name: str) -> None:
        super().__init__(config, network, chain_name, "solana", SourceKind.spl_burns)
        chain = self.chain
        assert isinstance(chain, SolanaChainConfig)
        self.workers = chain.concurrency
        self.datasets = DATASETS
        self.client = connect(chain_name, chain)
        self.stats = _Stats()
        self.per_chunk: dict[tuple[int, int], list[Signature]] = defaultdict(list)
        try:
            check_decimals(self.client, config, self.sources)
        except BaseException:
            self.client.close()
            raise

    def head(self) -> int:
        return sol.head(self.client)

    def find_reorg(self, cp: Checkpoint, head: int) -> ReorgRecord | None:
        return None  # read at commitment finalized: a finalized slot is never rolled back

    def prepare(self, todo: list[tuple[int, int]]) -> None:
        # The mint lists every burn of it; the burn wallets sign theirs: scanning both
        # catches a burn whichever way it is signed. Signatures are deduplicated.
        addresses = sorted({a for s in self.sources for a in [s.address, *s.burn_owners]})
        lo, hi = todo[0][0], todo[-1][1]
        # Seek, then page: one ledger signature on each side of the range bounds every
        # address's listing to it (docs/readers.md, "Solana: seek, then page").
        seek = sol.seek_bounds(self.client, lo, hi)
        by_sig: dict[str, Signature] = {}
        for addr in addresses:
            for sig in list_signatures(
                self.client, addr, lo, hi, self.chain.signatures_per_request, seek
            ):
                by_sig[sig.signature] = sig
        for sig in by_sig.values():
            for s, e in todo:
                if s <= sig.slot <= e:
                    self.per_chunk[(s, e)].append(sig)
                    break
        self.stats.signatures = len(by_sig)

    def index_chunk(self, start: int, end: int) -> ChunkOutput:
        return _index_chunk(
            self.client, self.network, self.chain, self.sources, start, end,
            self.per_chunk[(start, end)], self.stats,
        )

    def finish(self, report: ChainReport) -> None:
        # "logs" in the report are the raw items read: here the transactions fetched.
        report.logs = self.stats.transactions
        report.ignored_shape = self.stats.failed_skipped
        report.rpc = dict(self.client.stats)

    def close(self) -> None:
        self.client.close()
