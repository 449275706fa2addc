"""The EVM indexer against real anvil chains replaying the devnet history.

The devnet simulator writes its ground truth from its own bookkeeping; the lake must equal it
exactly. Then the things that go wrong in production: a crash mid-run, a reorg deeper than the
finality depth.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from pathlib import Path

import httpx
import pytest

from depinrev.config import Config, load_config
from depinrev.lake import DATASETS, Lake
from indexers import driver
from indexers.chunked import IndexReport
from indexers.dispatch import index_network
from tests.support.devnet import DEVNET_CONFIG
from tests.support.lake_read import read_dataset

pytestmark = pytest.mark.integration


def _lake_rows(lake: Lake) -> set[tuple]:
    out = set()
    for dataset in DATASETS:
        t = read_dataset(lake, dataset).to_pylist()
        for r in t:
            out.add(
                (
                    r["network"], r["chain_id"], dataset, r["event"], r["address"],
                    r["block_number"], r["block_timestamp"], r["transaction_hash"],
                    r["log_index"], r["token"], r.get("amount_str") or r.get("answer_str"),
                    r.get("take_amount_str"),
                )
            )
    return out


def _ledger_rows(path: Path) -> set[tuple]:
    out = set()
    for line in path.read_text().splitlines():
        r = json.loads(line)
        out.add(
            (
                r["network"], r["chain_id"], r["dataset"], r["event"], r["contract"],
                r["block_number"], r["block_timestamp"], r["transaction_hash"], r["log_index"],
                r["token"], r["amount"], r.get("take_amount"),
            )
        )
    return out


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.parquet"))
    }


def _stats(root: Path) -> dict[str, tuple[int, int, str]]:
    """Every lake file's (inode, mtime in ns, SHA-256): a file left untouched keeps all three."""
    out = {}
    for p in sorted(root.rglob("*.parquet")):
        st = p.stat()
        out[str(p.relative_to(root))] = (
            st.st_ino, st.st_mtime_ns, hashlib.sha256(p.read_bytes()).hexdigest()
        )
    return out


def _chunk_of(rel: str) -> tuple[str, int, int]:
    """(network, start, end) of a chunk file from its path relative to the lake root."""
    network, _, blocks = Path(rel).stem.split("__")
    start, end = blocks.split("_")
    return network, int(start), int(end)


