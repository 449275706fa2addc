"""The Solana reader on real mainnet responses and on constructed burns, over JSON-RPC on
127.0.0.1 (see shared/fixtures/SOURCES.md for the real files).

Expected values are read off the fixtures: the one real burn is an inner spl-token `burn` in
slot 146099091 (outer instruction 2, inner position 0, so ordinal 2*1000+0+1 = 2001) of
47444666 raw units of mint E942z7..., signed by a delegate; the trimmed account keys cannot
name the burned account's owner, so the burner recorded is the signing authority. The
1000-signature page holds 31 failed transactions; the other real transactions burn nothing.
"""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from depinrev.config import Config, ConfigError
from depinrev.lake import DATASETS, Lake
from indexers.chunked import ChainMismatch
from indexers.dispatch import index_network
from tests.support.jsonrpc_server import JsonRpcServer
from tests.support.lake_read import read_dataset
from tests.support.paths import shared_fixtures
from tests.support.solana_cluster import SolanaCluster, fake_hash

BURN_MINT = "E942z7FnS7GpswTvF5Vggvo7cMTbvZojjLbFgsrDVff1"
BURN_SIG = (
    "2x1QBpfcEQetAx7zETLEmvVvjue9311s9AWroEvMAboFkqaHZVp1sUpTFXroc5Q6tkPmZK5pYfmPFteoZPVRLF89"
)
RENDER = "rndrizKT3MK1iimdxRdWabcF7Zg7AR5T4nud4EkHBof"
IO = "BZLbGTNCSFfoth2GYDtwr7e4imWzpR5jqcUuGEwr646K"
BURN_WALLET = "rbrnm7nPhfhBxPSh8qhRFrhB5MLnJGMNoyNQPvSi7vq"
TOKEN = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
OTHER_MINT = "EPjFWdd5AufqSSqeM2qN1xzybapC8G4wEGGkZwyTDt1v"  # USDC
USER = "G7Hf2J55BAkHtbbXPh94UTGRCQioKPpnb5oKQMBteXo"
ENV = "DEPINREV_TEST_SOLANA_RPC"


def _load(name: str) -> dict[str, Any]:
    return json.loads((shared_fixtures() / "solana" / name).read_text())


def _config(sources: dict[str, list[dict[str, Any]]], tokens: dict[str, Any], **chain: Any):
    return Config.model_validate(
        {
            "chains": {
                "solana": {
                    "kind": "solana",
                    "chain_id": 101,
                    "rpc_url_env": ENV,
                    "genesis_hash": "5eykt4UsFv8P8NJdTREpY1vzqKqZKvdpKuc147dw2N9d",
                    "chunk_size": 50_000_000,
                    **chain,
                }
            },
            "tokens": tokens,
            "networks": {
                name: {"display_name": name, "devnet": False, "sources": srcs}
                for name, srcs in sources.items()
            },
        }
    )


def _rows(lake: Lake, network: str) -> list[dict[str, Any]]:
    t = read_dataset(lake, "token_burns", network)
    return t.to_pylist()


def _sig(sig: str, slot: int, err: Any = None, block_time: int = 1_700_000_000) -> dict:
    return {
        "blockTime": block_time,
        "confirmationStatus": "finalized",
        "err": err,
        "memo": None,
        "signature": sig,
        "slot": slot,
    }


# --- real data ------------------------------------------------------------------------------
@pytest.fixture
def real_cluster() -> SolanaCluster:
    page = _load("mainnet_getSignaturesForAddress_1000.json")["result"]
    burn = _load("mainnet_getTransaction_jsonParsed_slot146099091_inner_burn_trimmed.json")
    cluster = SolanaCluster(head=420_000_000, decimals={BURN_MINT: 6})
    for s in page:
        cluster.add(BURN_MINT, s)
    r = burn["result"]
    cluster.add(BURN_MINT, _sig(BURN_SIG, r["slot"], None, r["blockTime"]), r)
    for name in sorted((shared_fixtures() / "solana").glob("mainnet-*.json")):
        r = json.loads(name.read_text())["result"]
        sig = r["transaction"]["signatures"][0]
        cluster.add(BURN_MINT, _sig(sig, r["slot"], r["meta"]["err"], r["blockTime"]), r)
    block = _load("mainnet_getBlock_jsonParsed_parent147078734.json")["result"]
    slot = block["parentSlot"] + 1  # the capture names its parent; the block is the next slot
    cluster.blocks[slot] = {k: v for k, v in block.items() if k != "transactions"}
    for tx in block["transactions"]:
        full = {**tx, "slot": slot, "blockTime": block["blockTime"]}
        sig = tx["transaction"]["signatures"][0]
        cluster.add(BURN_MINT, _sig(sig, slot, tx["meta"]["err"], block["blockTime"]), full)
    return cluster


