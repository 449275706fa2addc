"""Solana backfills seek, then page: the requests to index a range follow the signatures
inside it, not the history after it (docs/readers.md, "Solana: seek, then page").

The replay cluster (tests/support/solana_cluster.py) serves getSignaturesForAddress with
`before` / `until` as any ledger signature, as Agave does. A busy mint has one signature every
`EVERY` slots from slot 0 to the head; the range indexed is slots [RANGE_LO, RANGE_HI]. Its
cost is the same whether the chain goes on for a short or a long time after it, and equals
the pages of its own signatures plus the seek (counts written here from the construction).
"""

from __future__ import annotations

import math
from typing import Any

import pytest

from depinrev.config import Config
from depinrev.lake import Lake
from indexers.dispatch import index_network
from tests.support.jsonrpc_server import JsonRpcServer
from tests.support.lake_read import read_dataset
from tests.support.solana_cluster import SolanaCluster

MINT = "rndrizKT3MK1iimdxRdWabcF7Zg7AR5T4nud4EkHBof"
ENV = "DEPINREV_TEST_SOLANA_SEEK"
EVERY = 50  # a mint signature every 50 slots
CHUNK = 10_000
RANGE_LO, RANGE_HI = 20_000, 29_999  # one chunk: 200 of the mint's signatures
PAGE = 50
SKIPPED = {RANGE_LO - 1, RANGE_HI + 1, RANGE_HI + 2}  # the blocks the seek would use first


def _cluster(head: int, *, burn_slot: int = 25_000) -> SolanaCluster:
    cluster = SolanaCluster(head=head, decimals={MINT: 8})
    cluster.skipped = set(SKIPPED)
    for slot in range(head - head % EVERY, -1, -EVERY):  # newest first, as a node lists
        sig = f"Sig{slot:09d}"
        entry = {"signature": sig, "slot": slot, "err": None, "memo": None,
                 "blockTime": cluster.block_time(slot), "confirmationStatus": "finalized"}
        cluster.add(MINT, entry, _burn_tx(sig, slot) if slot == burn_slot else None)
    return cluster


def _burn_tx(sig: str, slot: int) -> dict[str, Any]:
    owner, account = "G7Hf2J55BAkHtbbXPh94UTGRCQioKPpnb5oKQMBteXo", \
        "BMnsyyG6S6zkaE3K5X3nbRMKdvBS5dT6HhcMozBVL7Ly"
    balance = {"accountIndex": 1, "mint": MINT, "owner": owner,
               "programId": "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA",
               "uiTokenAmount": {"amount": "0", "decimals": 8}}
    return {
        "blockTime": 1_600_000_000 + slot // 3, "slot": slot,
        "meta": {"err": None, "innerInstructions": [], "preTokenBalances": [balance],
                 "postTokenBalances": [balance]},
        "transaction": {
            "message": {
                "accountKeys": [{"pubkey": owner, "signer": True, "writable": True},
                                {"pubkey": account, "signer": False, "writable": True}],
                "instructions": [{
                    "parsed": {"info": {"account": account, "authority": owner, "mint": MINT,
                                        "tokenAmount": {"amount": "777", "decimals": 8}},
                               "type": "burnChecked"},
                    "program": "spl-token",
                    "programId": "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"}],
            },
            "signatures": [sig],
        },
    }


def _config() -> Config:
    return Config.model_validate({
        "chains": {"solana": {"kind": "solana", "chain_id": 101, "rpc_url_env": ENV,
                              "chunk_size": CHUNK, "signatures_per_request": PAGE}},
        "tokens": {"render": {"symbol": "RENDER", "decimals": 8, "chain": "solana",
                              "mint": MINT}},
        "networks": {"render": {"display_name": "Render", "devnet": False, "sources": [
            {"name": "burns", "kind": "spl_burns", "chain": "solana", "address": MINT,
             "start_block": 0, "token": "render"}]}},
    })


def _index(head: int, tmp_path, monkeypatch: pytest.MonkeyPatch) -> tuple[dict[str, int], Lake]:
    cluster = _cluster(head)
    lake = Lake(tmp_path / f"lake-{head}")
    with JsonRpcServer(cluster) as server:
        monkeypatch.setenv(ENV, server.url)
        index_network(_config(), "render", lake, from_block=RANGE_LO, to_block=RANGE_HI)
        return dict(server.calls), lake


def test_a_ranges_cost_follows_its_signatures_not_the_history_after_it(tmp_path, monkeypatch):
    short, lake_short = _index(40_000, tmp_path, monkeypatch)
    long, lake_long = _index(400_000, tmp_path, monkeypatch)  # ten times the history after
    in_range = (RANGE_HI - RANGE_LO + 1) // EVERY  # 200 signatures
    # the listing: full pages of the range's signatures, then the short last page (until)
    pages = math.floor(in_range / PAGE) + 1
    assert short["getSignaturesForAddress"] == long["getSignaturesForAddress"] == pages
    assert short["getTransaction"] == long["getTransaction"] == in_range
    assert short == long
    burns = [(r["block_number"], r["amount_str"])
             for r in read_dataset(lake_long, "token_burns", "render").to_pylist()]
    assert burns == [(25_000, "777")]
    assert read_dataset(lake_short, "token_burns", "render").to_pylist() == \
        read_dataset(lake_long, "token_burns", "render").to_pylist()


def test_the_seek_bounds_are_the_blocks_around_the_range_past_skipped_slots(monkeypatch):
    """`before` is the first signature of the first produced block after the range (slot
    RANGE_HI + 3: the two after it are skipped), `until` the last of the last produced block
    before it (RANGE_LO - 2); with no block after the range (it reaches the head), no
    `before`; at the node's first available slot, no `until`."""
    from chains.solana import seek_bounds
    from chains.transport import JsonRpcClient

    cluster = _cluster(40_000)
    with JsonRpcServer(cluster) as server:
        client = JsonRpcClient(server.url)
        try:
            before, until = seek_bounds(client, RANGE_LO, RANGE_HI)
            assert before == SolanaCluster.vote_signature(RANGE_HI + 3)
            assert until == SolanaCluster.vote_signature(RANGE_LO - 2, last=True)
            assert seek_bounds(client, RANGE_LO, 40_000)[0] is None
            cluster.first_available = RANGE_LO
            assert seek_bounds(client, RANGE_LO, RANGE_HI)[1] is None
        finally:
            client.close()


def test_doctor_plans_the_seek_within_a_quarter_of_the_runs_requests(tmp_path, monkeypatch):
    """The doctor's estimate for the whole history (slots 0-40,000, 800 signatures) is within
    25% of the requests the run then makes; for 2020Q3 (slot 0 is 2020-09-13, inside it), a
    node whose first available slot is 15,000 is refused: the quarter begins before that."""
    from depinrev.quarters import Quarter
    from indexers.doctor import DoctorRefusal, doctor

    cluster = _cluster(40_000)
    with JsonRpcServer(cluster) as server:
        monkeypatch.setenv(ENV, server.url)
        (plan,) = doctor(_config(), "render")
        assert plan.strategy.startswith("seek, then page")
        server.calls.clear()
        index_network(_config(), "render", Lake(tmp_path / "lake"))
        made = sum(n for m, n in server.calls.items() if m != "getGenesisHash")
        assert abs(plan.requests - made) <= 0.25 * made
        cluster.first_available = 15_000
        quarter = Quarter.of_timestamp(1_600_000_000)  # 2020Q3: slot 0 is inside it
        with pytest.raises(DoctorRefusal, match="keeps blocks from 15000 only"):
            doctor(_config(), "render", quarter)
