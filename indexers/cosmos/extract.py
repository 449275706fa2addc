"""Index a network's Cosmos sources (Akash escrow) into the lake, chunk by chunk of heights.

Tendermint/CometBFT RPC over its JSON-RPC POST endpoint (the same routes as GET /status,
/block?height=, /block_results?height=; positional params), through the EVM reader's
JsonRpcClient, so retries, backoff, Retry-After and rate-limit handling are the same code.
Every height of a chunk is read (block for the header and tx hashes, block_results for the
events), `concurrency` heights at once; CometBFT finality is instant, so there is no reorg
walk, but the node must still hold the heights (pruned nodes refuse old ones, clearly).
"""

from __future__ import annotations

import base64
import hashlib
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pyarrow.compute as pc
import pyarrow.parquet as pq

from chains import cosmos as cosmos_chain
from chains.cosmos import TendermintRpc as TendermintRpc
from chains.cosmos import header_of as header_of
from chains.cosmos import parse_time as parse_time
from chains.transport import RpcError
from depinrev.catalogue import CATALOGUE
from depinrev.config import Config, ConfigError, CosmosChainConfig, SourceConfig, SourceKind
from depinrev.lake import Checkpoint, Lake, ReorgRecord
from indexers.chunked import (
    ChainReport,
    Header,
    amount_fields,
    blocks_table,
    rows_table,
    run_bounded,
)
from indexers.cosmos.akash import (
    Classified,
    Deposit,
    bme_flows,
    classify_block,
    deposits_in_block,
    marker,
)
from indexers.cosmos.events import BlockEvents, decode_block_results, transfers
from indexers.driver import ChunkOutput, SessionOnChain

log = logging.getLogger(__name__)

DATASETS = list(CATALOGUE[SourceKind.akash_escrow].datasets)
# log_index = event ordinal in the block x this + position of the coin within the event.
PARTS_PER_EVENT = 1000
# transaction_index of block-level events (begin/end/finalize block): they have no tx.
BLOCK_EVENT_TX_INDEX = -1


@dataclass
class _Stats:
    heights: int = 0
    txs: int = 0
    failed_txs: int = 0
    unknown_denom: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


def tx_hash(tx_b64: str) -> str:
    """The hash explorers and the RPC show for a tx: SHA-256 of its bytes, uppercase hex."""
    return hashlib.sha256(base64.b64decode(tx_b64)).hexdigest().upper()


def connect(chain_name: str, chain: CosmosChainConfig) -> tuple[TendermintRpc, dict[str, Any]]:
    """A client for the chain, refused unless /status names the configured chain."""
    return cosmos_chain.connect(chain_name, chain)


def payment_rows(
    classified: list[Classified],
    block: dict[str, Any],
    header: Header,
    src: SourceConfig,
    network: str,
    chain_id: int,
    denoms: dict[str, str],
    unknown: dict[str, int],
) -> list[dict[str, Any]]:
    """lease_payments rows of one block's classified Akash items."""
    txs = (block["block"].get("data") or {}).get("txs") or []
    rows: list[dict[str, Any]] = []
    for c in classified:
        ev = c.transfer.event if c.transfer is not None else c.marker.event  # type: ignore[union-attr]
        part = c.transfer.part if c.transfer is not None else 0
        if part >= PARTS_PER_EVENT:
            raise ValueError(
                f"height {header.number}: more than {PARTS_PER_EVENT} coins in one event"
            )
        if c.transfer is not None:
            denom: str | None = c.transfer.coin.denom
        else:
            denom = c.marker.price_denom if c.marker is not None else None
        token = denoms.get(denom) if denom else src.token
        if token is None:
            # A denom the configuration does not map has no decimals: count it, store nothing.
            unknown[denom or ""] = unknown.get(denom or "", 0) + 1
            continue
        lease = c.lease
        row: dict[str, Any] = {
            "chain_id": chain_id,
            "network": network,
            "source": src.name,
            "token": token,
            "address": src.address,
            "event": c.kind,
            "block_number": header.number,
            "block_hash": header.hash,
            "block_timestamp": header.timestamp,
            "transaction_hash": tx_hash(txs[ev.tx_index]) if ev.tx_index is not None else ev.phase,
            "transaction_index": ev.tx_index if ev.tx_index is not None else BLOCK_EVENT_TX_INDEX,
            "log_index": ev.ordinal * PARTS_PER_EVENT + part,
            "lease_id": lease.dseq if lease is not None else None,
            "tenant": lease.owner if lease is not None else None,
            "provider": lease.provider if lease is not None else None,
        }
        if c.transfer is not None:
            row.update(amount_fields("amount", c.transfer.coin.amount))
            if c.kind in ("provider_payment", "deposit_returned"):
                row["provider"] = c.transfer.recipient
            elif c.kind in ("tenant_refund", "depositor_refund"):
                # the refunded party: the tenant, or the depositor (an authz granter)
                row["tenant"] = c.transfer.recipient
                if c.kind == "depositor_refund":
                    row["provider"] = None
            elif c.kind == "bme_conversion":
                row["provider"] = None
        elif c.marker is not None and c.marker.price_amount is not None:
            row.update(amount_fields("price_per_block", c.marker.price_amount))
        rows.append(row)
    return rows


