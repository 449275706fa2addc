"""A synthetic lake of many revenue events, for the warehouse scaling run of the bench.

Mining 10M events on anvil would take hours, so the rows are written directly with
`Lake.write_chunk` in the lake's exact schemas: the revenue events of each devnet network
(lease payments, service fees, token burns), daily price updates, the blocks dataset (boundary
headers and a header for every block holding a row) and checkpoints, over a synthetic 2025
chain (one block every 12 s). Hashes are synthetic, so the audit's chain checks fail on it:
the run measures the work, not the figures.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from depinrev.lake import ALL_SCHEMAS, BLOCKS_SCHEMA, Checkpoint, ChunkRecord, Lake
from indexers.evm.decode import datasets_for, uint256_columns

YEAR_START = 1_735_689_600
BLOCK_TIME = 12
N_BLOCKS = 365 * 86_400 // BLOCK_TIME  # 2,628,000
CHUNK = 100_000  # blocks per file

# (network) -> (dataset, event name, source name): the revenue event each network emits.
REVENUE = {
    "akash-devnet": ("lease_payments", "payment_withdrawn", "escrow-akt"),
    "render-devnet": ("token_burns", "burn", "rndr-token"),
    "aethir-devnet": ("service_fees", "deposit", "service-fees"),
    "ionet-devnet": ("token_burns", "burn", "io-token"),
}


def _hashes(prefix: str, numbers: np.ndarray) -> pa.Array:
    """Deterministic 0x-hex 32-byte hashes (vectorised: a per-prefix salt + the number)."""
    salt = hashlib.sha256(prefix.encode()).hexdigest()[:48]
    return pa.array([f"0x{salt}{n:016x}" for n in numbers.tolist()], pa.string())


def _address(i: np.ndarray) -> pa.Array:
    return pa.array([f"0x{n:040x}" for n in i.tolist()], pa.string())


def _amounts(rng: np.random.Generator, n: int) -> tuple[pa.Array, pa.Array]:
    w = np.zeros((n, 32), dtype=np.uint8)
    vals = rng.integers(10**6, 10**18, size=n, dtype=np.uint64)
    w[:, 24:] = vals.astype(">u8").view(np.uint8).reshape(n, 8)
    return uint256_columns(w)


def _table(dataset: str, common: dict[str, Any], extra: dict[str, pa.Array], n: int) -> pa.Table:
    schema = ALL_SCHEMAS[dataset]
    cols = {**common, **extra}
    arrays = [cols[f.name] if f.name in cols else pa.nulls(n, f.type) for f in schema]
    return pa.Table.from_arrays(arrays, schema=schema)


def write_synthetic_lake(cfg: Any, root: Path, events: int, seed: int = 7) -> int:
    import shutil

    shutil.rmtree(root, ignore_errors=True)
    lake = Lake(root)
    rng = np.random.default_rng(seed)
    per_network = events // len(REVENUE)
    n_chunks = -(-N_BLOCKS // CHUNK)
    written = 0
    for network, (dataset, event, source_name) in REVENUE.items():
        net = cfg.network(network)
        src = next(s for s in net.sources if s.name == source_name)
        chain_id = cfg.chain(src.chain).chain_id
        sources = [s for s in net.sources if s.chain == src.chain]
        datasets = datasets_for(sources)
        feeds = [s for s in sources if s.kind.value == "price_feed"]
        cp = Checkpoint(network=network, chain_id=chain_id)
        per_chunk = per_network // n_chunks
        for c in range(n_chunks):
            start, end = c * CHUNK + 1, min(N_BLOCKS, (c + 1) * CHUNK)
            n = per_chunk + (per_network - per_chunk * n_chunks if c == n_chunks - 1 else 0)
            blocks = np.sort(rng.integers(start, end + 1, size=n))
            log_index = np.zeros(n, dtype=np.int32)
            if n:
                same = np.concatenate([[False], blocks[1:] == blocks[:-1]])
                run_start = np.maximum.accumulate(np.where(~same, np.arange(n), 0))
                log_index = (np.arange(n) - run_start).astype(np.int32)
            common = {
                "chain_id": pa.array(np.full(n, chain_id, dtype=np.int64)),
                "network": pa.array([network] * n, pa.string()),
                "source": pa.array([src.name] * n, pa.string()),
                "token": pa.array([src.token] * n, pa.string()),
                "address": pa.array([src.address] * n, pa.string()),
                "event": pa.array([event] * n, pa.string()),
                "block_number": pa.array(blocks.astype(np.int64)),
                "block_hash": _hashes(f"b{chain_id}", blocks),
                "block_timestamp": pa.array(YEAR_START + BLOCK_TIME * (blocks - 1)),
                "transaction_hash": _hashes(f"t{chain_id}{network}", np.arange(n) + written),
                "transaction_index": pa.array(log_index),
                "log_index": pa.array(log_index),
            }
            amount, amount_str = _amounts(rng, n)
            extra: dict[str, pa.Array] = {"amount": amount, "amount_str": amount_str}
            if dataset == "lease_payments":
                extra["lease_id"] = pa.array(rng.integers(1, 10**6, size=n, dtype=np.uint64))
                extra["provider"] = _address(rng.integers(1, 50, size=n))
                take, take_str = _amounts(rng, n)
                extra["take_amount"], extra["take_amount_str"] = take, take_str
            elif dataset == "service_fees":
                extra["developer"] = _address(rng.integers(1, 50, size=n))
                extra["nonce"] = pa.array(np.arange(n, dtype=np.uint64) + written)
            else:
                extra["from_address"] = _address(rng.integers(1, 50, size=n))
                extra["to_address"] = pa.array(["0x" + "0" * 40] * n, pa.string())
            tables = {d: ALL_SCHEMAS[d].empty_table() for d in datasets}
            tables[dataset] = _table(dataset, common, extra, n)
            # Daily price updates of each feed (two a day inside each chunk's days).
            if feeds:
                days = np.arange(start, end + 1, 86_400 // BLOCK_TIME // 2, dtype=np.int64)
                parts = []
                for f in feeds:
                    m = len(days)
                    pc_common = {
                        **{k: v for k, v in common.items() if k not in ("block_number",)},
                        "chain_id": pa.array(np.full(m, chain_id, dtype=np.int64)),
                        "network": pa.array([network] * m, pa.string()),
                        "source": pa.array([f.name] * m, pa.string()),
                        "token": pa.array([f.token] * m, pa.string()),
                        "address": pa.array([f.address] * m, pa.string()),
                        "event": pa.array(["answer_updated"] * m, pa.string()),
                        "block_number": pa.array(days),
                        "block_hash": _hashes(f"b{chain_id}", days),
                        "block_timestamp": pa.array(YEAR_START + BLOCK_TIME * (days - 1)),
                        "transaction_hash": _hashes(f"p{chain_id}{f.name}", days),
                        "transaction_index": pa.array(np.full(m, 9999, dtype=np.int32)),
                        "log_index": pa.array(np.full(m, 9999, dtype=np.int32)),
                    }
                    ans = np.zeros((m, 32), dtype=np.uint8)
                    ans[:, 24:] = (
                        np.full(m, 150_000_000, dtype=np.uint64)
                        .astype(">u8")
                        .view(np.uint8)
                        .reshape(m, 8)
                    )
                    answer, answer_str = uint256_columns(ans)
                    rid, rid_str = uint256_columns(ans)
                    parts.append(
                        _table(
                            "token_prices",
                            pc_common,
                            {
                                "answer": answer,
                                "answer_str": answer_str,
                                "round_id": rid,
                                "round_id_str": rid_str,
                                "updated_at": pa.array(YEAR_START + BLOCK_TIME * (days - 1)),
                            },
                            m,
                        )
                    )
                prices = pa.concat_tables(parts)
                tables["token_prices"] = prices.sort_by(
                    [("block_number", "ascending"), ("log_index", "ascending")]
                )
            for d, t in tables.items():
                lake.write_chunk(d, network, chain_id, start, end, t)
            held = [blocks, np.array([start, end])]
            if "token_prices" in tables:
                held.append(tables["token_prices"]["block_number"].to_numpy())
            with_rows = np.unique(np.concatenate(held).astype(np.int64))
            roles = np.where((with_rows == start) | (with_rows == end), "boundary", "log")
            hashes = _hashes(f"b{chain_id}", with_rows)
            parents = _hashes(f"b{chain_id}", with_rows - 1)
            bt = pa.Table.from_arrays(
                [
                    pa.array(np.full(len(with_rows), chain_id, dtype=np.int64)),
                    pa.array([network] * len(with_rows), pa.string()),
                    pa.array(with_rows),
                    hashes,
                    parents,
                    pa.array(YEAR_START + BLOCK_TIME * (with_rows - 1)),
                    pa.array(roles.tolist(), pa.string()),
                ],
                schema=BLOCKS_SCHEMA,
            )
            lake.write_chunk("blocks", network, chain_id, start, end, bt)
            rows = {d: t.num_rows for d, t in tables.items()}
            cp.put(
                ChunkRecord(
                    start,
                    end,
                    hashes[0].as_py(),
                    hashes[len(with_rows) - 1].as_py(),
                    rows,
                )
            )
            written += n
        lake.save_checkpoint(cp)
    return written
