"""The Substrate reader against a Subtensor-shaped node serving a generated chain.

The chain (tests/support/subtensor_node.py) has a runtime upgrade at block 160 (spec 256, whose
StakeAdded has no fee field, then the real spec 393), registrations, fees with tips, stake swap
fees, a subnet registration and a failed extrinsic; the lake must equal the generator's ledger.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from depinrev.config import ConfigError, load_config
from depinrev.lake import Lake
from indexers.chunked import ChainMismatch
from indexers.dispatch import chain_clock, index_network
from tests.support.jsonrpc_server import JsonRpcServer
from tests.support.lake_read import read_dataset
from tests.support.paths import REPO
from tests.support.subtensor_node import (
    CHUNK,
    GENESIS,
    HEAD,
    OLD_SPEC,
    SPEC,
    SubtensorChain,
    chain_time,
    make_chain,
    spec393_metadata,
    write_config,
)

MAINNET = REPO / "config" / "networks.mainnet.yaml"
ENV = "DEPINREV_TEST_SUBTENSOR"


@pytest.fixture(scope="module")
def metadata() -> bytes:
    return spec393_metadata()


@pytest.fixture(scope="module")
def generated(metadata) -> SubtensorChain:
    return make_chain(metadata)  # generated once: ~1 s of encoding


@pytest.fixture()
def node(generated, monkeypatch) -> Iterator[tuple[SubtensorChain, JsonRpcServer]]:
    generated.metadata_calls.clear()
    generated.pruned_below = 0
    with JsonRpcServer(generated) as server:
        monkeypatch.setenv(ENV, server.url)
        yield generated, server


def _lake_rows(lake: Path) -> list[tuple]:
    rows = read_dataset(Lake(lake), "tao_events", "bittensor").to_pylist()
    return sorted(
        (r["block_number"], r["log_index"], r["transaction_index"], r["event"], r["amount_str"],
         r["tip_str"], r["netuid"], r["transaction_hash"], r["spec_version"], r["token"],
         r["min_lock_str"])
        for r in rows
    )


def test_lake_equals_the_generators_ledger(node, tmp_path: Path):
    chain, server = node
    config = load_config(write_config(tmp_path / "n.yaml", MAINNET, ENV, tmp_path / "cache"))
    report = index_network(config, "bittensor", tmp_path / "lake")

    want = sorted(
        (r.block, r.event_index, r.extrinsic_index, r.event, str(r.amount),
         None if r.tip is None else str(r.tip), r.netuid, r.transaction_hash, r.spec_version,
         r.token, None if r.min_lock is None else str(r.min_lock))
        for r in chain.ledger
    )
    assert _lake_rows(tmp_path / "lake") == want
    # the schedule's own figures, by hand: 16 fees, one per extrinsic (the failed one too), three
    # registration burns, one subnet lock, one stake fee (the spec-256 stake has none), one
    # unstake fee in netuid 3's alpha, one hotkey swap cost
    kinds = [w[3] for w in want]
    assert kinds.count("transaction_fee") == 16
    assert [(w[0], w[4], w[6], w[9]) for w in want if w[3] == "unstake_fee"] == [
        (220, "2000003", 3, "alpha")]
    assert {w[9] for w in want if w[3] != "unstake_fee"} == {"tao"}
    assert kinds.count("registration_burn") == 3
    assert kinds.count("network_lock") == kinds.count("stake_fee") == 1
    # the lock's NetworkMinLockCost is block 249's state (40 TAO, set at 240), not the 55 TAO
    # set by its own block 250 nor the runtime's default
    assert [(w[0], w[4], w[10]) for w in want if w[3] == "network_lock"] == [
        (250, str(100 * 10**9), str(40 * 10**9))]
    assert all(w[10] is None for w in want if w[3] != "network_lock")
    assert [w[4] for w in want if w[3] == "key_swap_cost"] == [str(10**9)]
    burns = sorted(int(w[4]) for w in want if w[3] == "registration_burn")
    assert burns == [1_500_000_000, 2_000_000_000, 2_000_000_001]
    assert {w[8] for w in want if w[0] < 160} == {OLD_SPEC}

    # every block 1..HEAD read, chunked on the grid; metadata fetched once per runtime
    (rep,) = report.chains
    assert rep.range == (1, HEAD)
    assert rep.chunks_indexed == len(range(0, HEAD + 1, CHUNK))
    assert chain.metadata_calls == {OLD_SPEC: 1, SPEC: 1}
    assert sorted(p.name for p in (tmp_path / "cache").rglob("*.scale")) == [
        f"spec{OLD_SPEC}.metadata-v15.scale", f"spec{SPEC}.metadata-v15.scale"]
    # spec versions read at chunk ends and by bisection, not at every block
    assert server.calls["state_getRuntimeVersion"] < 40
    # System.Events of every block, and the one subnet lock's NetworkMinLockCost
    assert server.calls["state_getStorage"] == HEAD + 1

    blocks = read_dataset(Lake(tmp_path / "lake"), "blocks", "bittensor").to_pylist()
    assert all(b["block_timestamp"] == chain_time(b["block_number"]) for b in blocks)


def test_a_second_run_reads_metadata_from_the_cache(node, tmp_path: Path):
    chain, _ = node
    config = load_config(write_config(tmp_path / "n.yaml", MAINNET, ENV, tmp_path / "cache"))
    index_network(config, "bittensor", tmp_path / "lake1", to_block=CHUNK - 1)
    index_network(config, "bittensor", tmp_path / "lake2", to_block=CHUNK - 1)
    assert chain.metadata_calls == {OLD_SPEC: 1}


def test_a_pruned_range_is_refused_naming_an_archive_node(node, tmp_path: Path):
    chain, _ = node
    chain.pruned_below = 100
    config = load_config(write_config(tmp_path / "n.yaml", MAINNET, ENV, tmp_path / "c"))
    with pytest.raises(ConfigError, match=r"block 1 is asked for.*State already discarded"
                                          r".*archive"):
        index_network(config, "bittensor", tmp_path / "lake")
    # from block 100 on the node has the state
    report = index_network(config, "bittensor", tmp_path / "lake", from_block=100, to_block=149)
    assert report.chains[0].chunks_indexed == 1


def test_another_chain_is_refused_by_its_genesis_hash(node, tmp_path: Path):
    path = write_config(tmp_path / "n.yaml", MAINNET, ENV, tmp_path / "cache")
    path.write_text(path.read_text().replace(GENESIS, "0x" + "ab" * 32))
    assert GENESIS not in path.read_text()
    config = load_config(path)
    with pytest.raises(ChainMismatch) as err:
        index_network(config, "bittensor", tmp_path / "lake")
    # both hashes named: the node's and the configured one
    assert re.search(rf"serves the chain with genesis hash {GENESIS}, but the configuration "
                     rf"says 0x(ab){{32}}; refusing to index", str(err.value)), str(err.value)
    assert not (tmp_path / "lake").exists() or not list((tmp_path / "lake").rglob("*.parquet"))


def test_depinrev_index_bittensor_records_an_unconfirmed_genesis_hash_as_confirmed(
    node, tmp_path: Path
):
    """`depinrev index --network bittensor` against a node whose genesis is the configured
    one, marked unconfirmed: the run indexes and its record says the hash was confirmed."""
    path = write_config(tmp_path / "n.yaml", MAINNET, ENV, tmp_path / "cache")
    path.write_text(path.read_text().replace("genesis_hash_unconfirmed: false",
                                             "genesis_hash_unconfirmed: true"))
    assert load_config(path).chains["bittensor"].genesis_hash_unconfirmed is True
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "depinrev"), "index", "--network", "bittensor",
         "--to-block", str(CHUNK - 1), "--config", str(path), "--lake", str(tmp_path / "lake")],
        env={**os.environ, "COLUMNS": "300"}, capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = " ".join(proc.stdout.split())
    assert (f"chains.bittensor: genesis hash {GENESIS} (marked unconfirmed in the "
            "configuration) confirmed by http://127.0.0.1:") in out, out
    cp = Lake(tmp_path / "lake").load_checkpoint("bittensor", 900002)
    assert [(c.start, c.end) for c in cp.chunks] == [(1, CHUNK - 1)]


def test_chain_clock_gives_block_times_from_the_aura_slot(node, tmp_path: Path):
    config = load_config(write_config(tmp_path / "n.yaml", MAINNET, ENV, tmp_path / "cache"))
    with chain_clock(config, "bittensor") as (final, clock):
        assert final == HEAD
        assert clock.timestamp(118) == chain_time(118)
        q2 = chain_time(118)  # 2025-04-01T00:00:00Z
        assert clock.first_at_or_after(q2, 1, HEAD) == 118


def test_batches_of_any_size_give_the_same_lake(node, tmp_path: Path):
    """Batches of 7 blocks (not dividing the 50-block chunks) write what batches of 100 do."""
    chain, _ = node
    path = write_config(tmp_path / "n.yaml", MAINNET, ENV, tmp_path / "cache")
    index_network(load_config(path), "bittensor", tmp_path / "lake100", to_block=149)
    path.write_text(path.read_text().replace("blocks_per_request: 100", "blocks_per_request: 7"))
    assert "blocks_per_request: 7" in path.read_text()
    index_network(load_config(path), "bittensor", tmp_path / "lake7", to_block=149)
    assert _lake_rows(tmp_path / "lake7") == _lake_rows(tmp_path / "lake100")
    assert len(_lake_rows(tmp_path / "lake7")) == len([r for r in chain.ledger if r.block < 150])
