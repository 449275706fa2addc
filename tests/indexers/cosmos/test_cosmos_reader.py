"""The Cosmos reader: generic block_results decoding on real mainnet responses (Osmosis,
Injective, dYdX, Sei; see shared/fixtures/SOURCES.md), and Akash escrow semantics on a
constructed block in the same shape, served over JSON-RPC on 127.0.0.1.

Expectations on the real files are computed here straight from the raw JSON with the
standard library (base64, counting), not through the reader's code.
"""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest

from depinrev.config import Config, bech32_encode
from depinrev.lake import Lake
from indexers.chunked import ChainMismatch
from indexers.cosmos.events import EventDecodeError, decode_block_results, parse_coins, transfers
from indexers.cosmos.extract import parse_time
from indexers.dispatch import index_network
from tests.support.cosmos_node import CosmosNode, block_hash, fake_tx
from tests.support.jsonrpc_server import JsonRpcServer
from tests.support.lake_read import read_dataset
from tests.support.paths import shared_fixtures

ENV = "DEPINREV_TEST_COSMOS_RPC"


def _fixture(name: str) -> dict[str, Any]:
    return json.loads((shared_fixtures() / "cosmos" / name).read_text())["result"]


def _b64(s: str | None) -> str | None:
    return None if s is None else base64.b64decode(s).decode()


# --- generic decoding on real data ------------------------------------------------------------
def test_osmosis_base64_attributes_and_transfers():
    raw = _fixture("block_results_at_height_10499831.json")
    block = decode_block_results(raw)
    n_raw = (
        len(raw["begin_block_events"])
        + sum(len(t["events"]) for t in raw["txs_results"])
        + len(raw["end_block_events"] or [])
    )
    assert len(block.events) == n_raw and block.failed_txs == []
    want = []
    for ev in raw["txs_results"][0]["events"]:
        if ev["type"] == "transfer":
            a = {_b64(x["key"]): _b64(x["value"]) for x in ev["attributes"]}
            want.append((a["sender"], a["recipient"], a["amount"]))
    got = [
        (t.sender, t.recipient, f"{t.coin.amount}{t.coin.denom}")
        for e in block.events
        if e.phase == "tx" and e.tx_index == 0
        for t in transfers(e)
    ]
    assert got == want and len(want) >= 2
    first = next(e for e in block.events if e.type == "transfer")
    assert (first.phase, first.ordinal, first.get("amount")) == ("begin_block", 2, "39206uosmo")


def test_dydx_untyped_finalize_block_events_are_plain_text():
    block = decode_block_results(_fixture("block_results_at_height_12791634.json"))
    assert [(e.type, e.phase, e.ordinal) for e in block.events] == [
        ("", "finalize_block", i) for i in range(4)
    ]
    assert block.events[0].attributes == (
        ("", "\n0/dydxprotocol.clob.MsgProposedOperationsResponse"),
    )


def test_sei_failed_txs_are_skipped_and_null_values_kept():
    raw = _fixture("block_results_with_failed_txs.json")
    block = decode_block_results(raw)
    failed = [i for i, t in enumerate(raw["txs_results"]) if t.get("code", 0) != 0]
    assert block.failed_txs == failed == [0, 1]
    assert all(e.tx_index not in failed for e in block.events)
    fin = [e for e in block.events if e.phase == "finalize_block"]
    assert len(fin) == len(raw["finalize_block_events"]) == 81
    assert fin[0].type == "proposer_reward" and fin[0].get("amount") is None
    assert fin[0].get("validator") == _b64(
        raw["finalize_block_events"][0]["attributes"][1]["value"]
    )


def test_injective_end_block_events_and_ordinals():
    raw = _fixture("block_results_at_height_4555980.json")
    block = decode_block_results(raw)
    last = block.events[-1]
    assert last.phase == "end_block" and last.type.startswith("injective.exchange")
    assert [e.ordinal for e in block.events] == list(range(len(block.events)))


