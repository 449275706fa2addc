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
import re
import time
from dataclasses import dataclass, field

from chains import cosmos as cosmos_chain
from chains import evm as evm_chain
from chains import solana as sol
from chains.base import Pruned
from chains.blocktime import BlockClock, final_block
from chains.transport import JsonRpcClient, RpcError
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
    from depinrev.config import ConfigError
    from indexers.cosmos.extract import active_heights, check_bme_height

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
        for src in sources:
            if src.bme_height is not None:
                requests += 1  # the run checks it too
                try:
                    notes.append(check_bme_height(rpc, src, head))
                except ConfigError as exc:
                    raise DoctorRefusal(str(exc)) from None
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
        batch = chain.transactions_per_batch
        http = requests - candidates + math.ceil(candidates / batch)
        if batch > 1:
            notes.append(f"getTransaction in JSON-RPC batches of {batch}: about {http} HTTP "
                         "requests carry the calls")
        notes += _rate_note(client)
        return ChainPlan(name, "solana", f"genesis {chain.genesis_hash or '(not checked)'}",
                         head, lowest, lo, hi, strategy, requests,
                         http * lat / max(1, chain.concurrency), notes)
    finally:
        client.close()


# A provider's cap on the logs of one eth_getLogs answer, and on its block range, as their
# messages say it (Infura / geth "query returned more than 10000 results", Alchemy "Log
# response size exceeded ... a cap of 10K logs", QuickNode "limited to a 10,000 range").
_RESULT_CAP = re.compile(
    r"(?:more than|cap of|at most|maximum of|limit of)\s*([\d,]+)\s*(k\b)?\s*(?:results|logs)"
    r"|response size|too many (?:results|logs)", re.IGNORECASE)
_RANGE_CAP = re.compile(
    r"block range|range too|max(?:imum)? (?:block )?range|up to a|limited to a [\d,]+ range",
    re.IGNORECASE)
SAMPLE_WINDOWS = 3  # windows of the range read for the density of blocks holding logs


def _cap_number(message: str) -> int | None:
    m = _RESULT_CAP.search(message)
    if m is None or m.group(1) is None:
        return None
    n = int(m.group(1).replace(",", ""))
    return n * 1000 if m.group(2) else n


def _logs(client: JsonRpcClient, flt: dict[str, object], a: int, b: int) -> list[object]:
    return list(client.call("eth_getLogs", [{**flt, "fromBlock": hex(a), "toBlock": hex(b)}],
                            expect=list))


def _probe_range(client: JsonRpcClient, flt: dict[str, object], hi: int, span: int
                 ) -> tuple[int, list[str]]:
    """The widest eth_getLogs window (at most `span`) the node answers, halving from `span`
    on a refusal, with what the probe saw."""
    refused: str | None = None
    s = span
    while True:
        try:
            _logs(client, flt, hi - s + 1, hi)
        except RpcError as exc:
            if s == 1:
                raise
            refused = refused or f"eth_getLogs over {span} blocks refused ({exc.message})"
            s = max(1, s // 2)
            continue
        if refused is None:
            return s, [f"eth_getLogs range: {span} blocks answered (max_blocks_per_request)"]
        return s, [f"{refused}; {s} blocks answered: lower max_blocks_per_request to {s}"]


def _probe_results(client: JsonRpcClient, hi: int, span: int) -> list[str]:
    """The result cap: every log of the chain in the window (no address filter), the most a
    probe can ask for in one answer; a provider capping results says so (and how many)."""
    try:
        n = len(_logs(client, {}, hi - span + 1, hi))
    except RpcError as exc:
        cap = _cap_number(exc.message)
        if cap is None and not _RESULT_CAP.search(exc.message):
            return [f"eth_getLogs result limit: the probe of every log was refused "
                    f"({exc.message})"]
        said = f"{cap} logs an answer" if cap is not None else "a capped answer size"
        return [f"eth_getLogs result limit: {said} ({exc.message}); the reader splits a "
                "window holding more"]
    return [f"eth_getLogs result limit: none met ({n} logs answered in one response)"]


def plan_evm(config: Config, network: str, name: str, chain: ChainConfig,
             quarter: Quarter | None) -> ChainPlan:
    from indexers.evm.extract import log_filters

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
        filters = log_filters(sources)
        span, notes = _probe_range(client, filters[0], hi,
                                   min(chain.max_blocks_per_request, hi - lo + 1))
        notes += _probe_results(client, hi, span)
        chunks = _chunks(lo, hi, chain.chunk_size)
        # per chunk: each filter's windows (the reader learns the node's span after one
        # refusal), the headers of its two ends and of every block holding a log: their
        # density read for real in a few windows spread over the range (the cheap part)
        windows = sum(math.ceil((e - s + 1) / span) for s, e in chunks) * len(filters)
        sample = sorted({min(hi, max(lo, lo + k * (hi - lo + 1) // SAMPLE_WINDOWS))
                         for k in range(SAMPLE_WINDOWS)})
        seen, read = 0, 0
        for a in sample:
            b = min(hi, a + span - 1)
            blocks: set[str] = set()
            for flt in filters:
                blocks |= {str(lg.get("blockNumber")) for lg in _logs(client, flt, a, b)
                           if isinstance(lg, dict)}
            seen, read = seen + len(blocks), read + (b - a + 1)
        log_blocks = round(seen * (hi - lo + 1) / max(1, read))
        requests = windows + 2 * len(chunks) + log_blocks
        notes.append(f"blocks holding logs: {seen} in {read} sampled blocks, about {log_blocks} "
                     "in the range (a header each)")
        notes += _rate_note(client)
        http = windows + math.ceil((2 * len(chunks) + log_blocks) / evm_chain.HEADER_BATCH)
        return ChainPlan(name, "evm", f"chain id {chain.chain_id}", head, lowest, lo, hi,
                         f"eth_getLogs in windows of {span} blocks, {len(filters)} filter(s)",
                         requests, http * lat / max(1, chain.concurrency), notes)
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
