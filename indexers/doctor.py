"""`depinrev doctor`: probe each chain of a network and plan a backfill before running it.

For each chain a network reads: identity (chain id, genesis hash, chain name), head, the
lowest block the node serves (archive or pruned), and per chain kind what decides the cost:
Cosmos transaction indexing (search, then read, or every height), Solana's seek bounds and
the signature pages of the range, an EVM node's eth_getLogs range. Then, for the range
(a quarter, or the sources' start to the final block), the strategy the reader will use and
the requests it will make, estimated by doing the cheap part of the plan for real (the
searches, the signature listing) and counting the rest; the time at the latency the probes
measured. What cannot work is refused with one line (a pruned node for an old range).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from chains import cosmos as cosmos_chain
from chains import evm as evm_chain
from chains import solana as sol
from chains.base import Pruned
from chains.blocktime import BlockClock, final_block
from chains.transport import JsonRpcClient, RangeTooLarge, RpcError
from depinrev.config import (
    ChainConfig,
    Config,
    CosmosChainConfig,
    SolanaChainConfig,
    SourceKind,
)
from depinrev.quarters import Quarter
from indexers.chunked import aligned_range


class DoctorRefusal(RuntimeError):
    """A plan that cannot work (one line saying why and what to do)."""


@dataclass
class ChainPlan:
    chain: str
    kind: str
    identity: str
    head: int
    lowest: int
    lo: int
    hi: int
    strategy: str
    requests: int
    seconds: float
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"{self.chain} ({self.kind}): {self.identity}; head {self.head}; lowest block "
            f"served {self.lowest}",
            f"  range {self.lo}-{self.hi} ({self.hi - self.lo + 1} blocks): {self.strategy}; "
            f"about {self.requests} requests, {self.seconds:.0f} s",
        ]
        out += [f"  {n}" for n in self.notes]
        return out


def _latency(client: JsonRpcClient, method: str, params: list[object]) -> float:
    t = time.perf_counter()
    client.call(method, params)
    return time.perf_counter() - t


def _range(config: Config, network: str, chain_name: str, final: int, clock: BlockClock,
           quarter: Quarter | None, lowest: int) -> tuple[int, int]:
    """The chunk-aligned range a run would index: a quarter's blocks, or the sources' first
    block to the final one; refused when the node does not keep its beginning."""
    chain = config.any_chain(chain_name)
    first = min(s.start_block for s in config.network(network).sources if s.chain == chain_name)
    pruned = (f"chains.{chain_name}: the node keeps blocks from {lowest} only (pruned)")
    lo, hi = first, final
    if quarter is not None:
        floor = max(first, lowest)
        if lowest > first and clock.timestamp(floor) > quarter.start_ts:
            raise DoctorRefusal(f"{pruned}, and {quarter} begins before that; use an archive "
                                "node")
        found = clock.range_for(quarter.start_ts, quarter.end_ts, floor, final)
        if found is None:
            raise DoctorRefusal(f"chains.{chain_name}: no final block of {quarter} (final "
                                f"block {final})")
        lo, hi = found
    rng = aligned_range(first, final, chain.chunk_size, lo, hi)
    if rng is None:
        raise DoctorRefusal(f"chains.{chain_name}: nothing to index up to block {final}")
    lo, hi = rng
    if lo < lowest:
        raise DoctorRefusal(f"{pruned}, but the range starts at {lo}; use an archive node or "
                            "a later start_block")
    return lo, hi


def _chunks(lo: int, hi: int, size: int) -> list[tuple[int, int]]:
    return [(max(lo, s), min(hi, s + size - 1)) for s in range((lo // size) * size, hi + 1, size)]


def plan_cosmos(config: Config, network: str, name: str, chain: CosmosChainConfig,
                quarter: Quarter | None) -> ChainPlan:
    from indexers.cosmos.extract import active_heights

    rpc, status = cosmos_chain.connect(name, chain)
    try:
        head = cosmos_chain.latest_height(status)
        lowest = cosmos_chain.earliest_height(status)
        final = final_block(head, chain.finality_depth)
        lat = _latency(rpc.client, "status", [])
        clock = cosmos_chain.CosmosChain(rpc, status, name, chain).clock()
        lo, hi = _range(config, network, name, final, clock, quarter, lowest)
        sources = [s for s in config.network(network).sources
                   if s.chain == name and s.kind is SourceKind.akash_escrow]
        bounds = {h for c in _chunks(lo, hi, chain.chunk_size) for h in c}
        notes: list[str] = []
        if cosmos_chain.tx_index_on(status):
            pages0 = _calls(rpc.client)
            active = active_heights(rpc, sources, lo, hi)
            pages = _calls(rpc.client) - pages0
            read = len(active | bounds)
            strategy = (f"search, then read (tx_index on): {pages} search pages found "
                        f"{len(active)} active heights")
            requests = pages + 2 * read
        else:
            read = hi - lo + 1
            strategy = "every height (tx_index off: no tx_search / block_search)"
            requests = 2 * read
            notes.append("a node with tx_index \"on\" reads only the heights with escrow "
                         "activity")
        seconds = requests * lat / max(1, chain.concurrency)
        notes += _rate_note(rpc.client)
        return ChainPlan(name, "cosmos", f"chain {chain.chain_name}", head, lowest, lo, hi,
                         strategy, requests, seconds, notes)
    finally:
        rpc.close()


def _rate_note(client: JsonRpcClient) -> list[str]:
    """What the probes saw of rate limiting (retries after 429 / Retry-After)."""
    retries = int(client.stats.get("retries", 0)) if isinstance(client.stats, dict) else 0
    return [f"rate limiting seen: {retries} retried requests during the probes"] if retries \
        else ["rate limiting seen: none during the probes"]


def _calls(client: JsonRpcClient) -> int:
    stats = client.stats
    return int(stats.get("requests", 0)) if isinstance(stats, dict) else 0


def plan_solana(config: Config, network: str, name: str, chain: SolanaChainConfig,
                quarter: Quarter | None) -> ChainPlan:
    from indexers.solana.extract import list_signatures

    client = sol.connect(name, chain)
    try:
        head = sol.head(client)
        lowest = sol.first_available(client)
        final = final_block(head, chain.finality_depth)
        lat = _latency(client, "getSlot", [sol.FINALIZED])
        clock = sol.SolanaChain(client, name, chain).clock()
        lo, hi = _range(config, network, name, final, clock, quarter, lowest)
        sources = [s for s in config.network(network).sources
                   if s.chain == name and s.kind is SourceKind.spl_burns]
        start = _calls(client)
        seek = sol.seek_bounds(client, lo, hi)
        sigs: dict[str, bool] = {}
        for addr in sorted({a for s in sources for a in [s.address, *s.burn_owners]}):
            for s in list_signatures(client, addr, lo, hi, chain.signatures_per_request, seek):
                sigs[s.signature] = s.failed
        listing = _calls(client) - start
        candidates = sum(1 for failed in sigs.values() if not failed)
        chunks = _chunks(lo, hi, chain.chunk_size)
        # per chunk: produced bounds (2 calls) and their two headers, plus a header per burn
        # slot (at most one per candidate)
        requests = (len(sources) + 1 + listing + candidates + 4 * len(chunks))
        strategy = (f"seek, then page: {listing} listing requests, {len(sigs)} signatures "
                    f"({candidates} to fetch)")
        notes = [] if seek[0] else ["no block after the range yet: the listing starts at the "
                                    "newest signature"]
        notes += _rate_note(client)
        return ChainPlan(name, "solana", f"genesis {chain.genesis_hash or '(not checked)'}",
                         head, lowest, lo, hi, strategy, requests,
                         requests * lat / max(1, chain.concurrency), notes)
    finally:
        client.close()


def plan_evm(config: Config, network: str, name: str, chain: ChainConfig,
             quarter: Quarter | None) -> ChainPlan:
    client = evm_chain.connect(name, chain)
    try:
        head = evm_chain.head(client)
        final = final_block(head, chain.finality_depth)
        lat = _latency(client, "eth_blockNumber", [])
        sources = [s for s in config.network(network).sources if s.chain == name]
        first = min(s.start_block for s in sources)
        lowest = first
        try:
            if evm_chain.header(client, first) is None:
                lowest = first + 1
        except Pruned as exc:
            lowest = exc.lowest
        clock = evm_chain.EvmChain(client, name, chain).clock()
        lo, hi = _range(config, network, name, final, clock, quarter, min(lowest, first))
        notes = []
        span = min(chain.max_blocks_per_request, hi - lo + 1)
        try:
            client.call("eth_getLogs", [{"fromBlock": hex(hi - span + 1), "toBlock": hex(hi),
                                         "address": sources[0].address}])
            notes.append(f"eth_getLogs over {span} blocks answered")
        except (RangeTooLarge, RpcError) as exc:
            notes.append(f"eth_getLogs over {span} blocks refused ({exc}): lower "
                         "max_blocks_per_request")
        notes += _rate_note(client)
        windows = math.ceil((hi - lo + 1) / chain.max_blocks_per_request)
        chunks = _chunks(lo, hi, chain.chunk_size)
        requests = windows * len(sources) + 2 * len(chunks)
        return ChainPlan(name, "evm", f"chain id {chain.chain_id}", head, lowest, lo, hi,
                         f"eth_getLogs in windows of {chain.max_blocks_per_request} blocks",
                         requests, requests * lat / max(1, chain.concurrency), notes)
    finally:
        client.close()


def first_event_block(client: JsonRpcClient, address: str, lo: int, hi: int,
                      window: int) -> int | None:
    """The first block in [lo, hi] with a log of `address` (e.g. AethirCore's first event,
    for its start_block): eth_getLogs over windows of `window` blocks (the node's range
    limit) from `lo` until one holds a log, then bisection inside that window. Requests: the
    windows before the first event, plus log2(window). None if there is no log."""

    def has_log(a: int, b: int) -> bool:
        logs = client.call("eth_getLogs", [{"fromBlock": hex(a), "toBlock": hex(b),
                                            "address": address}], expect=list)
        return bool(logs)

    for s in range(lo, hi + 1, window):
        a, b = s, min(hi, s + window - 1)
        if not has_log(a, b):
            continue
        while a < b:
            mid = (a + b) // 2
            if has_log(a, mid):
                b = mid
            else:
                a = mid + 1
        return a
    return None


def first_event(config: Config, network: str, source: str) -> int | None:
    """The first block holding a log of an EVM source, from its start_block to the final
    block, in windows of its chain's max_blocks_per_request."""
    src = next((s for s in config.network(network).sources if s.name == source), None)
    if src is None:
        raise DoctorRefusal(f"network {network} has no source {source!r}")
    chain = config.any_chain(src.chain)
    if not isinstance(chain, ChainConfig):
        raise DoctorRefusal(f"source {source} is on a {chain.kind} chain: --first-event "
                            "bisects eth_getLogs of EVM sources")
    client = evm_chain.connect(src.chain, chain)
    try:
        final = final_block(evm_chain.head(client), chain.finality_depth)
        return first_event_block(client, src.address, src.start_block, final,
                                 chain.max_blocks_per_request)
    finally:
        client.close()


def doctor(config: Config, network: str, quarter: Quarter | None = None) -> list[ChainPlan]:
    """A plan per chain of the network (DoctorRefusal if one cannot work)."""
    plans = []
    for name in config.chains_of(network):
        chain = config.any_chain(name)
        if isinstance(chain, CosmosChainConfig):
            plans.append(plan_cosmos(config, network, name, chain, quarter))
        elif isinstance(chain, SolanaChainConfig):
            plans.append(plan_solana(config, network, name, chain, quarter))
        else:
            plans.append(plan_evm(config, network, name, chain, quarter))
    return plans