def test_failed_tx_events_are_dropped_but_keep_their_ordinals():
    raw = {
        "height": "7",
        "txs_results": [
            {
                "code": 11,
                "events": [
                    {
                        "type": "transfer",
                        "attributes": [
                            {"key": "recipient", "value": "a"},
                            {"key": "sender", "value": "b"},
                            {"key": "amount", "value": "5uakt"},
                        ],
                    }
                ],
            },
            {
                "code": 0,
                "events": [
                    {
                        "type": "transfer",
                        "attributes": [
                            {"key": "recipient", "value": "c"},
                            {"key": "sender", "value": "d"},
                            {"key": "amount", "value": "1uakt,2ibc/ABCDEF"},
                            {"key": "recipient", "value": "e"},
                            {"key": "sender", "value": "d"},
                            {"key": "amount", "value": "3uact"},
                        ],
                    }
                ],
            },
        ],
    }
    block = decode_block_results(raw)
    assert block.failed_txs == [0]
    (ev,) = block.events
    assert ev.ordinal == 1
    assert [(t.part, t.recipient, t.coin.amount, t.coin.denom) for t in transfers(ev)] == [
        (0, "c", 1, "uakt"),
        (1, "c", 2, "ibc/ABCDEF"),
        (2, "e", 3, "uact"),
    ]
    assert parse_coins("") == []
    with pytest.raises(EventDecodeError):
        parse_coins("1.5uakt")
    assert parse_time("2024-03-01T00:00:01.123456789Z") == 1709251201
    assert parse_time("2024-03-01T00:00:01Z") == 1709251201


# --- Akash semantics on a constructed block ---------------------------------------------------
ESCROW = "akash14pphss726thpwws3yc458hggufynm9x77l4l2u"
DISTRIBUTION = bech32_encode("akash", hashlib.sha256(b"distribution").digest()[:20])
USDC = "ibc/170C677610AC31DF0904FFE09CD3B5C657492170E7E52372E48756B71E56F2F1"


def _addr(name: str) -> str:
    return bech32_encode("akash", hashlib.sha256(name.encode()).digest()[:20])


P1, P2, P3, TENANT = _addr("provider-1"), _addr("provider-2"), _addr("provider-3"), _addr("tenant")


def _ev(type_: str, **attrs: str) -> dict[str, Any]:
    return {
        "type": type_,
        "attributes": [
            {"key": k.replace("_", "-"), "value": v, "index": True} for k, v in attrs.items()
        ],
    }


def _transfer(sender: str, recipient: str, amount: str) -> list[dict[str, Any]]:
    # the bank module's three events for one send, as the SDK emits them
    return [
        _ev("coin_spent", spender=sender, amount=amount),
        _ev("coin_received", receiver=recipient, amount=amount),
        _ev("transfer", recipient=recipient, sender=sender, amount=amount),
    ]


def _lease(action: str, provider: str, dseq: str = "77") -> dict[str, Any]:
    return _ev(
        "akash.v1",
        module="market",
        action=action,
        owner=TENANT,
        dseq=dseq,
        gseq="1",
        oseq="1",
        provider=provider,
        price_denom="uakt",
        price_amount="10",
    )


AKASH_HEIGHT = 15_000_123


def _akash_block() -> dict[str, Any]:
    lease_id = json.dumps(
        {"owner": TENANT, "dseq": "88", "gseq": 1, "oseq": 1, "provider": P3, "bseq": 0}
    )
    txs = [
        # 0: provider 1 withdraws: payment in two denoms (one multi-coin transfer) + take
        {
            "code": 0,
            "events": [
                _ev("message", action="/akash.market.v1beta4.MsgWithdrawLease", sender=P1),
                *_transfer(ESCROW, P1, f"950000uakt,2000000{USDC}"),
                *_transfer(ESCROW, DISTRIBUTION, f"19388uakt,500000{USDC}"),
            ],
        },
        # 1: the tenant closes its deployment: final payment to provider 2 and take, the
        #    bid deposit back to provider 2 as its bid closes, the unspent deposit refunded
        {
            "code": 0,
            "events": [
                _ev(
                    "message", action="/akash.deployment.v1beta3.MsgCloseDeployment", sender=TENANT
                ),
                _lease("lease-closed", P2),
                *_transfer(ESCROW, P2, "5000uakt"),
                *_transfer(ESCROW, DISTRIBUTION, "102uakt"),
                *_transfer(ESCROW, P2, "500000uakt"),
                _lease("bid-closed", P2),
                *_transfer(ESCROW, TENANT, "4000000uakt"),
            ],
        },
        # 2: a failed withdrawal moved nothing
        {
            "code": 5,
            "log": "insufficient funds",
            "events": [
                _ev("message", action="/akash.market.v1beta4.MsgWithdrawLease", sender=P1),
                *_transfer(ESCROW, P1, "999uakt"),
            ],
        },
        # 3: a lease is created (typed event, DecCoin price); a losing bid's deposit returns
        {
            "code": 0,
            "events": [
                _ev("message", action="/akash.market.v1beta4.MsgCreateLease", sender=TENANT),
                _ev(
                    "akash.market.v1.EventLeaseCreated",
                    id=lease_id,
                    price=json.dumps({"denom": "uakt", "amount": "12.500000000000000000"}),
                ),
                *_transfer(ESCROW, P1, "500000uakt"),
                # a transfer between others is not the escrow's
                *_transfer(TENANT, P3, "7uakt"),
            ],
        },
    ]
    return {
        "height": str(AKASH_HEIGHT),
        "txs_results": txs,
        "begin_block_events": [*_transfer(_addr("fee_collector"), DISTRIBUTION, "123uakt")],
        "end_block_events": [],
    }


