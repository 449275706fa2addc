"""Mainnet-shaped load, in requests (not times): Solana seek-then-page and Cosmos
search-then-read on replay servers at mainnet scale (docs/benchmarks.md, "Real networks").

Solana: a mint with SIGS signatures over 2025 (one every 400 ms slot spread evenly, 5% failed,
every 20th slot skipped, burns by two wallets among them; the node's first available slot is
after genesis), indexed for 2025Q1 twice: with one month of history after Q1 and with eleven.
Targets: the two runs' requests within 5%, and at most 1.2 x (Q1's signature pages + Q1's
candidate transactions).

Cosmos: HEIGHTS heights in one quarter (6 s blocks), escrow activity at 1% of them, on a node
with transaction indexing. Target: at most 3 requests per active height plus the search pages.

Before each run, `depinrev doctor` plans it (Solana: --quarter 2025Q1; CometBFT: the whole
chain, as the run): its estimate must be within 25% of the requests the run then makes.

`python bench/real_networks.py [--scale S]`: S scales the signature and height counts (1, the
default and what `make bench` runs, = the issue's 2,000,000 signatures and 1,300,000 heights).
Requests are JSON-RPC calls, as providers bill them (a batch counts each of its calls); the
HTTP requests that carried them are shown beside. The reader fetches transactions in JSON-RPC
batches (chains.solana.transactions), so scale 1 takes minutes on the replay servers.
Results go between the `bench:real` markers of docs/benchmarks.md unless --no-doc.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from depinrev.config import Config, module_account  # noqa: E402
from depinrev.lake import Lake  # noqa: E402
from depinrev.quarters import Quarter  # noqa: E402
from indexers.dispatch import index_network  # noqa: E402
from indexers.doctor import doctor  # noqa: E402
from tests.support.cosmos_node import CosmosNode  # noqa: E402
from tests.support.jsonrpc_server import JsonRpcServer  # noqa: E402
from tests.support.solana_cluster import SolanaCluster  # noqa: E402

DOC = REPO / "docs" / "benchmarks.md"
MINT = "rndrizKT3MK1iimdxRdWabcF7Zg7AR5T4nud4EkHBof"
WALLETS = ["rbrnm7nPhfhBxPSh8qhRFrhB5MLnJGMNoyNQPvSi7vq",
           "G7Hf2J55BAkHtbbXPh94UTGRCQioKPpnb5oKQMBteXo"]
T2025 = 1_735_689_600  # 2025-01-01
Q2 = 1_743_465_600  # 2025-04-01
MONTH = 30 * 86_400
SLOT_S = 0.4
FIRST_SLOT = 1_000  # the node's first available slot (after genesis, before 2025)


class _EveryNth:
    """The skipped slots: every `n`th one (a container without a 100-million-slot set)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __contains__(self, slot: object) -> bool:
        return isinstance(slot, int) and slot % self.n == 0


def _slot_at(ts: int) -> int:
    return FIRST_SLOT + int((ts - T2025) / SLOT_S) + 10_000