class Depositors:
    """Who deposited into which escrow account, and from which height: the escrow_deposits
    rows of the lake (any range indexed before) and of this run. Keyed by escrow account
    where the deposit's events named it (deployment/<owner>/<dseq>), else by the account's
    owner (a top-up, whose account id is only in the tx body). A refund at height h goes to
    a depositor whose first deposit is at or below h: into an account the refund's scope
    names, or (unnamed) into an account of one of its tenants; when the scope names no
    account, into any account of its tenants."""

    def __init__(self) -> None:
        self._named: dict[tuple[str, str], int] = {}  # (account, depositor) -> first height
        self._unnamed: dict[tuple[str, str], int] = {}  # (owner, depositor) -> first height
        self._any: dict[tuple[str, str], int] = {}  # (owner, depositor), named or not
        self._lock = threading.Lock()

    @staticmethod
    def _keep(book: dict[tuple[str, str], int], key: tuple[str, str], height: int) -> None:
        if height < book.get(key, height + 1):
            book[key] = height

    def add(self, owner: str | None, depositor: str, height: int,
            account: str | None = None) -> None:
        if owner is None or owner == depositor:
            return  # the owner's own money comes back as a tenant refund already
        with self._lock:
            self._keep(self._any, (owner, depositor), height)
            if account is not None:
                self._keep(self._named, (account, depositor), height)
            else:
                self._keep(self._unnamed, (owner, depositor), height)

    def __call__(self, owners: set[str], accounts: set[str], depositor: str,
                 height: int) -> bool:
        def before(book: dict[tuple[str, str], int], keys: set[str]) -> bool:
            return any(book.get((k, depositor), height + 1) <= height for k in keys)

        if accounts:
            return before(self._named, accounts) or before(self._unnamed, owners)
        return before(self._any, owners)

    def load(self, lake: Lake, network: str, chain_id: int) -> None:
        for c in lake.chunk_files("escrow_deposits", network, chain_id):
            names = pq.read_schema(c.path).names
            cols = ["owner", "depositor", "block_number"]
            t = pq.read_table(c.path, columns=cols + (["escrow_account"] if "escrow_account"
                                                      in names else []))
            t = t.filter(pc.is_valid(t["owner"]))
            accounts = (t["escrow_account"].to_pylist() if "escrow_account" in t.column_names
                        else [None] * t.num_rows)
            for owner, dep, height, acct in zip(t["owner"].to_pylist(),
                                                t["depositor"].to_pylist(),
                                                t["block_number"].to_pylist(), accounts,
                                                strict=True):
                self.add(owner, dep, height, acct)


def _event_row(
    ev_tx_index: int | None,
    ev_phase: str,
    ordinal: int,
    part: int,
    txs: list[str],
    header: Header,
    src: SourceConfig,
    network: str,
    chain_id: int,
    token: str,
    event: str,
) -> dict[str, Any]:
    if part >= PARTS_PER_EVENT:
        raise ValueError(f"height {header.number}: more than {PARTS_PER_EVENT} coins in one event")
    return {
        "chain_id": chain_id,
        "network": network,
        "source": src.name,
        "token": token,
        "address": src.address,
        "event": event,
        "block_number": header.number,
        "block_hash": header.hash,
        "block_timestamp": header.timestamp,
        "transaction_hash": tx_hash(txs[ev_tx_index]) if ev_tx_index is not None else ev_phase,
        "transaction_index": ev_tx_index if ev_tx_index is not None else BLOCK_EVENT_TX_INDEX,
        "log_index": ordinal * PARTS_PER_EVENT + part,
    }