def _akash_config(chunk_size: int = 100) -> Config:
    return Config.model_validate(
        {
            "chains": {
                "akash": {
                    "kind": "cosmos",
                    "chain_id": 900001,
                    "chain_name": "akashnet-2",
                    "bech32_prefix": "akash",
                    "rpc_url_env": ENV,
                    "chunk_size": chunk_size,
                    "concurrency": 4,
                }
            },
            "tokens": {
                "akt": {"symbol": "AKT", "decimals": 6, "chain": "akash", "denom": "uakt"},
                "usdc": {
                    "symbol": "USDC",
                    "decimals": 6,
                    "chain": "akash",
                    "denom": USDC,
                    "stablecoin": True,
                },
            },
            "networks": {
                "akash": {
                    "display_name": "Akash",
                    "devnet": False,
                    "sources": [
                        {
                            "name": "escrow",
                            "kind": "akash_escrow",
                            "chain": "akash",
                            "address": ESCROW,
                            "distribution_account": DISTRIBUTION,
                            "start_block": AKASH_HEIGHT - 23,
                            "token": "akt",
                        }
                    ],
                    "revenue_rules": [
                        {
                            "source": "escrow",
                            "event": "provider_payment",
                            "labels": {"fees": "1", "supply_side_revenue": "1"},
                        },
                        {
                            "source": "escrow",
                            "event": "take_payment",
                            "labels": {"fees": "1", "protocol_revenue": "1"},
                        },
                    ],
                }
            },
        }
    )


def _tx_hash(i: int) -> str:
    return hashlib.sha256(base64.b64decode(fake_tx(AKASH_HEIGHT, i))).hexdigest().upper()


def test_akash_block_gives_exactly_the_expected_rows(tmp_path, monkeypatch):
    node = CosmosNode("akashnet-2", {AKASH_HEIGHT: _akash_block()}, head=AKASH_HEIGHT + 5)
    with JsonRpcServer(node, rate_limit_first=3) as server:
        monkeypatch.setenv(ENV, server.url)
        report = index_network(_akash_config(), "akash", tmp_path)
    lake = Lake(tmp_path)
    rows = read_dataset(lake, "lease_payments", "akash").to_pylist()
    got = [
        (
            r["event"],
            r["transaction_hash"],
            r["transaction_index"],
            r["token"],
            r["amount_str"],
            r["provider"],
            r["tenant"],
            r["lease_id"],
        )
        for r in rows
    ]
    h0, h1, h3 = _tx_hash(0), _tx_hash(1), _tx_hash(3)
    assert got == [
        ("provider_payment", h0, 0, "akt", "950000", P1, None, None),
        ("provider_payment", h0, 0, "usdc", "2000000", P1, None, None),
        ("take_payment", h0, 0, "akt", "19388", None, None, None),
        ("take_payment", h0, 0, "usdc", "500000", None, None, None),
        ("lease_closed", h1, 1, "akt", None, P2, TENANT, 77),
        ("provider_payment", h1, 1, "akt", "5000", P2, TENANT, 77),
        ("take_payment", h1, 1, "akt", "102", P2, TENANT, 77),
        ("deposit_returned", h1, 1, "akt", "500000", P2, TENANT, 77),
        ("tenant_refund", h1, 1, "akt", "4000000", P2, TENANT, 77),
        ("lease_created", h3, 3, "akt", None, P3, TENANT, 88),
        ("deposit_returned", h3, 3, "akt", "500000", P1, TENANT, 88),
    ]
    created = rows[9]
    assert created["price_per_block_str"] == "12.500000000000000000"
    assert created["price_per_block"] is None  # a fractional price is never rounded
    assert [r["price_per_block_str"] for r in rows if r["event"] == "lease_closed"] == ["10"]
    # revenue: what the configured rules count
    revenue = {(r["event"], r["token"]): 0 for r in rows}
    for r in rows:
        if r["event"] in ("provider_payment", "take_payment"):
            revenue[(r["event"], r["token"])] += int(r["amount_str"])
    assert {k: v for k, v in revenue.items() if v} == {
        ("provider_payment", "akt"): 955000,
        ("provider_payment", "usdc"): 2000000,
        ("take_payment", "akt"): 19490,
        ("take_payment", "usdc"): 500000,
    }
    # log_index: event ordinal x 1000 + coin position; unique within the block
    li = [r["log_index"] for r in rows]
    assert len(set(li)) == len(li) and rows[1]["log_index"] == rows[0]["log_index"] + 1
    assert {r["block_hash"] for r in rows} == {block_hash(AKASH_HEIGHT)}
    # coverage by height: the grid chunks and their boundary headers
    cp = lake.load_checkpoint("akash", 900001)
    assert list(cp.covered()) == [(AKASH_HEIGHT - 23, AKASH_HEIGHT + 5)]
    blocks = read_dataset(lake, "blocks", "akash").to_pylist()
    assert sorted((b["block_number"], b["role"]) for b in blocks) == [
        (AKASH_HEIGHT - 23, "boundary"),
        (AKASH_HEIGHT, "log"),
        (AKASH_HEIGHT + 5, "boundary"),
    ]
    assert [(c.start, c.end) for c in cp.chunks] == [(AKASH_HEIGHT - 23, AKASH_HEIGHT + 5)]
    assert cp.chunks[0].end_hash == block_hash(AKASH_HEIGHT + 5)
    assert report.chains[0].rpc["retries"] >= 3