def _solana(sigs_per_year: int, months_after: int) -> dict[str, Any]:
    end_ts = Q2 + months_after * MONTH
    head = _slot_at(end_ts)
    head += head % 20 == 0  # the newest finalized slot is a produced one (getSlot)
    cluster = SolanaCluster(head=head, decimals={MINT: 8},
                            block_time=lambda s: T2025 + int((s - FIRST_SLOT - 10_000) * SLOT_S))
    cluster.first_available = FIRST_SLOT
    first = _slot_at(T2025)
    n = int(sigs_per_year * (end_ts - T2025) / (365 * 86_400))
    step = max(1, (head - first) // max(1, n))
    q1_lo, q1_hi = _slot_at(T2025), _slot_at(Q2) - 1
    q1 = {"signatures": 0, "candidates": 0, "wallet": [0, 0]}
    for i, slot in enumerate(range(head - (head - first) % step, first - 1, -step)):
        if slot % 20 == 0:
            slot += 1  # every 20th slot is skipped: no signature there
        failed = i % 20 == 7
        sig = f"S{slot:011d}"
        entry = {"signature": sig, "slot": slot, "err": {"x": 1} if failed else None,
                 "memo": None, "blockTime": cluster.block_time(slot),
                 "confirmationStatus": "finalized"}
        cluster.add(MINT, entry)
        inside = q1_lo <= slot <= q1_hi
        if i % 50 == 3:  # a burn by one of two wallets: listed for the wallet too
            w = (i // 50) % 2
            cluster.add(WALLETS[w], entry)
            q1["wallet"][w] += inside
        q1["signatures"] += inside
        q1["candidates"] += inside and not failed
    cluster.skipped = _EveryNth(20)
    config = Config.model_validate({
        "chains": {"solana": {"kind": "solana", "chain_id": 101, "rpc_url_env": "BENCH_SOL",
                              "chunk_size": 216_000}},
        "tokens": {"render": {"symbol": "RENDER", "decimals": 8, "chain": "solana",
                              "mint": MINT}},
        "networks": {"render": {"display_name": "Render", "devnet": False, "sources": [
            {"name": "burns", "kind": "spl_burns", "chain": "solana", "address": MINT,
             "burn_owners": WALLETS, "start_block": FIRST_SLOT, "token": "render"}]}}})
    with JsonRpcServer(cluster, keep_log=False) as server, tempfile.TemporaryDirectory() as tmp:
        os.environ["BENCH_SOL"] = server.url
        (plan,) = doctor(config, "render", Quarter.parse("2025Q1"))
        server.calls.clear()
        server.http_requests = 0
        t = time.perf_counter()
        index_network(config, "render", Lake(tmp), from_block=q1_lo, to_block=q1_hi)
        seconds = time.perf_counter() - t
        calls = dict(server.calls)
        http = server.http_requests
    pages = sum(math.floor(c / 1000) + 1 for c in [q1["signatures"], *q1["wallet"]])
    return {"months_after": months_after, "signatures_total": n, "q1": q1, "pages": pages,
            "calls": calls, "requests": sum(calls.values()), "http": http, "seconds": seconds,
            "estimate": plan.requests, "plan_range": (plan.lo, plan.hi)}


def _cosmos(heights: int) -> dict[str, Any]:
    escrow, dist = module_account("akash", "escrow"), module_account("akash", "distribution")
    provider = module_account("akash", "p")

    def tr(s: str, r: str, a: str) -> dict[str, Any]:
        return {"type": "transfer", "attributes": [{"key": "recipient", "value": r},
                                                   {"key": "sender", "value": s},
                                                   {"key": "amount", "value": a}]}

    active = list(range(50, heights + 1, 100))
    results = {h: {"height": str(h), "txs_results": [{"code": 0, "events": [
        {"type": "message", "attributes": [{"key": "action", "value": "/x.MsgWithdrawLease"},
                                           {"key": "sender", "value": provider}]},
        tr(escrow, provider, f"{h}uakt")]}]} for h in active}
    node = CosmosNode("akashnet-2", results, head=heights, tx_index=True)
    config = Config.model_validate({
        "chains": {"akash": {"kind": "cosmos", "chain_id": 900001, "chain_name": "akashnet-2",
                             "bech32_prefix": "akash", "rpc_url_env": "BENCH_COSMOS",
                             "chunk_size": 10_000}},
        "tokens": {"akt": {"symbol": "AKT", "decimals": 6, "chain": "akash", "denom": "uakt"}},
        "networks": {"akash": {"display_name": "Akash", "devnet": False, "sources": [
            {"name": "escrow", "kind": "akash_escrow", "chain": "akash", "address": escrow,
             "distribution_account": dist, "start_block": 1, "token": "akt"}]}}})
    with JsonRpcServer(node, keep_log=False) as server, tempfile.TemporaryDirectory() as tmp:
        os.environ["BENCH_COSMOS"] = server.url
        (plan,) = doctor(config, "akash")
        server.calls.clear()
        server.http_requests = 0
        t = time.perf_counter()
        index_network(config, "akash", Lake(tmp))
        seconds = time.perf_counter() - t
        calls = dict(server.calls)
        http = server.http_requests
    pages = calls.get("tx_search", 0) + calls.get("block_search", 0)
    return {"heights": heights, "active": len(active), "calls": calls,
            "requests": sum(calls.values()), "search_pages": pages, "http": http,
            "seconds": seconds, "estimate": plan.requests}


def run(scale: float) -> str:
    short = _solana(int(2_000_000 * scale), 1)
    long = _solana(int(2_000_000 * scale), 11)
    cos = _cosmos(int(1_300_000 * scale))
    bound = 1.2 * (short["pages"] + short["q1"]["candidates"])
    diff = abs(long["requests"] - short["requests"]) / short["requests"]
    per_height = (cos["requests"] - cos["search_pages"]) / cos["active"]
    lines = [
        f"Scale {scale:g} (1 = 2,000,000 signatures a year, 1,300,000 heights a quarter).",
        "",
        "| case | requests | target | met |",
        "|---|---|---|---|",
        f"| Solana 2025Q1, 1 month after (the mint has {short['signatures_total']:,} "
        f"signatures) | {short['requests']:,} | <= 1.2 x ({short['pages']} pages + "
        f"{short['q1']['candidates']:,} candidates) = {bound:,.0f} | "
        f"{'yes' if short['requests'] <= bound else 'NO'} |",
        f"| Solana 2025Q1, 11 months after ({long['signatures_total']:,}) | "
        f"{long['requests']:,} | within 5% of the above ({diff:.2%}) | "
        f"{'yes' if diff <= 0.05 else 'NO'} |",
        f"| CometBFT, {cos['heights']:,} heights, {cos['active']:,} active, tx_index on | "
        f"{cos['requests']:,} ({cos['search_pages']} search pages) | <= 3 per active height "
        f"+ pages ({per_height:.2f} per height) | {'yes' if per_height <= 3 else 'NO'} |",
        *[f"| depinrev doctor's estimate, {name} | {r['estimate']:,} | within 25% of the "
          f"run's {r['requests']:,} ({(r['estimate'] - r['requests']) / r['requests']:+.1%}) | "
          f"{'yes' if abs(r['estimate'] - r['requests']) <= 0.25 * r['requests'] else 'NO'} |"
          for name, r in [("Solana 2025Q1, 1 month after", short),
                          ("Solana 2025Q1, 11 months after", long), ("CometBFT", cos)]],
        "",
        f"Requests by method: Solana (1 month) {short['calls']}; CometBFT {cos['calls']}.",
        "",
        f"HTTP requests that carried them (getTransaction in JSON-RPC batches of 50): Solana "
        f"{short['http']:,} (1 month) and {long['http']:,} (11 months), CometBFT "
        f"{cos['http']:,}. Wall time on the replay servers: Solana {short['seconds']:.0f} s and "
        f"{long['seconds']:.0f} s, CometBFT {cos['seconds']:.0f} s (2 shared cores; the "
        "targets are request counts, not times).",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=float(os.environ.get("BENCH_REAL_SCALE",
                                                                        "1")))
    ap.add_argument("--no-doc", action="store_true")
    args = ap.parse_args()
    text = run(args.scale)
    print(text)
    if not args.no_doc:
        doc = DOC.read_text()
        start, end = "<!-- bench:real:start -->", "<!-- bench:real:end -->"
        if start not in doc:
            doc += f"\n## Real networks: requests at mainnet shape\n\n{start}\n{end}\n"
        head, rest = doc.split(start, 1)
        DOC.write_text(f"{head}{start}\n{text}\n{end}{rest.split(end, 1)[1]}")


if __name__ == "__main__":
    main()