def test_real_mainnet_responses_give_exactly_the_one_burn(real_cluster, tmp_path, monkeypatch):
    cfg = _config(
        {
            "sample": [
                {
                    "name": "burns",
                    "kind": "spl_burns",
                    "chain": "solana",
                    "address": BURN_MINT,
                    "start_block": 83_000_000,
                    "token": "t",
                }
            ]
        },
        {"t": {"symbol": "T", "decimals": 6, "chain": "solana", "mint": BURN_MINT}},
    )
    page = _load("mainnet_getSignaturesForAddress_1000.json")["result"]
    failed = {s["signature"] for s in page if s["err"] is not None}
    assert len(failed) == 31
    with JsonRpcServer(real_cluster, rate_limit_first=2) as server:
        monkeypatch.setenv(ENV, server.url)
        report = index_network(cfg, "sample", tmp_path)
        calls = server.calls
        sig_calls = [p for m, p in server.log if m == "getSignaturesForAddress"]

    lake = Lake(tmp_path)
    rows = _rows(lake, "sample")
    assert len(rows) == 1
    row = rows[0]
    assert {
        k: row[k]
        for k in (
            "transaction_hash",
            "block_number",
            "block_timestamp",
            "log_index",
            "address",
            "from_address",
            "to_address",
            "amount_str",
            "event",
            "chain_id",
            "token",
        )
    } == {
        "transaction_hash": BURN_SIG,
        "block_number": 146099091,
        "block_timestamp": 1660570006,
        "log_index": 2001,
        "address": BURN_MINT,
        "from_address": "7oPa2PHQdZmjSPqvpZN7MQxnC7Dcf3uL4oLqknGLk2S3",
        "to_address": None,
        "amount_str": "47444666",
        "event": "burn",
        "chain_id": 101,
        "token": "t",
    }
    assert int(row["amount"]) == 47444666
    assert row["block_hash"] == fake_hash(146099091)
    # pagination: 1029 signatures are two pages, the second continued with `before`
    total = sum(len(v) for v in real_cluster.history.values())
    assert total == 1029
    assert len(sig_calls) == 2
    assert sig_calls[1][1]["before"] == real_cluster.history[BURN_MINT][999]["signature"]
    # failed transactions are skipped without fetching them; every other one is read
    assert not failed & set(real_cluster.fetched)
    assert len(real_cluster.fetched) == total - len(failed) == calls["getTransaction"]
    assert report.chains[0].ignored_shape == len(failed)
    assert report.chains[0].rpc["retries"] >= 2  # the two HTTP 429s were retried
    # coverage: two grid chunks of slots, each with its boundary headers in `blocks`
    cp = lake.load_checkpoint("sample", 101)
    assert list(cp.covered()) == [(83_000_000, 420_000_000)]
    blocks = read_dataset(lake, "blocks", "sample").to_pylist()
    assert {b["block_number"] for b in blocks if b["role"] == "log"} == {146099091}
    assert {b["block_number"] for b in blocks if b["role"] == "boundary"} == {
        83_000_000,
        99_999_999,
        100_000_000,
        149_999_999,
        150_000_000,
        199_999_999,
        200_000_000,
        249_999_999,
        250_000_000,
        299_999_999,
        300_000_000,
        349_999_999,
        350_000_000,
        399_999_999,
        400_000_000,
        420_000_000,
    }
    assert read_dataset(lake, "token_burns").schema.equals(DATASETS["token_burns"])

    # a second run finds every chunk complete and reads no transaction
    real_cluster.fetched.clear()
    with JsonRpcServer(real_cluster) as server:
        monkeypatch.setenv(ENV, server.url)
        again = index_network(cfg, "sample", tmp_path)
    assert again.chains[0].chunks_indexed == 0 and real_cluster.fetched == []