def deposit_rows(
    deposits: list[Deposit], block: dict[str, Any], header: Header, src: SourceConfig,
    network: str, chain_id: int, denoms: dict[str, str], unknown: dict[str, int],
) -> list[dict[str, Any]]:
    """escrow_deposits rows of one block's transfers into the escrow module account."""
    txs = (block["block"].get("data") or {}).get("txs") or []
    rows = []
    for d in deposits:
        t = d.transfer
        token = denoms.get(t.coin.denom)
        if token is None:
            unknown[t.coin.denom] = unknown.get(t.coin.denom, 0) + 1
            continue
        row = _event_row(t.event.tx_index, t.event.phase, t.event.ordinal, t.part, txs, header,
                         src, network, chain_id, token, "deposit")
        row.update(owner=d.owner, escrow_account=d.account, depositor=t.sender,
                   **amount_fields("amount", t.coin.amount))
        rows.append(row)
    return rows


def bme_rows(
    flows: Iterable[tuple[str, Any]], block: dict[str, Any], header: Header, src: SourceConfig,
    network: str, chain_id: int, akt_denom: str | None,
) -> list[dict[str, Any]]:
    """bme_flows rows: AKT (the source token's denom) into and out of the BME account."""
    txs = (block["block"].get("data") or {}).get("txs") or []
    rows = []
    for event, t in flows:
        if t.coin.denom != akt_denom:
            continue
        row = _event_row(t.event.tx_index, t.event.phase, t.event.ordinal, t.part, txs, header,
                         src, network, chain_id, src.token, event)
        row.update(from_address=t.sender, to_address=t.recipient,
                   **amount_fields("amount", t.coin.amount))
        rows.append(row)
    return rows


# Events that make rows without moving the accounts' coins: a lease created or closed (legacy
# `akash.v1` action attribute before node v1.0.0, typed events from v1.0.0).
MARKER_QUERIES = (
    "akash.v1.action='lease-created'",
    "akash.v1.action='lease-closed'",
    "akash.market.v1.EventLeaseCreated.id EXISTS",
    "akash.market.v1.EventLeaseClosed.id EXISTS",
)


def search_queries(sources: list[SourceConfig]) -> list[str]:
    """CometBFT queries whose matches are every height that can give a row: transfers out of
    and into the escrow account, into and out of the BME account, and lease markers."""
    out: list[str] = []
    for src in sources:
        for account in (src.address, src.bme_account):
            if account:
                out += [f"transfer.sender='{account}'", f"transfer.recipient='{account}'"]
    return sorted(set(out)) + list(MARKER_QUERIES)


def active_heights(rpc: TendermintRpc, sources: list[SourceConfig], lo: int, hi: int
                   ) -> set[int]:
    """Search, then read: the heights in [lo, hi] that can hold a row, from tx_search
    (transactions) and block_search (begin/end/finalize-block events)."""
    heights: set[int] = set()
    for query in search_queries(sources):
        for method in ("tx_search", "block_search"):
            heights |= rpc.search_heights(method, query, lo, hi)
    return heights


def _modules(src: SourceConfig) -> frozenset[str]:
    return frozenset(a for a in (src.bme_account, src.distribution_account) if a)