def test_wrong_chain_is_refused(tmp_path, monkeypatch):
    node = CosmosNode("osmosis-1", {}, head=AKASH_HEIGHT)
    with JsonRpcServer(node) as server:
        monkeypatch.setenv(ENV, server.url)
        with pytest.raises(ChainMismatch, match=r"serves chain 'osmosis-1'.*akashnet-2"):
            index_network(_akash_config(), "akash", tmp_path)


def test_real_osmosis_block_over_rpc_fee_collector_as_escrow(tmp_path, monkeypatch):
    """The whole reader over HTTP on a real block: with Osmosis's fee collector configured as
    the 'escrow', its outflows are exactly the decoded transfers it sent."""
    raw = _fixture("block_results_at_height_10499831.json")
    fee = "osmo17xpfvakm2amg962yls6f84z3kell8c5lczssa0"
    dist = "osmo1jv65s3grqf6v6jl3dp4t6c9t9rk99cd80yhvld"
    want = []
    phases = (
        [("begin_block", raw["begin_block_events"])]
        + [("tx", t["events"]) for t in raw["txs_results"]]
        + [("end_block", raw["end_block_events"])]
    )
    for _, evs in phases:
        for ev in evs or []:
            a = {_b64(x["key"]): _b64(x["value"]) for x in ev["attributes"]}
            if ev["type"] == "transfer" and a.get("sender") == fee:
                want.append((a["recipient"], a["amount"]))
    assert want  # the fee collector pays the distribution module in begin block
    height = int(raw["height"])
    cfg = Config.model_validate(
        {
            "chains": {
                "osmosis": {
                    "kind": "cosmos",
                    "chain_id": 900002,
                    "chain_name": "osmosis-1",
                    "bech32_prefix": "osmo",
                    "rpc_url_env": ENV,
                    "chunk_size": 10,
                }
            },
            "tokens": {
                "osmo": {"symbol": "OSMO", "decimals": 6, "chain": "osmosis", "denom": "uosmo"}
            },
            "networks": {
                "osmo": {
                    "display_name": "o",
                    "devnet": False,
                    "sources": [
                        {
                            "name": "fees",
                            "kind": "akash_escrow",
                            "chain": "osmosis",
                            "address": fee,
                            "distribution_account": dist,
                            "start_block": height,
                            "token": "osmo",
                        }
                    ],
                }
            },
        }
    )
    node = CosmosNode("osmosis-1", {height: raw}, head=height, earliest=height - 100)
    with JsonRpcServer(node) as server:
        monkeypatch.setenv(ENV, server.url)
        index_network(cfg, "osmo", tmp_path, from_block=height, to_block=height)
    rows = read_dataset(Lake(tmp_path), "lease_payments", "osmo").to_pylist()
    assert [(r["provider"] or dist, r["amount_str"] + "uosmo") for r in rows] == want
    assert [r["event"] for r in rows if r["provider"] is None] == ["take_payment"] * sum(
        1 for w in want if w[0] == dist
    )
    assert {r["transaction_hash"] for r in rows} <= {"begin_block"} | {
        hashlib.sha256(base64.b64decode(fake_tx(height, i))).hexdigest().upper() for i in range(8)
    }