def test_burns_of_other_mints_in_real_transactions_are_ignored(real_cluster, tmp_path, monkeypatch):
    cfg = _config(
        {
            "io": [
                {
                    "name": "io",
                    "kind": "spl_burns",
                    "chain": "solana",
                    "address": IO,
                    "start_block": 83_000_000,
                    "token": "io",
                }
            ]
        },
        {"io": {"symbol": "IO", "decimals": 8, "chain": "solana", "mint": IO}},
    )
    real_cluster.decimals[IO] = 8
    real_cluster.history[IO] = real_cluster.history.pop(BURN_MINT)
    with JsonRpcServer(real_cluster) as server:
        monkeypatch.setenv(ENV, server.url)
        index_network(cfg, "io", tmp_path)
    assert _rows(Lake(tmp_path), "io") == []


# --- constructed data -----------------------------------------------------------------------
def _burn_ix(kind: str, mint: str, authority: str, amount: int, account: str) -> dict:
    info: dict[str, Any] = {"account": account, "authority": authority, "mint": mint}
    if kind == "burnChecked":
        info["tokenAmount"] = {"amount": str(amount), "decimals": 8, "uiAmountString": "x"}
    else:
        info["amount"] = str(amount)
    return {"parsed": {"info": info, "type": kind}, "program": "spl-token", "programId": TOKEN}


def _tx(
    sig: str,
    slot: int,
    outer: list[dict],
    inner: list[dict] | None = None,
    err: Any = None,
    balances: list[dict] | None = None,
    keys: list[str] | None = None,
):
    keys = keys or [USER]
    return {
        "blockTime": 1_700_000_000 + slot,
        "slot": slot,
        "meta": {
            "err": err,
            "status": {"Ok": None} if err is None else {"Err": err},
            "innerInstructions": inner or [],
            "preTokenBalances": balances or [],
            "postTokenBalances": balances or [],
            "loadedAddresses": {"readonly": [], "writable": []},
        },
        "transaction": {
            "message": {
                "accountKeys": [
                    {"pubkey": k, "signer": i == 0, "writable": True} for i, k in enumerate(keys)
                ],
                "instructions": outer,
                "recentBlockhash": fake_hash(slot - 5),
            },
            "signatures": [sig],
        },
        "version": 0,
    }


WALLET_ATA = "3KEmPDRc6WEvhomG8awhfv2k33HgeqfGJmE1dptFmzhR"
USER_ATA = "BMnsyyG6S6zkaE3K5X3nbRMKdvBS5dT6HhcMozBVL7Ly"
COMPUTE = {"accounts": [], "data": "3", "programId": "ComputeBudget111111111111111111111111111111"}


def _constructed() -> SolanaCluster:
    c = SolanaCluster(head=2_000_000, decimals={RENDER: 8, IO: 8})
    wallet_bal = [
        {
            "accountIndex": 1,
            "mint": RENDER,
            "owner": BURN_WALLET,
            "programId": TOKEN,
            "uiTokenAmount": {"amount": "0", "decimals": 8},
        }
    ]
    # 1. Render: the burn wallet burns inside a program's CPI (inner burnChecked)
    render_ok = _tx(
        "RenderBurnByWallet1",
        1_000_100,
        [
            COMPUTE,
            {
                "accounts": [],
                "data": "x",
                "programId": "BRNMoney111111111111111111111111111111111111",
            },
        ],
        inner=[
            {
                "index": 1,
                "instructions": [
                    _burn_ix("burnChecked", RENDER, BURN_WALLET, 95_000_000_000, WALLET_ATA)
                ],
            }
        ],
        balances=wallet_bal,
        keys=[BURN_WALLET, WALLET_ATA],
    )
    # 2. Render: a user burns their own RENDER: not the burn wallet's, not counted
    render_user = _tx(
        "RenderBurnByUser111", 1_000_200, [_burn_ix("burn", RENDER, USER, 5, USER_ATA)]
    )
    # 3. io.net: an outer plain burn, and a USDC burn in the same transaction (another mint)
    io_ok = _tx(
        "IoBurn1111111111111",
        1_500_000,
        [
            COMPUTE,
            _burn_ix("burn", OTHER_MINT, USER, 77, USER_ATA),
            _burn_ix("burn", IO, USER, 123_456_789, USER_ATA),
        ],
    )
    # 4. io.net: a failed transaction's burn never happened
    io_failed = _tx(
        "IoBurnFailed1111111",
        1_500_001,
        [_burn_ix("burn", IO, USER, 9, USER_ATA)],
        err={"InstructionError": [0, "InsufficientFunds"]},
    )
    for sig, tx, addrs in [
        ("RenderBurnByWallet1", render_ok, [RENDER, BURN_WALLET]),
        ("RenderBurnByUser111", render_user, [RENDER]),
        ("IoBurn1111111111111", io_ok, [IO, OTHER_MINT]),
        ("IoBurnFailed1111111", io_failed, [IO]),
    ]:
        for a in addrs:
            c.add(a, _sig(sig, tx["slot"], tx["meta"]["err"], tx["blockTime"]), tx)
    c.skipped = {1_000_000, 1_000_001, 1_999_999}  # boundary slots with no block
    return c