def _grid(first: int, last: int, size: int) -> list[tuple[int, int]]:
    """The chunks of [first, last] on multiples of `size`, worked out here (the oracle)."""
    bounds = sorted({first, *range((first // size + 1) * size, last + 1, size)})
    return [(s, min(last, (s // size + 1) * size - 1)) for s in bounds]


def _index_all(config: Config, lake: Path) -> dict[str, IndexReport]:
    return {name: index_network(config, name, lake) for name in sorted(config.networks)}


@pytest.fixture(scope="module")
def indexed(shared_devnet, tmp_path_factory):
    config = load_config(DEVNET_CONFIG)
    lake = tmp_path_factory.mktemp("lake")
    _index_all(config, lake)
    return config, lake, shared_devnet


def test_lake_equals_the_simulators_ground_truth_exactly(indexed):
    config, lake, devnet = indexed
    ledger = _ledger_rows(Path(devnet.ledger_path))
    got = _lake_rows(Lake(lake))
    assert len(ledger) > 500
    missing, extra = ledger - got, got - ledger
    assert not missing, f"{len(missing)} ledger events not in the lake, e.g. {sorted(missing)[:3]}"
    assert not extra, f"{len(extra)} lake rows not in the ledger, e.g. {sorted(extra)[:3]}"
    # every dataset, network and quarter is represented
    assert {r[2] for r in got} >= {"lease_payments", "service_fees", "token_burns",
                                  "token_mints", "token_prices"}
    assert {r[0] for r in got} == set(config.networks)


def test_only_finalized_blocks_are_indexed_and_coverage_is_contiguous(indexed):
    config, lake, _ = indexed
    lk = Lake(lake)
    for name, net in config.networks.items():
        for chain_name in config.chains_of(name):
            chain = config.chains[chain_name]
            head = int(
                httpx.post(chain.rpc_url(), json={"jsonrpc": "2.0", "id": 1,
                                                  "method": "eth_blockNumber", "params": []}
                           ).json()["result"], 16
            )
            cp = lk.load_checkpoint(name, chain.chain_id)
            covered = list(cp.covered())
            start = min(s.start_block for s in net.sources if s.chain == chain_name)
            assert covered == [(start, head - chain.finality_depth)]


def test_every_devnet_chain_is_several_chunk_files(indexed):
    """What resume and reorg repair are tested on: chains of several chunks, one file per
    dataset per chunk, each chunk recorded in the checkpoint."""
    config, lake, _ = indexed
    lk = Lake(lake)
    for name in config.networks:
        for chain_name in config.chains_of(name):
            chain = config.chains[chain_name]
            cp = lk.load_checkpoint(name, chain.chain_id)
            (first, last), = cp.covered()
            want = _grid(first, last, chain.chunk_size)
            assert len(want) >= 4
            assert [(c.start, c.end) for c in cp.chunks] == want
            blocks = [(f.start, f.end) for f in lk.chunk_files("blocks", name, chain.chain_id)]
            assert blocks == want


def test_rerun_skips_done_chunks_and_overwrite_gives_identical_bytes(indexed):
    config, lake, _ = indexed
    before = _hashes(lake)
    stats = _stats(lake)
    report = index_network(config, "akash-devnet", lake)
    assert all(c.chunks_indexed == 0 and c.chunks_skipped > 0 for c in report.chains)
    # every chunk of the chain is skipped, and no file is so much as rewritten
    for c in report.chains:
        chain = config.chains[c.chain]
        assert c.chunks_skipped == len(_grid(1, c.final, chain.chunk_size)) and not c.written
    assert _stats(lake) == stats
    index_network(config, "akash-devnet", lake, overwrite=True)
    assert _hashes(lake) == before


def test_chunks_admitted_one_at_a_time_by_rows_write_byte_identical_files(
    indexed, tmp_path, monkeypatch
):
    """A row budget smaller than any chunk runs the chunks one after another (never more in
    flight) and writes the same bytes as the default budget, which runs them four at once."""
    from indexers.evm import extract

    config, lake, _ = indexed
    reference = {k: v for k, v in _hashes(lake).items() if "akash-devnet" in k}
    assert reference
    monkeypatch.setattr(extract, "BYTES_PER_ROW_IN_FLIGHT", 2**20)  # 1 MiB -> 1 row
    tight = config.model_copy(update={"chains": {
        k: c.model_copy(update={"memory_budget_mib": 1}) for k, c in config.chains.items()
    }})
    lock, now, peak = threading.Lock(), [0], [0]
    original = extract.EvmSession.index_chunk

    def counted(self, start, end):
        assert self.rows_in_flight == 1
        with lock:
            now[0] += 1
            peak[0] = max(peak[0], now[0])
        try:
            time.sleep(0.01)
            return original(self, start, end)
        finally:
            with lock:
                now[0] -= 1

    monkeypatch.setattr(extract.EvmSession, "index_chunk", counted)
    report = index_network(tight, "akash-devnet", tmp_path / "lake")
    assert sum(c.chunks_indexed for c in report.chains) >= 4
    assert peak[0] == 1
    assert _hashes(tmp_path / "lake") == reference


CRASH_NETWORK, CRASH_CHUNK = "akash-devnet", 3  # the network's fourth chunk dies mid-write


def test_crash_mid_run_then_rerun_gives_byte_identical_files(indexed, tmp_path, monkeypatch):
    config, lake, _ = indexed
    reference = _hashes(lake)
    crashed = tmp_path / "lake"
    real = driver.write_chunk
    chain = config.chains[config.chains_of(CRASH_NETWORK)[0]]
    crash_at = _grid(1, 10**9, chain.chunk_size)[CRASH_CHUNK]

    def crashing(lk, network, chain_id, start, end, out, writer=None):
        if network == CRASH_NETWORK and start == crash_at[0]:
            # the chunks before it finish first (the pool runs several at once): wait until
            # the checkpoint records them, so the resume below has done chunks to skip
            deadline = time.monotonic() + 60
            while len(lk.load_checkpoint(network, chain_id).chunks) < CRASH_CHUNK:
                assert time.monotonic() < deadline, "earlier chunks never checkpointed"
                time.sleep(0.02)
            # die halfway through writing: a temp file is left behind, no rename happens
            part = lk.chunk_path("blocks", network, chain_id, start, end)
            part.parent.mkdir(parents=True, exist_ok=True)
            part.with_name(f".{part.name}.tmp-999").write_bytes(b"PAR1 half a file")
            raise KeyboardInterrupt("simulated crash")
        return real(lk, network, chain_id, start, end, out, writer)

    monkeypatch.setattr(driver, "write_chunk", crashing)
    with pytest.raises(KeyboardInterrupt):
        _index_all(config, crashed)
    monkeypatch.setattr(driver, "write_chunk", real)

    # what the crash left: networks before the crashed one whole, the crashed one in part
    lk = Lake(crashed)
    done_before = {}
    for name in config.networks:
        (chain_name,) = config.chains_of(name)
        cp = lk.load_checkpoint(name, config.chains[chain_name].chain_id)
        done_before[name] = {(c.start, c.end) for c in cp.chunks}
    assert len(done_before[CRASH_NETWORK]) >= CRASH_CHUNK
    assert crash_at not in done_before[CRASH_NETWORK]
    untouched = {
        rel: st for rel, st in _stats(crashed).items()
        if _chunk_of(rel)[1:] in done_before[_chunk_of(rel)[0]]
    }
    assert untouched

    reports = _index_all(config, crashed)
    for name, report in reports.items():
        (c,) = report.chains
        every = set(_grid(1, c.final, config.chains[c.chain].chunk_size))
        # resume: exactly the checkpointed chunks are skipped, exactly the others indexed
        assert c.chunks_skipped == len(done_before[name])
        assert c.chunks_indexed == len(every) - len(done_before[name])
        assert set(c.written) == every - done_before[name]
    assert reports[CRASH_NETWORK].chains[0].chunks_skipped >= CRASH_CHUNK
    assert crash_at in reports[CRASH_NETWORK].chains[0].written
    # the files of chunks done before the crash were not rewritten: same inode, mtime, bytes
    after = _stats(crashed)
    assert {rel: after[rel] for rel in untouched} == untouched
    assert _hashes(crashed) == reference
    assert not list(crashed.rglob(".*.tmp-*"))  # the crashed writer's half file is gone


# --- reorgs: a devnet of their own, since they rewrite the chain ---------------------------
def _rpc(url: str, method: str, *params):
    r = httpx.post(url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)})
    body = r.json()
    assert "error" not in body, body
    return body["result"]


TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
ZERO_WORD = "0x" + "0" * 64


def _chain_logs(config: Config, network: str, chain_name: str, upto: int) -> set[tuple]:
    """Mints, burns and price rounds of the network up to `upto`, read plainly from the node:
    every log of its price feeds, and the Transfer logs of its tokens from or to 0x0."""
    url = config.chains[chain_name].rpc_url()
    srcs = [s for s in config.networks[network].sources if s.chain == chain_name]
    out = set()
    for s in srcs:
        logs = _rpc(url, "eth_getLogs",
                    {"fromBlock": "0x0", "toBlock": hex(upto), "address": s.address})
        for lg in logs:
            t = lg["topics"]
            if s.kind == "erc20" and not (t[0] == TRANSFER and ZERO_WORD in (t[1], t[2])):
                continue
            out.add((lg["transactionHash"], int(lg["logIndex"], 16)))
    return out


def test_reorg_deeper_than_finality_is_detected_and_repaired(reorg_devnet, tmp_path):
    config = load_config(DEVNET_CONFIG)
    network, chain_name = "render-devnet", "ethereum-devnet"
    chain = config.chains[chain_name]
    url = chain.rpc_url()
    lake = Lake(tmp_path / "lake")
    index_network(config, network, lake.root)
    head = int(_rpc(url, "eth_blockNumber"), 16)
    final = head - chain.finality_depth

    chunks = [(c.start, c.end) for c in lake.load_checkpoint(network, chain.chain_id).chunks]
    assert len(chunks) >= 4
    before = _stats(lake.root)

    # Replace the last blocks, reaching well below the finality depth, with empty ones: from
    # the newest burn, and from inside the second-newest chunk, so the walk back over the
    # checkpoint passes one chunk whose end hash changed before it finds one that matches.
    burns = read_dataset(lake, "token_burns").to_pylist()
    deepest = max(r["block_number"] for r in burns)
    depth = head - deepest + 1
    assert depth > chain.finality_depth
    first_reorged = min(deepest, chunks[-2][1] - 5)
    depth = head - first_reorged + 1
    _rpc(url, "anvil_reorg", depth, [])
    assert int(_rpc(url, "eth_blockNumber"), 16) == head

    report = index_network(config, network, lake.root)
    reorgs = report.chains[0].reorgs
    assert len(reorgs) == 1 and reorgs[0].stored_hash != reorgs[0].chain_hash
    assert lake.load_checkpoint(network, chain.chain_id).reorgs == reorgs
    # re-indexed from the chunk holding the first replaced block, and only from there
    redo_from = (first_reorged // chain.chunk_size) * chain.chunk_size
    assert redo_from == chunks[-2][0]
    assert reorgs[0].reindexed_from == redo_from
    assert report.chains[0].chunks_skipped == len(chunks) - 2
    assert sorted(report.chains[0].written) == chunks[-2:]
    after = _stats(lake.root)
    older = {rel: st for rel, st in before.items() if _chunk_of(rel)[1] < redo_from}
    newer = {rel: st for rel, st in before.items() if _chunk_of(rel)[1] >= redo_from}
    assert older and newer
    # older chunks: the very same files (inode, mtime, bytes); newer: every file rewritten,
    # the blocks files to the chain's new hashes
    assert {rel: after[rel] for rel in older} == older
    for rel, (ino, mtime, sha) in newer.items():
        assert (after[rel][0], after[rel][1]) != (ino, mtime), f"{rel} was not rewritten"
        if rel.startswith("blocks/"):
            assert after[rel][2] != sha, f"{rel} still holds the replaced blocks"
    # and the repaired lake is, file for file, what indexing the reorged chain afresh gives
    fresh = tmp_path / "fresh"
    index_network(config, network, fresh)
    assert _hashes(lake.root) == _hashes(fresh)
    # the repaired lake says exactly what the chain now says
    on_chain = _chain_logs(config, network, chain_name, final)
    rows = set()
    for dataset in ("token_burns", "token_mints", "token_prices"):
        rows |= {(r["transaction_hash"], r["log_index"])
                 for r in read_dataset(lake, dataset, network).to_pylist()}
    assert rows == on_chain
    assert not any(r["block_number"] == deepest
                   for r in read_dataset(lake, "token_burns", network).to_pylist())
    # boundary hashes in the lake match the chain again
    for blk in read_dataset(lake, "blocks", network).to_pylist():
        if blk["role"] == "boundary":
            got = _rpc(url, "eth_getBlockByNumber", hex(blk["block_number"]), False)["hash"]
            assert got == blk["block_hash"]



# --- parallel writers: what parallel Dagster runs of one network do ------------------------
def _index_one(config_path: str, network: str, lake: str) -> None:
    index_network(load_config(config_path), network, lake)


def test_parallel_writer_processes_leave_the_lake_whole(shared_devnet, tmp_path):
    import multiprocessing

    import yaml

    doc = yaml.safe_load(DEVNET_CONFIG.read_text())
    for chain in doc["chains"].values():
        chain["chunk_size"] = 50  # many chunk files and checkpoint updates to race over
    cfg = tmp_path / "networks.yaml"
    cfg.write_text(yaml.safe_dump(doc))
    config = load_config(cfg)
    reference, shared = tmp_path / "reference", tmp_path / "shared"
    index_network(config, "render-devnet", reference)

    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_index_one, args=(str(cfg), "render-devnet", str(shared)))
             for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=300)
    assert [p.exitcode for p in procs] == [0, 0, 0]
    assert _hashes(shared) == _hashes(reference)
    chain_id = config.chains["ethereum-devnet"].chain_id
    got = Lake(shared).load_checkpoint("render-devnet", chain_id)
    want = Lake(reference).load_checkpoint("render-devnet", chain_id)
    assert got.chunks == want.chunks and len(list(got.covered())) == 1
    assert not list(shared.rglob(".*.tmp-*"))  # no temporary file left behind
