"""Solana and Cosmos networks in the warehouse: revenue rules, the quarterly table and the audit.

The lake is written by the real readers (indexers.dispatch.index_network) from the JSON-RPC
test servers on 127.0.0.1 (tests/support/solana_cluster.py, tests/support/cosmos_node.py),
with constructed blocks whose times span three UTC quarters of 2025:

* Solana: slot s is at 2025-03-20 + 20 s x s; 2025Q2 begins at slot 51,840 (skipped: no block)
  and 2025Q3 at slot 444,960; the finalized head is 460,000. Chunk boundary slots 100,000 and
  199,999 are skipped, so that chunk's boundary headers are its first and last produced slots.
  Render's burn wallet burns in each quarter; a user's burn (not the burn wallet's) and a failed
  burn are not counted.
* Cosmos (akashnet-2): height h is at 2025-02-01 + 12 h x h; 2025Q2 begins at height 118,
  2025Q3 at 300; head 320. Escrow payouts to providers (AKT, USDC, ACT), the take to the
  distribution module, a tenant refund, a returned bid deposit and a failed tx.

The configuration is config/networks.mainnet.yaml (its revenue rules, tokens, addresses) with
the EVM chains removed, start blocks moved to the test chains and small chunks. Expected
figures are computed here from the constructed amounts with the rules' fractions (Python
integers, floor of a positive product = the SQL's truncation), not read from the warehouse.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest
import yaml

from depinrev.config import Config, bech32_encode, load_config
from depinrev.lake import Lake
from indexers.dispatch import index_network
from pipelines.ingest.assets import PARTITION_CHECK, index_lake
from pipelines.ingest.partitions import network_day_key
from pipelines.resources import LakeResource, NetworkConfigResource
from tests.support.cosmos_node import CosmosNode, block_hash
from tests.support.jsonrpc_server import JsonRpcServer
from tests.support.lake_read import read_dataset
from tests.support.revenue_oracle import IONET_UNOBSERVABLE_REASON
from tests.support.solana_cluster import SolanaCluster, fake_hash
from warehouse.build import BuildResult, audit_warehouse, build_warehouse, prepare_inputs
from warehouse.rules import expand_rules, source_tokens

MAINNET = Path(__file__).resolve().parents[2] / "config" / "networks.mainnet.yaml"
SOLANA_ENV = "DEPINREV_TEST_NONEVM_SOLANA"
COSMOS_ENV = "DEPINREV_TEST_NONEVM_COSMOS"

# --- Solana ----------------------------------------------------------------------------------
RENDER = "rndrizKT3MK1iimdxRdWabcF7Zg7AR5T4nud4EkHBof"
IO = "BZLbGTNCSFfoth2GYDtwr7e4imWzpR5jqcUuGEwr646K"
BURN_WALLET = "rbrnm7nPhfhBxPSh8qhRFrhB5MLnJGMNoyNQPvSi7vq"
TOKEN_PROGRAM = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"
USER = "G7Hf2J55BAkHtbbXPh94UTGRCQioKPpnb5oKQMBteXo"
WALLET_ATA = "3KEmPDRc6WEvhomG8awhfv2k33HgeqfGJmE1dptFmzhR"
USER_ATA = "BMnsyyG6S6zkaE3K5X3nbRMKdvBS5dT6HhcMozBVL7Ly"
# RNP-023 Salad burn wallets: addresses not published, so these stand in (test-only sources
# added by write_config, with the RNP's splits: Container Engine 60% burned / 5% Foundation /
# 35% Salad, Gateway 35 / 5 / 60).
def _pubkey(name: str) -> str:
    """A base58 32-byte key made from a name (the test's own, never a real account)."""
    alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
    n, out = int.from_bytes(hashlib.sha256(name.encode()).digest(), "big"), ""
    while n:
        n, r = divmod(n, 58)
        out = alphabet[r] + out
    return out


SALAD_CE, SALAD_GW = _pubkey("salad-container-engine"), _pubkey("salad-gateway")
SALAD_CE_ATA, SALAD_GW_ATA = _pubkey("salad-ce-ata"), _pubkey("salad-gw-ata")
SOL_T0 = 1_742_428_800  # 2025-03-20T00:00:00Z
SOL_HEAD = 460_000
SOL_CHUNK = 100_000
Q2_START, Q3_START = 1_743_465_600, 1_751_328_000  # 2025-04-01, 2025-07-01
SOL_Q2_FIRST = (Q2_START - SOL_T0) // 20  # 51,840
SOL_Q3_FIRST = (Q3_START - SOL_T0) // 20  # 444,960
SOL_SKIPPED = {SOL_Q2_FIRST, 100_000, 199_999}
# (signature, slot, amount, burner: "wallet" (RNP-019), "user", "ce" or "gw" (Salad), failed)
SOL_BURNS = [
    ("RenderWalletBurnQ1", 30_000, 95_000_000_000, "wallet", False),
    ("RenderWalletBurnQ2a", 100_001, 1_900_000_001, "wallet", False),
    ("RenderUserBurnQ2", 200_500, 5, "user", False),
    ("RenderWalletFailedQ2", 250_000, 999, "wallet", True),
    ("RenderWalletBurnQ2b", 300_000, 123_456_789_012, "wallet", False),
    ("SaladContainerBurnQ2", 310_000, 600_000_000_007, "ce", False),
    ("SaladGatewayBurnQ2", 320_000, 350_000_000_011, "gw", False),
    ("RenderWalletBurnQ3", 450_000, 7_777, "wallet", False),
]
# io.net's buy-and-burn (any burn of the IO mint): holders_revenue; its fees are unobservable
IO_BURNS = [("IoBuybackBurnQ2", 120_000, 31_415_926_535)]
BURNERS = {"wallet": (BURN_WALLET, WALLET_ATA), "user": (USER, USER_ATA),
           "ce": (SALAD_CE, SALAD_CE_ATA), "gw": (SALAD_GW, SALAD_GW_ATA)}
# burner -> (source, shares of each burn as (fees, supply_side, protocol, holders) fractions
# (numerator, denominator)), written from the RNPs, not read from the configuration
RENDER_SHARES = {
    "wallet": ("render-burns", ((100, 95), (0, 1), (5, 95), (1, 1))),
    "ce": ("salad-container", ((100, 60), (35, 60), (5, 60), (1, 1))),
    "gw": ("salad-gateway", ((100, 35), (60, 35), (5, 35), (1, 1))),
}


def sol_time(slot: int) -> int:
    return SOL_T0 + 20 * slot


def _burn_tx(sig: str, slot: int, amount: int, burner: str, failed: bool,
             mint: str = RENDER) -> dict[str, Any]:
    owner, account = BURNERS[burner]
    burn = {
        "parsed": {
            "info": {
                "account": account,
                "authority": owner,
                "mint": mint,
                "tokenAmount": {"amount": str(amount), "decimals": 8, "uiAmountString": "x"},
            },
            "type": "burnChecked",
        },
        "program": "spl-token",
        "programId": TOKEN_PROGRAM,
    }
    err = {"InstructionError": [0, "InsufficientFunds"]} if failed else None
    balance = {
        "accountIndex": 1,
        "mint": mint,
        "owner": owner,
        "programId": TOKEN_PROGRAM,
        "uiTokenAmount": {"amount": "0", "decimals": 8},
    }
    return {
        "blockTime": sol_time(slot),
        "slot": slot,
        "meta": {
            "err": err,
            "status": {"Ok": None} if err is None else {"Err": err},
            "innerInstructions": [],
            "preTokenBalances": [balance],
            "postTokenBalances": [balance],
            "loadedAddresses": {"readonly": [], "writable": []},
        },
        "transaction": {
            "message": {
                "accountKeys": [
                    {"pubkey": k, "signer": i == 0, "writable": True}
                    for i, k in enumerate([owner, account])
                ],
                "instructions": [burn],
                "recentBlockhash": fake_hash(slot - 5),
            },
            "signatures": [sig],
        },
        "version": 0,
    }


def make_cluster() -> SolanaCluster:
    cluster = SolanaCluster(head=SOL_HEAD, decimals={RENDER: 8, IO: 8}, block_time=sol_time)
    cluster.skipped = set(SOL_SKIPPED)
    burns = [(sig, slot, amount, burner, failed, RENDER)
             for sig, slot, amount, burner, failed in SOL_BURNS]
    burns += [(sig, slot, amount, "user", False, IO) for sig, slot, amount in IO_BURNS]
    for sig, slot, amount, burner, failed, mint in burns:
        tx = _burn_tx(sig, slot, amount, burner, failed, mint)
        entry = {
            "blockTime": sol_time(slot),
            "confirmationStatus": "finalized",
            "err": tx["meta"]["err"],
            "memo": None,
            "signature": sig,
            "slot": slot,
        }
        owner = BURNERS[burner][0]
        for address in [mint] if burner == "user" else [mint, owner]:
            cluster.add(address, dict(entry), tx)
    return cluster


# --- Cosmos ----------------------------------------------------------------------------------
ESCROW = "akash14pphss726thpwws3yc458hggufynm9x77l4l2u"
DISTRIBUTION = "akash1jv65s3grqf6v6jl3dp4t6c9t9rk99cd82yfms9"
USDC = "ibc/170C677610AC31DF0904FFE09CD3B5C657492170E7E52372E48756B71E56F2F1"
COSMOS_T0 = 1_738_368_000  # 2025-02-01T00:00:00Z
COSMOS_HEAD = 320
COSMOS_CHUNK = 50


def cosmos_time(height: int) -> int:
    return COSMOS_T0 + 43_200 * height


def _addr(name: str) -> str:
    return bech32_encode("akash", hashlib.sha256(name.encode()).digest()[:20])


P1, P2, TENANT = _addr("provider-1"), _addr("provider-2"), _addr("tenant")
# authz deposit granters (Console's managed wallets): they fund TENANT's escrow account, so
# unspent escrow goes back to them, neither tenant nor provider (NETWORKS.md, Akash refunds)
GRANTER, GRANTER2, BOT, USER_AKT = (_addr("granter"), _addr("granter-2"), _addr("console-bot"),
                                    _addr("bme-user"))
BME = _addr("bme")  # module account of module "bme": sha256("bme")[:20], like escrow's
BME_HEIGHT = 280  # the test chain's node v2.0.0 upgrade
ACT_PEG_HEIGHT = 150  # a chunk boundary: height 150 is 2025-04-17 (in the lake's blocks)


def _ev(type_: str, **attrs: str) -> dict[str, Any]:
    return {
        "type": type_,
        "attributes": [
            {"key": k.replace("_", "-"), "value": v, "index": True} for k, v in attrs.items()
        ],
    }


def _transfer(sender: str, recipient: str, amount: str) -> list[dict[str, Any]]:
    return [
        _ev("coin_spent", spender=sender, amount=amount),
        _ev("coin_received", receiver=recipient, amount=amount),
        _ev("transfer", recipient=recipient, sender=sender, amount=amount),
    ]


def _lease(action: str, provider: str) -> dict[str, Any]:
    return _ev("akash.v1", module="market", action=action, owner=TENANT, dseq="77", gseq="1",
               oseq="1", provider=provider, price_denom="uakt", price_amount="10")


def _withdraw(provider: str, paid: str, take: str | None) -> dict[str, Any]:
    events = [_ev("message", action="/akash.market.v1beta4.MsgWithdrawLease", sender=provider),
              *_transfer(ESCROW, provider, paid)]
    if take is not None:
        events += _transfer(ESCROW, DISTRIBUTION, take)
    return {"code": 0, "events": events}


def _results(height: int, txs: list[dict[str, Any]]) -> dict[str, Any]:
    return {"height": str(height), "txs_results": txs, "begin_block_events": [],
            "end_block_events": []}


def make_node() -> CosmosNode:
    # v0.24 MsgDepositDeployment: the owner signs, the funds come from the granter
    deposit = {"code": 0, "events": [
        _ev("message", action="/akash.deployment.v1beta3.MsgDepositDeployment", sender=TENANT),
        *_transfer(GRANTER, ESCROW, "2000000uakt")]}
    # MsgExec-wrapped MsgCreateDeployment by Console's signer, funded by another granter: the
    # deployment event names the owner and the escrow account (deployment/TENANT/77, the one
    # whose lease closes at 150 and refunds it)
    exec_deposit = {"code": 0, "events": [
        _ev("message", action="/cosmos.authz.v1beta1.MsgExec", sender=BOT),
        _ev("akash.v1", module="deployment", action="deployment-created", owner=TENANT,
            dseq="77"),
        *_transfer(GRANTER2, ESCROW, "3000000uakt")]}
    # a provider's bid deposit: the bid names TENANT as owner, but the provider pays
    bid = {"code": 0, "events": [
        _ev("message", action="/akash.market.v1beta4.MsgCreateBid", sender=P1),
        _ev("akash.v1", module="market", action="bid-created", owner=TENANT, dseq="78",
            gseq="1", oseq="1", provider=P1),
        *_transfer(P1, ESCROW, "500000uakt")]}
    # BME (node v2.0.0): a user burns AKT for ACT, a provider burns ACT for AKT
    mint_act = {"code": 0, "events": [
        _ev("message", action="/akash.bme.v1.MsgBurnMint", sender=USER_AKT),
        *_transfer(USER_AKT, BME, "1000000uakt"), *_transfer(BME, USER_AKT, "400000uact")]}
    burn_act = {"code": 0, "events": [
        _ev("message", action="/akash.bme.v1.MsgBurnMint", sender=P1),
        *_transfer(P1, BME, "90000uact"), *_transfer(BME, P1, "250000uakt")]}
    # the deployment EndBlocker converting an escrow balance: AKT out, ACT back in
    convert = {**_results(290, []), "end_block_events": [
        *_transfer(ESCROW, BME, "700000uakt"), *_transfer(BME, ESCROW, "350000uact")]}
    close = {
        "code": 0,
        "events": [
            _ev("message", action="/akash.deployment.v1beta3.MsgCloseDeployment", sender=TENANT),
            _lease("lease-closed", P2),
            *_transfer(ESCROW, P2, "5000uakt"),
            *_transfer(ESCROW, DISTRIBUTION, "102uakt"),
            *_transfer(ESCROW, P2, "500000uakt"),  # the bid deposit, returned as its bid closes
            _lease("bid-closed", P2),
            *_transfer(ESCROW, TENANT, "4000000uakt"),  # the unspent deposit, refunded
            *_transfer(ESCROW, GRANTER, "1500000uakt"),  # to the granters who deposited
            *_transfer(ESCROW, GRANTER2, "2500000uakt"),
        ],
    }
    failed = {"code": 5, "log": "insufficient funds",
              "events": _withdraw(P1, "999uakt", None)["events"]}
    results = {
        60: _results(60, [_withdraw(P1, f"950000uakt,2000000{USDC}", f"19388uakt,500000{USDC}")]),
        100: _results(100, [deposit, exec_deposit]),
        110: _results(110, [bid]),
        150: _results(150, [close]),
        290: convert,
        295: _results(295, [mint_act]),
        296: _results(296, [burn_act]),
        200: _results(200, [_withdraw(P1, f"3000000uact,1234567{USDC}", f"61728{USDC}"), failed]),
        310: _results(310, [_withdraw(P2, "777uakt", None)]),
    }
    return CosmosNode("akashnet-2", results, head=COSMOS_HEAD, time_of=cosmos_time)


# --- configuration ---------------------------------------------------------------------------
def write_config(path: Path) -> Path:
    """The mainnet file, EVM chains removed, pointed at the test servers with small chunks."""
    doc = yaml.safe_load(MAINNET.read_text())
    doc["chains"] = {k: v for k, v in doc["chains"].items() if v.get("kind") in ("solana",
                                                                               "cosmos")}
    doc["chains"]["solana"].update(rpc_url_env=SOLANA_ENV, chunk_size=SOL_CHUNK)
    doc["chains"]["akash"].update(rpc_url_env=COSMOS_ENV, chunk_size=COSMOS_CHUNK)
    doc["tokens"] = {k: v for k, v in doc["tokens"].items() if v["chain"] in doc["chains"]}
    doc["networks"] = {k: doc["networks"][k] for k in ("akash", "render", "ionet")}
    render = doc["networks"]["render"]
    render["sources"] = [s for s in render["sources"] if s["chain"] in doc["chains"]]
    render["revenue_rules"] = [r for r in render["revenue_rules"] if r["source"] == "render-burns"]
    # RNP-023's Salad wallets, as docs/readers.md shows them (addresses unpublished: test-only)
    for name, wallet, burned in (("salad-container", SALAD_CE, 60), ("salad-gateway", SALAD_GW,
                                                                      35)):
        render["sources"].append({"name": name, "kind": "spl_burns", "chain": "solana",
                                  "address": RENDER, "burn_owners": [wallet], "start_block": 0,
                                  "token": "render"})
        render["revenue_rules"].append({"source": name, "event": "burn", "labels": {
            "fees": f"100/{burned}", "supply_side_revenue": f"{100 - burned - 5}/{burned}",
            "protocol_revenue": f"5/{burned}", "holders_revenue": "1"}})
    for net in doc["networks"].values():
        for src in net["sources"]:
            src["start_block"] = 1 if src["chain"] == "akash" else 0
    doc["networks"]["akash"]["sources"][0]["bme_height"] = BME_HEIGHT
    # ACT pegged from height 150 (this test chain's first ACT payout is at 200)
    doc["tokens"]["act"]["usd_peg_from_block"] = ACT_PEG_HEIGHT
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@dataclass
class World:
    config_path: Path
    config: Config
    lake: Path
    db: Path
    result: BuildResult
    tmp: Path


@pytest.fixture(scope="module")
def servers() -> Iterator[tuple[SolanaCluster, CosmosNode]]:
    cluster, node = make_cluster(), make_node()
    with JsonRpcServer(cluster) as sol, JsonRpcServer(node) as cos, pytest.MonkeyPatch.context() \
            as mp:
        mp.setenv(SOLANA_ENV, sol.url)
        mp.setenv(COSMOS_ENV, cos.url)
        yield cluster, node


@pytest.fixture(scope="module")
def world(servers, tmp_path_factory: pytest.TempPathFactory) -> World:
    tmp = tmp_path_factory.mktemp("non_evm")
    config_path = write_config(tmp / "networks.yaml")
    config = load_config(config_path)
    for network in sorted(config.networks):
        index_network(config, network, tmp / "lake")
    result = build_warehouse(config_path, tmp / "lake", tmp / "wh.duckdb")
    return World(config_path, config, tmp / "lake", tmp / "wh.duckdb", result, tmp)


def _query(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


# --- expected figures, from the constructed amounts ------------------------------------------
def _quarter(ts: int) -> str:
    return "2025Q1" if ts < Q2_START else "2025Q2" if ts < Q3_START else "2025Q3"


def _render_expected() -> dict[str, tuple[int, int, int, int, int]]:
    """quarter -> (fees, supply_side, protocol, holders, event count): each burn by a burn
    wallet times its wallet's RNP shares (RENDER_SHARES), truncated per burn and label, the
    base units truncation leaves over in the largest split label."""
    out: dict[str, tuple[int, int, int, int, int]] = {}
    for _sig, slot, amount, burner, failed in SOL_BURNS:
        if burner not in RENDER_SHARES or failed:
            continue
        q = _quarter(sol_time(slot))
        shares = RENDER_SHARES[burner][1]
        got = [amount * n // d for n, d in shares]
        # every base unit of fees lands in a label: what truncation leaves over goes to the
        # split label with the largest share (docs/networks.md, "Exact splits")
        split = range(1, 4)
        left = got[0] - sum(got[i] for i in split)
        largest = max(split, key=lambda i: shares[i][0] / shares[i][1])
        got[largest] += left
        prev = out.get(q, (0, 0, 0, 0, 0))
        out[q] = (*(a + b for a, b in zip(prev[:4], got, strict=True)), prev[4] + 1)
    return out


# quarter -> token -> (provider payments, take payments), as constructed in make_node
AKASH_EXPECTED: dict[str, dict[str, tuple[int, int]]] = {
    "2025Q1": {"akt": (950_000, 19_388), "akash-usdc": (2_000_000, 500_000), "act": (0, 0)},
    "2025Q2": {"akt": (5_000, 102), "akash-usdc": (1_234_567, 61_728), "act": (3_000_000, 0)},
    "2025Q3": {"akt": (777, 0), "akash-usdc": (0, 0), "act": (0, 0)},
}


# --- tests -----------------------------------------------------------------------------------
def test_mainnet_rules_expand_for_every_source_kind():
    config = load_config(MAINNET)
    rows = {(r.network, r.event, r.label): r for r in expand_rules(config)}
    assert rows[("render", "burn", "fees")].dataset == "token_burns"
    assert (rows[("render", "burn", "fees")].share_numerator,
            rows[("render", "burn", "fees")].share_denominator) == (20, 19)
    assert rows[("akash", "provider_payment", "supply_side_revenue")].dataset == "lease_payments"
    assert rows[("akash", "take_payment", "protocol_revenue")].dataset == "lease_payments"
    assert rows[("ionet", "burn", "holders_revenue")].dataset == "token_burns"
    # RNP-019/021: the 5% is the operator's fee (protocol_revenue), nothing is supply side;
    # io.net's burns are a use of revenue, never fees (NETWORKS.md)
    render = {label: (r.share_numerator, r.share_denominator)
              for (net, _, label), r in rows.items() if net == "render"}
    assert render == {"fees": (20, 19), "protocol_revenue": (1, 19), "holders_revenue": (1, 1)}
    assert {label for (net, _, label) in rows if net == "ionet"} == {"holders_revenue"}
    # legacy RNDR transfers to 0x0 are migrations, not job payments: no such source
    assert [s.name for s in config.networks["render"].sources] == ["render-burns"]
    assert source_tokens(config, "akash", "escrow") == ["act", "akash-usdc", "akt"]
    assert source_tokens(config, "render", "render-burns") == ["render"]


def test_build_passes(world: World):
    assert world.result.dbt.success, world.result.problems()
    assert world.result.ok, world.result.problems()


def test_quarterly_mart_lists_solana_and_cosmos_networks_with_exact_figures(world: World):
    rows = _query(world.db, """
        select network, quarter, token, fees_raw, supply_side_revenue_raw, protocol_revenue_raw,
            holders_revenue_raw, revenue_raw, event_count
        from marts.fct_network_revenue_quarterly order by network, quarter, token""")
    got = {(r[0], r[1], r[2]): r[3:] for r in rows}
    want: dict[tuple[str, str, str], tuple[int, ...]] = {}
    for q, (fees, supply, protocol, holders, n) in _render_expected().items():
        want[("render", q, "render")] = (fees, supply, protocol, holders, fees - supply, n)
    # RNP-019/021: the 5% is the operator's fee, so Render's wallet burns alone make revenue =
    # fees and no supply side; Salad's wallets pay Salad its share (RNP-023)
    assert want[("render", "2025Q1", "render")][1] == 0
    assert want[("render", "2025Q1", "render")][4] == want[("render", "2025Q1", "render")][0]
    for q, tokens in AKASH_EXPECTED.items():
        for token, (paid, take) in tokens.items():
            n = (paid > 0) + (take > 0)  # one payout or take event per coin
            want[("akash", q, token)] = (paid + take, paid, take, 0, take, n)
    # BME in 2025Q2 (from height 280): AKT in = 700,000 converted out of escrow + 1,000,000
    # burned for ACT; out = 250,000 paid for burned ACT. The net burn is holders_revenue,
    # booked out of the supply side, so fees stay the payments and revenue = take + net burn.
    net_burn = 700_000 + 1_000_000 - 250_000
    fees, supply, take, _, _, n = want[("akash", "2025Q2", "akt")]
    want[("akash", "2025Q2", "akt")] = (fees, supply - net_burn, take, net_burn,
                                        fees - supply + net_burn, n + 3)
    # io.net's burns are holders_revenue; its fees (so revenue), supply side and protocol
    # revenue are not on chain: NULL with the reason, never 0
    (_, io_slot, io_amount), = IO_BURNS
    assert _quarter(sol_time(io_slot)) == "2025Q2"
    want[("ionet", "2025Q2", "io")] = (None, None, None, io_amount, None, 1)
    assert got == want
    assert _query(world.db, """
        select distinct network, unobservable_figures, unobservable_reason
        from marts.fct_network_revenue_quarterly where unobservable_figures is not null""") == [
        ("ionet", "fees,supply_side_revenue,revenue,protocol_revenue", IONET_UNOBSERVABLE_REASON)]
    assert _query(world.db, """
        select fees_raw, revenue_raw, holders_revenue_raw, fees_usd, unobservable_reason
        from marts.fct_network_revenue_daily where network = 'ionet'""") == [
        (None, None, io_amount, None, IONET_UNOBSERVABLE_REASON)]
    # Akash rows keep their own token: USDC and ACT payouts are never counted as AKT
    symbols = dict(_query(world.db, "select distinct token, token_symbol from "
                                    "marts.fct_network_revenue_quarterly"))
    assert symbols == {"akt": "AKT", "akash-usdc": "USDC", "act": "ACT", "render": "RENDER",
                       "io": "IO"}
    # tenant refunds, returned deposits and the failed withdrawal are not revenue
    events = _query(world.db, "select distinct event from marts.fct_revenue_events "
                              "where network = 'akash' order by 1")
    assert events == [("akt_burned",), ("akt_reminted",), ("provider_payment",),
                      ("take_payment",)]
    lake_events = _query(world.db, "select event, token, amount_str from raw.lease_payments "
                                   "where event in ('tenant_refund', 'deposit_returned') "
                                   "order by 1")
    assert lake_events == [("deposit_returned", "akt", "500000"),
                           ("tenant_refund", "akt", "4000000")]
    # refunds to the granters who deposited (one plain, one MsgExec-wrapped) and the
    # conversion to the BME module are neither payments nor revenue
    other = _query(world.db, "select event, provider, tenant, amount_str from raw.lease_payments"
                   " where event in ('depositor_refund', 'bme_conversion') order by amount")
    assert other == [("bme_conversion", None, None, "700000"),
                     ("depositor_refund", None, GRANTER, "1500000"),
                     ("depositor_refund", None, GRANTER2, "2500000")]
    deposits = _query(world.db, "select block_number, owner, depositor, amount_str "
                                "from raw.escrow_deposits order by 1, 4")
    assert deposits == [(100, TENANT, GRANTER, "2000000"), (100, TENANT, GRANTER2, "3000000"),
                        (110, P1, P1, "500000")]
    flows = _query(world.db, "select block_number, event, amount_str from raw.bme_flows "
                             "order by 1")
    assert flows == [(290, "akt_burned", "700000"), (295, "akt_burned", "1000000"),
                     (296, "akt_reminted", "250000")]


def test_audit_columns_by_slot_and_height(world: World):
    rows = _query(world.db, """
        select network, quarter, block_ranges, coverage_status, reconciliation_status,
            audit_status, quarter_completeness
        from audit.quarter_audits order by network, quarter""")
    sol_q2_last = SOL_Q3_FIRST - 1
    assert rows == [
        ("akash", "2025Q1", "900001:1-117", "pass", "not_applicable", "pass", "partial_start"),
        ("akash", "2025Q2", "900001:118-299", "pass", "not_applicable", "pass", "complete"),
        ("akash", "2025Q3", "900001:300-?", "incomplete", "incomplete", "incomplete", "open"),
        ("ionet", "2025Q1", f"101:0-{SOL_Q2_FIRST - 1}", "pass", "not_applicable", "pass",
         "partial_start"),
        ("ionet", "2025Q2", f"101:{SOL_Q2_FIRST}-{sol_q2_last}", "pass", "not_applicable",
         "pass", "complete"),
        ("ionet", "2025Q3", f"101:{SOL_Q3_FIRST}-?", "incomplete", "incomplete", "incomplete",
         "open"),
        ("render", "2025Q1", f"101:0-{SOL_Q2_FIRST - 1}", "pass", "not_applicable", "pass",
         "partial_start"),
        ("render", "2025Q2", f"101:{SOL_Q2_FIRST}-{sol_q2_last}", "pass", "not_applicable",
         "pass", "complete"),
        ("render", "2025Q3", f"101:{SOL_Q3_FIRST}-?", "incomplete", "incomplete", "incomplete",
         "open"),
    ]
    # the quarterly table carries the same audit columns
    mart = _query(world.db, """
        select distinct network, quarter, coverage_status, reconciliation_status, audit_status,
            quarter_completeness
        from marts.fct_network_revenue_quarterly where network = 'render' order by quarter""")
    assert mart == [
        ("render", "2025Q1", "pass", "not_applicable", "pass", "partial_start"),
        ("render", "2025Q2", "pass", "not_applicable", "pass", "complete"),
        ("render", "2025Q3", "incomplete", "incomplete", "incomplete", "open"),
    ]
    # boundaries: the Solana quarter starts on a skipped slot (no hash); Cosmos hashes are
    # the chain's block_id.hash
    qb = {(r[0], r[1]): r[2:] for r in _query(world.db, """
        select network, quarter, first_block, last_block, first_block_hash, last_block_hash,
            final from audit.quarter_blocks""")}
    assert qb[("render", "2025Q2")] == (SOL_Q2_FIRST, sol_q2_last, None, fake_hash(sol_q2_last),
                                        True)
    assert qb[("akash", "2025Q2")] == (118, 299, block_hash(118), block_hash(299), True)
    checks = {(r[0], r[1], r[2]): (r[3], r[4]) for r in _query(world.db, """
        select network, quarter, check_name, status, detail from audit.coverage_checks""")}
    assert checks[("render", "2025Q2", "contiguity")] == (
        "pass", f"blocks {SOL_Q2_FIRST}-{sol_q2_last} covered by 5 chunks")
    # two boundary hashes for each of the five chunks: chunk 100000-199999 by its produced
    # slots 100001 and 199998
    assert checks[("render", "2025Q2", "boundary_hashes")] == (
        "pass", "10 chunk boundary hashes match the chain")
    assert checks[("akash", "2025Q2", "contiguity")] == (
        "pass", "blocks 118-299 covered by 4 chunks")
    assert checks[("akash", "2025Q3", "boundaries")] == (
        "incomplete", f"2025Q3 has not ended on the chain (head {COSMOS_HEAD}); first block 300")
    recon = _query(world.db, """
        select network, source, status, detail from audit.reconciliations
        where quarter = '2025Q2' order by network, source""")
    assert sorted(r[:3] for r in recon) == [("akash", "escrow", "not_applicable"),
                                            ("ionet", "io-burns", "not_applicable"),
                                            ("render", "render-burns", "not_applicable"),
                                            ("render", "salad-container", "not_applicable"),
                                            ("render", "salad-gateway", "not_applicable")]
    assert "tenant deposits" in recon[0][3] and "getTokenSupply" in recon[2][3]


def test_checkpoint_gap_fails_coverage(world: World, servers):
    """Drop one chunk's checkpoint record (and its files): the audit names the missing slots."""
    lake_root = world.tmp / "gap_lake"
    shutil.copytree(world.lake, lake_root)
    lake = Lake(lake_root)
    cp = lake.load_checkpoint("render", 101)
    cp.chunks = [c for c in cp.chunks if c.start != 200_000]
    lake.save_checkpoint(cp)
    for dataset in ("token_burns", "blocks"):
        lake.chunk_path(dataset, "render", 101, 200_000, 299_999).unlink()
    db = world.tmp / "gap.duckdb"
    prepare_inputs(world.config, lake, db)
    result = audit_warehouse(world.config, lake, db)
    assert result.status("render", "2025Q2") == "fail"
    assert result.status("render", "2025Q1") == "pass"
    assert result.status("akash", "2025Q2") == "pass"
    (row,) = _query(db, """select status, detail from audit.coverage_checks where network =
        'render' and quarter = '2025Q2' and check_name = 'contiguity'""")
    assert row == ("fail", f"blocks not indexed inside 2025Q2: 200000-299999 (quarter needs "
                           f"{SOL_Q2_FIRST}-{SOL_Q3_FIRST - 1})")
    (issues,) = _query(db, "select issues from audit.quarter_audits where network = 'render' "
                           "and quarter = '2025Q2'")
    assert "[solana contiguity] blocks not indexed inside 2025Q2: 200000-299999" in issues[0]


def test_wrong_boundary_hash_fails_against_the_chain(world: World, servers):
    """A Cosmos checkpoint hash the chain does not have fails boundary_hashes."""
    lake_root = world.tmp / "hash_lake"
    shutil.copytree(world.lake, lake_root)
    lake = Lake(lake_root)
    cp = lake.load_checkpoint("akash", 900001)
    rec = next(c for c in cp.chunks if c.start == 150)
    cp.put(type(rec)(rec.start, rec.end, "AB" * 32, rec.end_hash, rec.rows))
    lake.save_checkpoint(cp)
    db = world.tmp / "hash.duckdb"
    prepare_inputs(world.config, lake, db)
    result = audit_warehouse(world.config, lake, db)
    assert result.status("akash", "2025Q2") == "fail"
    (row,) = _query(db, """select status, detail from audit.coverage_checks where network =
        'akash' and quarter = '2025Q2' and check_name = 'boundary_hashes'""")
    assert row[0] == "fail"
    assert row[1] == (f"block 150: blocks dataset {block_hash(150)} != checkpoint {'AB' * 32}; "
                      f"block 150: chain {block_hash(150)} != checkpoint {'AB' * 32}")


def test_dagster_day_partition_of_a_solana_network(servers, tmp_path: Path):
    config_path = write_config(tmp_path / "networks.yaml")
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("network", ["render"])
    result = dg.materialize(
        [index_lake],
        partition_key=network_day_key("render", "2025-04-10"),
        resources={
            "network_config": NetworkConfigResource(path=str(config_path)),
            "lake": LakeResource(uri=str(tmp_path / "lake")),
        },
        instance=instance,
    )
    assert result.success
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks[PARTITION_CHECK].passed, checks[PARTITION_CHECK].description
    # 2025-04-10 is slots 90,720-95,039: the whole grid chunk 0-99,999 is indexed
    cp = Lake(tmp_path / "lake").load_checkpoint("render", 101)
    assert [(c.start, c.end) for c in cp.chunks] == [(0, 99_999)]
    burns = read_dataset(Lake(tmp_path / "lake"), "token_burns", "render").to_pylist()
    assert [(b["block_number"], b["amount_str"]) for b in burns] == [(30_000, "95000000000")]


def test_a_later_range_classifies_refunds_from_the_lakes_depositors(world: World, servers,
                                                                   tmp_path: Path):
    """The granters' deposits (height 100) are in the lake's escrow_deposits: a run indexing
    only the range of the refunds (150 on) reads them there, never re-reading heights 1-149,
    and its lease_payments are the same rows as the single run's."""
    lake = Lake(tmp_path / "lake")
    index_network(world.config, "akash", lake, to_block=149)
    index_network(world.config, "akash", lake)
    got = read_dataset(lake, "lease_payments", "akash").to_pylist()
    want = read_dataset(Lake(world.lake), "lease_payments", "akash").to_pylist()
    assert got == want
    assert {r["tenant"] for r in got if r["event"] == "depositor_refund"} == {GRANTER, GRANTER2}
    # without the earlier range in the lake, the refund's depositors are unknown: the rule
    # needs the deposits, so the same refunds would be read as payments to providers
    alone = Lake(tmp_path / "alone")
    index_network(world.config, "akash", alone, from_block=150)
    rows = read_dataset(alone, "lease_payments", "akash").to_pylist()
    assert not [r for r in rows if r["event"] == "depositor_refund"]


def test_act_is_pegged_at_one_usd_from_its_peg_height(world: World):
    """ACT rows are priced 1 USD by the peg (never unpriced) from the day of the peg height;
    fct_token_prices says the price's origin; days before it have no ACT price."""
    peg_day = "2025-04-17"  # height 150 = 2025-02-01 + 150 x 12 h
    rows = _query(world.db, """
        select cast(price_date as varchar), price_usd, price_source, price_origin
        from marts.fct_token_prices where token = 'act' and price_date
            between date '2025-04-16' and date '2025-04-18' order by 1""")
    assert rows == [("2025-04-16", None, "missing", None), (peg_day, 1, "peg", "peg"),
                    ("2025-04-18", 1, "peg", "peg")]
    events = _query(world.db, """
        select price_usd, price_source, count(*) from marts.fct_revenue_events
        where token = 'act' group by all""")
    assert events == [(1, "peg", 2)]  # the 3,000,000 uact payout: fees and supply side
    (q,) = _query(world.db, """select fees_usd, unpriced_row_count from
        marts.fct_network_revenue_quarterly where network = 'akash' and token = 'act'
        and quarter = '2025Q2'""")
    assert q == (3, 0)
    origins = dict(_query(world.db, """select token, price_origin from marts.fct_token_prices
        where price_date = date '2025-05-12'"""))
    assert origins["akash-usdc"] == "peg"  # a stablecoin: 1 USD by declaration


def test_dagster_events_never_carry_an_rpc_key(servers, tmp_path: Path,
                                               monkeypatch: pytest.MonkeyPatch):
    """A provider URL with its key in the path and query, in a Dagster run that succeeds and
    one that fails (the node unreachable): no event of either run carries the key."""
    key_path = "/v2/SECRETKEY?api-key=SECRET"
    config_path = write_config(tmp_path / "networks.yaml")
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("network", ["render"])
    runs = []
    for url in (os.environ[SOLANA_ENV] + key_path, "http://127.0.0.1:1" + key_path):
        monkeypatch.setenv(SOLANA_ENV, url)
        monkeypatch.setenv("DEPINREV_RPC_RETRIES", "1")
        runs.append(dg.materialize(
            [index_lake],
            partition_key=network_day_key("render", "2025-04-10"),
            resources={
                "network_config": NetworkConfigResource(path=str(config_path)),
                "lake": LakeResource(uri=str(tmp_path / "lake")),
            },
            instance=instance,
            raise_on_error=False,
        ))
    assert [r.success for r in runs] == [True, False]
    texts = ["\n".join(str(e) for e in instance.all_logs(r.run_id)) for r in runs]
    assert "http://127.0.0.1:1" in texts[1]  # the failure names the host, and only the host
    assert not [t for t in texts if "SECRET" in t]
