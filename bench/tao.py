"""Bittensor volume: synthetic Finney-like days indexed from a replay node, cost per million rows.

Finney has ~190,000 fee events a day (~70M a year) in ~7,200 blocks: ~26 fee-paying extrinsics
a block. Every generated block has 26 signed extrinsics (TransactionFeePaid with its Withdraw,
Deposit and ExtrinsicSuccess; one in eight a stake with its swap fee; ~140 event records a
block, the real blocks in shared/fixtures have 166-182), SCALE-encoded with the real spec-393
metadata by tests/support/subtensor_node.py (16 block templates, every block its own hash,
time and extrinsic bytes). The node runs in its own process, so the peak RSS measured is the
indexer's. The real reader (indexers.dispatch.index_network) indexes it into a fresh lake and
the warehouse is built on that lake (dbt + audit against the same node).

    uv run python bench/tao.py --days 1

Prints blocks/s, events decoded/s, rows/s, peak RSS, lake bytes per million rows, and the
extrapolation to a year (2,628,000 blocks), for comparison with docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import yaml

from depinrev.config import load_config
from indexers.dispatch import index_network
from tests.support.jsonrpc_server import JsonRpcServer
from tests.support.subtensor_node import (
    Extrinsic,
    SubtensorChain,
    _extrinsic_bytes,
    write_config,
)

REPO = Path(__file__).resolve().parents[1]
METADATA = REPO.parent / "shared" / "fixtures" / "bittensor" / "finney-metadata-v15-spec393.hex"
BLOCKS_PER_DAY = 7_200
FEES_PER_BLOCK = 26
TEMPLATES = 16
T0 = 1_735_689_600  # 2025-01-01


class BenchChain(SubtensorChain):
    """Blocks reuse 16 encoded event templates (events carry no block number); extrinsic
    bytes, hashes and times are each block's own."""

    def _generate(self, n: int) -> tuple[bytes, list[str]]:
        templates: dict[int, tuple[bytes, list[str]]] = self.__dict__.setdefault("_tpl", {})
        key = n % TEMPLATES
        if key not in templates:
            templates[key] = super()._generate(n)
        events, exts = templates[key]
        return events, [_extrinsic_bytes(n, i) for i in range(len(exts))]


def _schedule(blocks: int) -> dict[int, list[Extrinsic]]:
    def block(n: int) -> list[Extrinsic]:
        out = []
        for i in range(FEES_PER_BLOCK):
            if i % 8 == 0:
                out.append(Extrinsic("stake", f"s{n}-{i}", 250_000 + i, netuid=i % 64 + 1,
                                     amount=10**9, stake_fee=500_000 + i))
            else:
                out.append(Extrinsic("fee", f"f{n}-{i}", 100_000 + i, tip=i % 3))
        return out

    return {n: block(n) for n in range(1, min(blocks, TEMPLATES) + 1)}


def _serve(blocks: int, q: Any, stop: Any) -> None:
    metadata = bytes.fromhex(METADATA.read_text().strip()[2:])
    sched = _schedule(blocks)
    full = {n: sched[(n - 1) % TEMPLATES + 1] for n in range(1, blocks + 1)}
    chain = BenchChain(metadata, blocks, full, lambda n: T0 + 12 * n, upgrade_at=0)
    with JsonRpcServer(chain) as server:
        q.put(server.url)
        stop.wait()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=float, default=1.0)
    ap.add_argument("--batch", type=int, default=None, help="blocks per JSON-RPC batch")
    args = ap.parse_args()

    blocks = int(args.days * BLOCKS_PER_DAY)
    ctx = mp.get_context("fork")
    q, stop = ctx.Queue(), ctx.Event()
    t0 = time.perf_counter()
    node = ctx.Process(target=_serve, args=(blocks, q, stop), daemon=True)
    node.start()
    url = q.get(timeout=600)
    print(f"node up with {blocks} blocks in {time.perf_counter() - t0:.1f} s", flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        os.environ["DEPINREV_BENCH_TAO"] = url
        cfg = write_config(root / "n.yaml", REPO / "config" / "networks.mainnet.yaml",
                           "DEPINREV_BENCH_TAO", root / "cache")
        doc = yaml.safe_load(cfg.read_text())
        doc["chains"]["bittensor"]["chunk_size"] = BLOCKS_PER_DAY
        if args.batch is not None:
            doc["chains"]["bittensor"]["blocks_per_request"] = args.batch
        cfg.write_text(yaml.safe_dump(doc, sort_keys=False))
        config = load_config(cfg)
        cpu0 = time.process_time()
        t1 = time.perf_counter()
        report = index_network(config, "bittensor", root / "lake")
        wall = time.perf_counter() - t1
        cpu = time.process_time() - cpu0
        (rep,) = report.chains
        rows = sum(rep.rows.values())
        lake_bytes = sum(p.stat().st_size for p in (root / "lake").rglob("*.parquet"))
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        per_m = wall / max(rows, 1) * 1e6
        batch = doc["chains"]["bittensor"].get("blocks_per_request", 100)
        print(f"blocks {blocks} (batches of {batch}), event records decoded {rep.logs}, "
              f"lake rows {rows}")
        print(f"index: {wall:.1f} s wall, {cpu:.1f} s CPU; {blocks / wall:.0f} blocks/s, "
              f"{rep.logs / wall:,.0f} events/s, {rows / wall:,.0f} rows/s; "
              f"{per_m:.1f} s per million rows; peak RSS {rss / 2**20:.0f} MiB")
        print(f"lake: {lake_bytes / 2**20:.1f} MiB, {lake_bytes / max(rows, 1) * 1e6 / 2**20:.1f}"
              " MiB per million rows")
        year = 365 * BLOCKS_PER_DAY
        print(f"a year ({year:,} blocks, ~{rows / blocks * year / 1e6:.0f}M rows) at this rate: "
              f"{wall / blocks * year / 3600:.1f} h of indexing, "
              f"{lake_bytes / blocks * year / 2**30:.1f} GiB of lake")
        print(f"rpc: {rep.rpc}")
    stop.set()
    node.join(timeout=10)


if __name__ == "__main__":
    main()
