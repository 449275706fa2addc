"""Per-stage cost of the indexer's hot path on one dense chunk: `uv run python bench/stages.py`.

Builds one eth_getLogs response body in anvil's shape (N ERC-20 Transfer logs, 180 per
block, random addresses and amounts; no node needed), then times each stage the indexer runs
on it (best of 5, one thread): parse the body into Arrow, normalize, decode into the lake
datasets, write their Parquet files (zstd, fsync). Each figure is printed per log and as a
ratio to `orjson.loads` of the same body in the same process, the cost of merely getting
Python objects.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import polars as pl

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from depinrev.config import SourceKind, load_config  # noqa: E402
from depinrev.lake import Lake  # noqa: E402
from indexers.evm.decode import decode_logs, normalize, parse_logs_body  # noqa: E402
from indexers.evm.events import TRANSFER  # noqa: E402

LOGS_PER_BLOCK = 180
GENESIS = 1_735_689_600


def transfer_body(address: str, n: int, seed: int = 7) -> bytes:
    """An eth_getLogs response of n Transfer logs of `address`, as anvil returns it."""
    rng = np.random.default_rng(seed)
    logs = []
    for i in range(n):
        block = 1000 + i // LOGS_PER_BLOCK
        frm, to = rng.bytes(20).hex(), rng.bytes(20).hex()
        logs.append({
            "address": address,
            "topics": [TRANSFER.topic0, "0x" + "0" * 24 + frm, "0x" + "0" * 24 + to],
            "data": "0x" + int(rng.integers(1, 2**62)).to_bytes(32, "big").hex(),
            "blockHash": "0x" + block.to_bytes(32, "big").hex(),
            "blockNumber": hex(block),
            "blockTimestamp": hex(GENESIS + 12 * block),
            "transactionHash": "0x" + rng.bytes(32).hex(),
            "transactionIndex": hex(i % LOGS_PER_BLOCK),
            "logIndex": hex(i % LOGS_PER_BLOCK),
            "removed": False,
        })  # fmt: skip
    return orjson.dumps({"jsonrpc": "2.0", "id": 1, "result": logs})


def best_of(fn: Callable[[], Any], reps: int = 5) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--logs", type=int, default=23_000, help="logs in the chunk (bench: ~23k)")
    args = ap.parse_args()
    cfg = load_config(REPO / "bench" / "devnet.yaml")
    network = "akash-devnet"
    sources = [s for s in cfg.network(network).sources if s.chain == "ethereum-devnet"]
    token = next(s for s in sources if s.kind is SourceKind.erc20)
    body = transfer_body(token.address, args.logs)
    n = args.logs

    ref, _ = best_of(lambda: orjson.loads(body))
    stages: list[tuple[str, float]] = []
    t, raw = best_of(lambda: parse_logs_body(body))
    stages.append(("parse (Arrow JSON reader)", t))
    t, logs = best_of(lambda: normalize(raw))
    stages.append(("normalize (polars)", t))
    blocks = sorted(set(logs["block_number"].to_list()))
    headers = pl.DataFrame({
        "block_number": blocks,
        "block_hash": ["0x" + b.to_bytes(32, "big").hex() for b in blocks],
        "parent_hash": ["0x" + "0" * 64] * len(blocks),
        "block_timestamp": [GENESIS + 12 * b for b in blocks],
    })  # fmt: skip
    t, tables = best_of(
        lambda: decode_logs(logs, headers, sources, network=network, chain_id=1337)
    )
    stages.append(("decode (numpy, Arrow)", t))
    with tempfile.TemporaryDirectory() as tmp:
        lake = Lake(tmp)
        t, _ = best_of(
            lambda: [lake.write_chunk(d, network, 1337, 0, 127, tables[d]) for d in tables]
        )
    stages.append(("write Parquet (zstd, fsync)", t))

    print(f"{n:,} Transfer logs, {len(body) / 1e6:.1f} MB body; orjson.loads of it: "
          f"{ref * 1e3:.1f} ms = {ref / n * 1e6:.2f} us/log (reference)")
    print(f"{'stage':32s} {'us/log':>8s} {'x orjson':>9s}")
    for name, secs in stages:
        print(f"{name:32s} {secs / n * 1e6:8.2f} {secs / ref:9.2f}")
    total = sum(s for _, s in stages)
    print(f"{'all stages':32s} {total / n * 1e6:8.2f} {total / ref:9.2f}")
    print(f"(cores: {os.cpu_count()}; one thread; best of 5)")


if __name__ == "__main__":
    main()