def _mainnet_like() -> Config:
    return _config(
        {
            "render": [
                {
                    "name": "render-burns",
                    "kind": "spl_burns",
                    "chain": "solana",
                    "address": RENDER,
                    "start_block": 1_000_000,
                    "token": "render",
                    "burn_owners": [BURN_WALLET],
                }
            ],
            "ionet": [
                {
                    "name": "io-burns",
                    "kind": "spl_burns",
                    "chain": "solana",
                    "address": IO,
                    "start_block": 1_000_000,
                    "token": "io",
                }
            ],
        },
        {
            "render": {"symbol": "RENDER", "decimals": 8, "chain": "solana", "mint": RENDER},
            "io": {"symbol": "IO", "decimals": 8, "chain": "solana", "mint": IO},
        },
        chunk_size=500_000,
    )


def test_constructed_render_and_io_burns(tmp_path, monkeypatch):
    cluster = _constructed()
    with JsonRpcServer(cluster) as server:
        monkeypatch.setenv(ENV, server.url)
        index_network(_mainnet_like(), "render", tmp_path)
        index_network(_mainnet_like(), "ionet", tmp_path)
    lake = Lake(tmp_path)
    got = {
        net: [
            (
                r["transaction_hash"],
                r["log_index"],
                r["address"],
                r["from_address"],
                r["amount_str"],
            )
            for r in _rows(lake, net)
        ]
        for net in ("render", "ionet")
    }
    assert got == {
        "render": [("RenderBurnByWallet1", 1001, RENDER, BURN_WALLET, "95000000000")],
        "ionet": [("IoBurn1111111111111", 2000, IO, USER, "123456789")],
    }
    assert "IoBurnFailed1111111" not in cluster.fetched
    # skipped boundary slots: the chunk's first and last produced blocks stand for it
    blocks = read_dataset(lake, "blocks", "render").to_pylist()
    bounds = sorted(b["block_number"] for b in blocks if b["role"] == "boundary")
    assert bounds == [1_000_002, 1_499_999, 1_500_000, 1_999_998, 2_000_000]
    cp = lake.load_checkpoint("render", 101)
    assert [(c.start, c.end) for c in cp.chunks] == [
        (1_000_000, 1_499_999),
        (1_500_000, 1_999_999),
        (2_000_000, 2_000_000),
    ]
    assert cp.chunks[0].start_hash == fake_hash(1_000_002)


def test_wrong_genesis_and_wrong_decimals_are_refused(tmp_path, monkeypatch):
    cluster = _constructed()
    cluster.genesis = "4uhcVJyU9pJkvQyS88uRDiswHXSCkY3zQawwpjk2NsNY"  # testnet
    with JsonRpcServer(cluster) as server:
        monkeypatch.setenv(ENV, server.url)
        with pytest.raises(ChainMismatch, match="genesis hash 4uhc"):
            index_network(_mainnet_like(), "ionet", tmp_path)
    cluster = _constructed()
    cluster.decimals[IO] = 6
    with JsonRpcServer(cluster) as server:
        monkeypatch.setenv(ENV, server.url)
        with pytest.raises(ConfigError, match=r"tokens\.io\.decimals is 8.*has 6 decimals"):
            index_network(_mainnet_like(), "ionet", tmp_path)


def test_burn_in_failed_transaction_is_not_a_burn():
    from indexers.solana.burns import burns_in

    tx = _tx("x", 5, [_burn_ix("burn", IO, USER, 9, USER_ATA)])
    assert len(burns_in(tx, "x", {IO})) == 1
    bad = copy.deepcopy(tx)
    bad["meta"]["err"] = {"InstructionError": [0, "Custom"]}
    assert burns_in(bad, "x", {IO}) == []