def _index_chunk(
    rpc: TendermintRpc,
    config: Config,
    denoms: dict[str, str],
    network: str,
    chain: CosmosChainConfig,
    sources: list[SourceConfig],
    start: int,
    end: int,
    stats: _Stats,
    depositors: Depositors,
    active: set[int] | None = None,
) -> ChunkOutput:
    """One chunk: every height (active None), or, after a search, only the active heights
    and the chunk's two boundary heights (same rows, same files: the other heights hold
    nothing the reader keeps).

    Kept whole (about 90 lines): one pass over the chunk's heights in order classifies each
    block's escrow transfers against the depositors seen so far (a deposit at one height
    decides a refund at a later one in the same chunk), so the read, the classification and
    the row building share that running state; the row shapes are payment_rows' and the
    classification is akash.classify_block's."""
    if active is None:
        heights: list[int] = list(range(start, end + 1))
    else:
        heights = sorted({start, end} | {h for h in active if start <= h <= end})

    def read(height: int) -> tuple[dict[str, Any], BlockEvents]:
        return rpc.block(height), decode_block_results(rpc.block_results(height))

    payments: list[dict[str, Any]] = []
    deposits: list[dict[str, Any]] = []
    bme: list[dict[str, Any]] = []
    headers: dict[int, Header] = {}
    unknown: dict[str, int] = {}
    # Blocks arrive as they finish; deposits of the whole chunk are known before any refund
    # is classified (a refund at h needs the deposits at or below h), so the blocks with
    # Akash activity are kept and classified in height order after the reads.
    kept: list[tuple[int, dict[str, Any], Header, BlockEvents]] = []
    for block, be in run_bounded(read, heights, chain.concurrency):
        header = header_of(block)
        if header.number != be.height:
            raise RpcError("block_results", None, f"asked height {header.number}, got {be.height}")
        kept.append((header.number, block, header, be))
        if header.number in (start, end):
            headers[header.number] = header
        with stats.lock:
            stats.heights += 1
            stats.txs += be.n_txs
            stats.failed_txs += len(be.failed_txs)
        # keep only what classification needs: blocks moving the accounts' coins
        watched = {a for s in sources for a in (s.address, s.bme_account) if a}
        if not any(t.sender in watched or t.recipient in watched
                   for ev in be.events for t in transfers(ev)) and \
                not any(marker(ev) is not None for ev in be.events):
            kept.pop()
    kept.sort(key=lambda k: k[0])
    for height, _block, _header, be in kept:
        for src in sources:
            for d in deposits_in_block(be.events, src.address, _modules(src)):
                depositors.add(d.owner, d.transfer.sender, height, d.account)
    for height, block, header, be in kept:
        n_rows = len(payments) + len(deposits) + len(bme)
        for src in sources:
            assert src.distribution_account is not None
            bme_acct = src.bme_account if src.bme_height is not None and \
                height >= src.bme_height else None
            classified = classify_block(be.events, src.address, src.distribution_account,
                                        bme_acct, height, depositors)
            payments.extend(
                payment_rows(
                    classified, block, header, src, network, chain.chain_id, denoms, unknown
                )
            )
            deposits.extend(deposit_rows(deposits_in_block(be.events, src.address,
                                                           _modules(src)), block,
                                         header, src, network, chain.chain_id, denoms, unknown))
            if bme_acct is not None:
                akt = config.tokens[src.token].denom
                bme.extend(bme_rows(bme_flows(be.events, bme_acct), block, header, src,
                                    network, chain.chain_id, akt))
        if len(payments) + len(deposits) + len(bme) > n_rows:
            headers[height] = header
    with stats.lock:
        for d, n in unknown.items():
            stats.unknown_denom[d] = stats.unknown_denom.get(d, 0) + n
    return ChunkOutput(
        {
            "lease_payments": rows_table("lease_payments", payments),
            "escrow_deposits": rows_table("escrow_deposits", deposits),
            "bme_flows": rows_table("bme_flows", bme),
        },
        blocks_table(network, chain.chain_id, headers, {start, end}),
        (headers[start].hash, headers[end].hash),
    )


# The name of Akash's BME upgrade plan (node upgrades/software/v2.0.0/upgrade.go at tag
# v2.0.0: UpgradeName = "v2.0.0"); its height on mainnet is configuration (bme_height).
BME_UPGRADE = "v2.0.0"


def check_bme_height(rpc: TendermintRpc, src: SourceConfig, head: int) -> str:
    """Check a source's configured bme_height (unconfirmed) where the node can tell: the
    height x/upgrade says the v2.0.0 plan was applied at (AppliedPlan over abci_query).
    Returns what was found, one line; ConfigError when the node contradicts the
    configuration (another height, or not applied although the head is past bme_height).
    A node that cannot answer the query leaves the value unchecked (said so)."""
    assert src.bme_height is not None
    where = f"sources.{src.name}.bme_height is {src.bme_height}"
    try:
        applied = rpc.applied_plan_height(BME_UPGRADE)
    except RpcError as exc:
        return (f"{where} (unconfirmed): not checked, the node at {rpc.host} does not answer "
                f"x/upgrade AppliedPlan ({exc.message})")
    if applied is not None and applied != src.bme_height:
        raise ConfigError(
            f"{where}, but the node at {rpc.host} applied upgrade {BME_UPGRADE} at height "
            f"{applied} (x/upgrade AppliedPlan); set bme_height: {applied}"
        )
    if applied is None and head >= src.bme_height:
        raise ConfigError(
            f"{where}, but the node at {rpc.host} has not applied upgrade {BME_UPGRADE} at "
            f"its head {head} (x/upgrade AppliedPlan); fix bme_height or the RPC"
        )
    if applied is None:
        return (f"{where}: upgrade {BME_UPGRADE} not applied yet at head {head} (x/upgrade "
                "AppliedPlan)")
    return (f"{where}: confirmed, the node applied upgrade {BME_UPGRADE} there (x/upgrade "
            "AppliedPlan)")


class CosmosSession(SessionOnChain):
    """The Cosmos chain kind for the driver (indexers.driver): every height of a chunk read
    (`concurrency` heights at once, chunks one after another); CometBFT finality is instant,
    so there is no reorg walk, but the node must still hold the heights (pruned nodes refuse
    old ones, clearly)."""

    workers = 1  # chunks one after another; the heights inside a chunk run in parallel

    def __init__(self, config: Config, network: str, chain_name: str) -> None:
        super().__init__(config, network, chain_name, "cosmos", SourceKind.akash_escrow)
        chain = self.chain
        assert isinstance(chain, CosmosChainConfig)
        self.datasets = DATASETS
        self.denoms = config.denom_tokens(chain_name)
        self.config = config
        self.depositors = Depositors()
        self.rpc, status = connect(chain_name, chain)
        self._head = cosmos_chain.latest_height(status)
        self.earliest = cosmos_chain.earliest_height(status)
        self.tx_index = cosmos_chain.tx_index_on(status)
        self.active: set[int] | None = None  # heights to read after a search; None: all
        self.stats = _Stats()

    def head(self) -> int:
        return self._head

    def find_reorg(self, cp: Checkpoint, head: int) -> ReorgRecord | None:
        return None  # CometBFT finality is instant: a committed height never changes

    def prepare(self, todo: list[tuple[int, int]]) -> None:
        if todo[0][0] < self.earliest:
            raise ConfigError(
                f"chains.{self.chain_name}: the node keeps heights from {self.earliest} only "
                f"(pruned), but height {todo[0][0]} is asked for; use an archive RPC or a "
                "later start_block"
            )
        for src in self.sources:
            if src.bme_height is not None:
                log.info("%s", check_bme_height(self.rpc, src, self._head))
        lo, hi = todo[0][0], todo[-1][1]
        if self.tx_index:
            self.active = active_heights(self.rpc, self.sources, lo, hi)
            log.info("%s/%s: search, then read: %d heights of %d-%d hold escrow activity",
                     self.network, self.chain_name, len(self.active), lo, hi)
        else:
            log.warning(
                "%s/%s: the node at %s has no transaction index (/status tx_index \"off\"): "
                "reading every height of %d-%d (%d heights); a node with tx_index \"on\" "
                "reads only the heights with escrow activity",
                self.network, self.chain_name, self.rpc.host, lo, hi, hi - lo + 1,
            )

    def index_chunk(self, start: int, end: int) -> ChunkOutput:
        return _index_chunk(
            self.rpc, self.config, self.denoms, self.network, self.chain, self.sources, start,
            end, self.stats, self.depositors, self.active,
        )

    def load_history(self, lake: Lake) -> None:
        """The depositors the lake already knows (escrow_deposits of ranges indexed before),
        so refunds in this run are classified without re-reading their history."""
        self.depositors.load(lake, self.network, self.chain_id)

    def finish(self, report: ChainReport) -> None:
        if self.stats.unknown_denom:
            log.warning(
                "%s/%s: escrow outflows in unmapped denoms skipped: %s",
                self.network, self.chain_name, self.stats.unknown_denom,
            )
        report.logs = self.stats.txs
        report.ignored_shape = sum(self.stats.unknown_denom.values())
        report.rpc = dict(self.rpc.client.stats)

    def close(self) -> None:
        self.rpc.close()
