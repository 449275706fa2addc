"""The devnet against real anvil nodes: contracts, addresses, ledger vs chain, identities,
determinism, the cache, stopping and a taken port.

The ledger comes from the simulator's bookkeeping; these tests read the chain with plain
eth_getLogs / eth_call and decode by hand, so they check it independently of the simulator.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_abi import decode
from eth_utils import keccak

from depinrev.config import SourceKind, default_config_path, load_config
from devnet import DevnetError, DevnetState, devnet_down, devnet_up, running_devnet
from devnet.api import pid_alive
from devnet.ledger import ledger_hash, read_ledger
from tests.support.devnet import devnet_ports

from .conftest import SMALL_SCALE, SMALL_SEED

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
ZERO = "0x" + "00" * 20


def rpc(url: str, method: str, *params: Any) -> Any:
    r = httpx.post(
        url, json={"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}, timeout=60
    )
    body = r.json()
    assert "error" not in body, body
    return body["result"]


def t0(sig: str) -> str:
    return "0x" + keccak(text=sig).hex()


TOPICS = {
    t0("Transfer(address,address,uint256)"): "Transfer",
    t0("DepositServiceFee(address,uint64,uint256)"): "DepositServiceFee",
    t0("WithdrawServiceFee(address,uint64,uint256)"): "WithdrawServiceFee",
    t0("LeaseCreated(uint64,address,address,uint256,uint256)"): "LeaseCreated",
    t0("LeaseDeposit(uint64,address,uint256)"): "LeaseDeposit",
    t0("PaymentWithdrawn(uint64,address,uint256,uint256)"): "PaymentWithdrawn",
    t0("LeaseClosed(uint64,address,address)"): "LeaseClosed",
    t0("LeaseRefund(uint64,address,uint256)"): "LeaseRefund",
    t0("AnswerUpdated(int256,uint256,uint256)"): "AnswerUpdated",
}


def topic_addr(t: str) -> str:
    return "0x" + t[-40:]


def topic_int(t: str, signed: bool = False) -> int:
    v = int(t, 16)
    return v - 2**256 if signed and v >= 2**255 else v


def decode_log(kind: SourceKind, log: dict[str, Any]) -> dict[str, Any] | None:
    """Decode a log the way an indexer would, into the ledger's vocabulary; None if not data."""
    name = TOPICS.get(log["topics"][0])
    data = bytes.fromhex(log["data"][2:])
    tp = log["topics"]
    if kind is SourceKind.erc20 and name == "Transfer":
        frm, to = topic_addr(tp[1]), topic_addr(tp[2])
        (value,) = decode(["uint256"], data)
        if frm == ZERO:
            ev = ("token_mints", "mint")
        elif to == ZERO:
            ev = ("token_burns", "burn")
        else:
            return None
        return {
            "dataset": ev[0],
            "event": ev[1],
            "amount": str(value),
            "from_address": frm,
            "to_address": to,
        }
    if kind is SourceKind.service_fee and name in ("DepositServiceFee", "WithdrawServiceFee"):
        nonce, amount = decode(["uint64", "uint256"], data)
        return {
            "dataset": "service_fees",
            "event": "deposit" if name == "DepositServiceFee" else "withdraw",
            "developer": topic_addr(tp[1]),
            "nonce": nonce,
            "amount": str(amount),
        }
    if kind is SourceKind.lease_escrow and name is not None and name.startswith(("Lease", "Pay")):
        out: dict[str, Any] = {"dataset": "lease_payments", "lease_id": topic_int(tp[1])}
        if name == "LeaseCreated":
            price, dep = decode(["uint256", "uint256"], data)
            out.update(
                event="lease_created",
                tenant=topic_addr(tp[2]),
                provider=topic_addr(tp[3]),
                price_per_block=str(price),
                amount=str(dep),
            )
        elif name == "LeaseDeposit":
            (amount,) = decode(["uint256"], data)
            out.update(event="deposit", tenant=topic_addr(tp[2]), amount=str(amount))
        elif name == "PaymentWithdrawn":
            prov, take = decode(["uint256", "uint256"], data)
            out.update(
                event="payment_withdrawn",
                provider=topic_addr(tp[2]),
                amount=str(prov),
                take_amount=str(take),
            )
        elif name == "LeaseClosed":
            out.update(event="lease_closed", tenant=topic_addr(tp[2]), provider=topic_addr(tp[3]))
        elif name == "LeaseRefund":
            (amount,) = decode(["uint256"], data)
            out.update(event="refund", tenant=topic_addr(tp[2]), amount=str(amount))
        return out
    if kind is SourceKind.price_feed and name == "AnswerUpdated":
        (updated_at,) = decode(["uint256"], data)
        answer = topic_int(tp[1], signed=True)
        return {
            "dataset": "token_prices",
            "event": "answer_updated",
            "amount": str(answer),
            "answer": str(answer),
            "round_id": topic_int(tp[2]),
            "updated_at": updated_at,
        }
    return None


@pytest.fixture(scope="module")
def ledger(small_devnet: DevnetState) -> list[dict[str, Any]]:
    return read_ledger(Path(small_devnet.ledger_path))


@pytest.fixture(scope="module")
def summary(small_devnet: DevnetState) -> dict[str, Any]:
    return json.loads(Path(small_devnet.summary_path).read_text())


def test_artifacts_match_sources(tmp_path: Path) -> None:
    subprocess.run(
        ["node", str(REPO / "contracts" / "build.mjs"), "--out", str(tmp_path)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    committed = sorted(p.name for p in (REPO / "contracts" / "build").glob("*.json"))
    rebuilt = sorted(p.name for p in tmp_path.glob("*.json"))
    assert (
        committed
        == rebuilt
        == ["DevToken.json", "FeeRecorder.json", "LeaseEscrow.json", "PriceFeed.json",
            "ServiceFee.json"]
    )
    for name in committed:
        assert (tmp_path / name).read_bytes() == (REPO / "contracts" / "build" / name).read_bytes()


def test_deployed_addresses_equal_config(small_devnet: DevnetState) -> None:
    config = load_config(default_config_path())
    for net in config.networks.values():
        for src in net.sources:
            url = small_devnet.chains[src.chain].rpc_url
            assert (
                small_devnet.addresses[src.name if src.kind is not SourceKind.erc20 else src.token]
                == src.address
            )
            assert rpc(url, "eth_getCode", src.address, "latest") not in ("0x", "0x0")
    for key, tok in config.tokens.items():
        assert tok.address == small_devnet.addresses[key]
        assert (
            rpc(small_devnet.chains[tok.chain].rpc_url, "eth_getCode", tok.address, "latest")
            != "0x"
        )
    # Distinct across chains: an address alone names one contract.
    assert len(set(small_devnet.addresses.values())) == len(small_devnet.addresses)


def test_ledger_matches_chain_logs(small_devnet: DevnetState, ledger: list[dict[str, Any]]) -> None:
    config = load_config(default_config_path())
    assert ledger == sorted(
        ledger, key=lambda r: (r["chain_id"], r["block_number"], r["log_index"])
    )
    expected = {(r["chain_id"], r["block_number"], r["log_index"]): r for r in ledger}
    assert len(expected) == len(ledger)
    seen = 0
    for cname, chain in small_devnet.chains.items():
        sources = {
            s.address: (n, s)
            for n, net in config.networks.items()
            for s in net.sources
            if s.chain == cname
        }
        logs = []
        for lo in range(0, chain.head_block + 1, 500):
            hi = min(chain.head_block, lo + 499)
            logs += rpc(
                chain.rpc_url,
                "eth_getLogs",
                {"fromBlock": hex(lo), "toBlock": hex(hi), "address": sorted(sources)},
            )
        stamps: list[tuple[dict[str, Any], int]] = []
        for log in logs:
            network, src = sources[log["address"]]
            decoded = decode_log(src.kind, log)
            if decoded is None:
                continue
            bn, li = int(log["blockNumber"], 16), int(log["logIndex"], 16)
            key = (chain.chain_id, bn, li)
            assert key in expected, f"chain log {key} {decoded} is missing from the ledger"
            row = expected[key]
            assert row["transaction_hash"] == log["transactionHash"]
            assert row["contract"] == log["address"]
            assert row["network"] == network and row["token"] == src.token
            for k, v in decoded.items():
                assert row[k] == v, (key, k, row[k], v)
            stamps.append((row, bn))
            seen += 1
        wanted = sorted({bn for _, bn in stamps})
        body = [
            {
                "jsonrpc": "2.0",
                "id": i,
                "method": "eth_getBlockByNumber",
                "params": [hex(bn), False],
            }
            for i, bn in enumerate(wanted)
        ]
        got = httpx.post(chain.rpc_url, json=body, timeout=120).json()
        ts = {int(b["result"]["number"], 16): int(b["result"]["timestamp"], 16) for b in got}
        for row, bn in stamps:
            assert row["block_timestamp"] == ts[bn]
    assert seen == len(ledger), "every ledger row must be a log on chain"


def test_identities_at_head(
    small_devnet: DevnetState, ledger: list[dict[str, Any]], summary: dict[str, Any]
) -> None:
    config = load_config(default_config_path())

    def call(url: str, to: str, sig: str, arg: str | None = None) -> int:
        data = "0x" + keccak(text=sig)[:4].hex() + ("" if arg is None else arg[2:].rjust(64, "0"))
        return int(rpc(url, "eth_call", {"to": to, "data": data}, "latest"), 16)

    flows: dict[str, int] = defaultdict(int)
    for r in ledger:
        if r["dataset"] == "lease_payments" and r["amount"] is not None:
            sign = 1 if r["event"] in ("lease_created", "deposit") else -1
            flows[r["contract"]] += sign * int(r["amount"])
            flows[r["contract"]] -= int(r["take_amount"] or 0)
        if r["dataset"] == "service_fees":
            flows[r["contract"]] += (1 if r["event"] == "deposit" else -1) * int(r["amount"])
    for cname, chain in small_devnet.chains.items():
        expect = summary["chains"][cname]
        for tok_key, supply in expect["token_total_supply"].items():
            tok = config.tokens[tok_key]
            assert call(chain.rpc_url, tok.address, "totalSupply()") == int(supply)
        for kind in ("escrow_balances", "service_fee_balances"):
            for name, e in expect[kind].items():
                tok = config.tokens[e["token"]]
                onchain = call(chain.rpc_url, tok.address, "balanceOf(address)", e["address"])
                assert onchain == int(e["balance"]) == flows[e["address"]], name
    # Supply = mints - burns, for every token the ledger tracks.
    net_supply: dict[str, int] = defaultdict(int)
    for r in ledger:
        if r["dataset"] in ("token_mints", "token_burns"):
            net_supply[r["token"]] += int(r["amount"]) * (1 if r["event"] == "mint" else -1)
    for tok_key, supply in net_supply.items():
        chain = config.tokens[tok_key].chain
        assert str(supply) == summary["chains"][chain]["token_total_supply"][tok_key]


def test_every_quarter_present(summary: dict[str, Any], ledger: list[dict[str, Any]]) -> None:
    quarters = ["2025Q1", "2025Q2", "2025Q3", "2025Q4"]
    for network in ("akash-devnet", "render-devnet", "aethir-devnet", "ionet-devnet"):
        assert sorted(summary["networks"][network]) == quarters, network
    assert all(1_735_689_600 <= r["block_timestamp"] < 1_767_225_600 for r in ledger)
    prices = [r for r in ledger if r["dataset"] == "token_prices"]
    assert len(prices) == 4 * 365
    events = {(r["dataset"], r["event"]) for r in ledger}
    assert {
        ("lease_payments", e)
        for e in ("lease_created", "deposit", "payment_withdrawn", "lease_closed", "refund")
    } <= events
    assert {
        ("service_fees", "deposit"),
        ("service_fees", "withdraw"),
        ("token_burns", "burn"),
        ("token_mints", "mint"),
    } <= events


def test_finality_tail(small_devnet: DevnetState, ledger: list[dict[str, Any]]) -> None:
    for chain in small_devnet.chains.values():
        last = max(r["block_number"] for r in ledger if r["chain_id"] == chain.chain_id)
        assert chain.head_block - last > chain.finality_depth


def test_determinism_cache_and_down(small_devnet: DevnetState, tmp_path: Path) -> None:
    data_dir = tmp_path / "again"
    other_rpc_env = devnet_ports("other")  # picked now, not at collection (see devnet_ports)
    with running_devnet(
        default_config_path(),
        data_dir,
        seed=SMALL_SEED,
        scale=SMALL_SCALE,
        rpc_env=other_rpc_env,
        use_cache=True,
    ) as fresh:
        assert fresh.source == "replay"
        assert ledger_hash(Path(fresh.ledger_path)) == ledger_hash(Path(small_devnet.ledger_path))
        assert {c: s.head_hash for c, s in fresh.chains.items()} == {
            c: s.head_hash for c, s in small_devnet.chains.items()
        }
        pids = [c.pid for c in fresh.chains.values()]
    assert not any(pid_alive(p) for p in pids), "down must stop the nodes"
    assert devnet_down(data_dir) == []  # idempotent

    with running_devnet(
        default_config_path(),
        data_dir,
        seed=SMALL_SEED,
        scale=SMALL_SCALE,
        rpc_env=other_rpc_env,
        use_cache=True,
    ) as cached:
        assert cached.source == "cache"
        assert ledger_hash(Path(cached.ledger_path)) == ledger_hash(Path(small_devnet.ledger_path))
        for cname, chain in cached.chains.items():
            ref = small_devnet.chains[cname]
            assert chain.head_block == ref.head_block
            for n in (1, ref.head_block // 2, ref.head_block):
                a = rpc(chain.rpc_url, "eth_getBlockByNumber", hex(n), False)["hash"]
                b = rpc(ref.rpc_url, "eth_getBlockByNumber", hex(n), False)["hash"]
                assert a == b
            q = {"fromBlock": "0x0", "toBlock": hex(ref.head_block)}
            assert rpc(chain.rpc_url, "eth_getLogs", q) == rpc(ref.rpc_url, "eth_getLogs", q)
    shutil.rmtree(data_dir / "cache")


def test_taken_port_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        port = blocker.getsockname()[1]
        monkeypatch.setenv("DEPINREV_RPC_ETHEREUM_DEVNET", f"http://127.0.0.1:{port}")
        monkeypatch.setenv("DEPINREV_RPC_ARBITRUM_DEVNET", "http://127.0.0.1:17550")
        with pytest.raises(DevnetError, match=rf"port {port} is already taken"):
            devnet_up(default_config_path(), tmp_path, scale=SMALL_SCALE)
    assert not (tmp_path / "state.json").exists()


def test_running_node_with_other_chain_id_is_refused(
    small_devnet: DevnetState, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Point the arbitrum chain at the running ethereum node: chain id 1337, not 412346.
    monkeypatch.setenv("DEPINREV_RPC_ETHEREUM_DEVNET", "http://127.0.0.1:17551")
    monkeypatch.setenv(
        "DEPINREV_RPC_ARBITRUM_DEVNET", small_devnet.chains["ethereum-devnet"].rpc_url
    )
    with pytest.raises(DevnetError, match="answers with chain id 1337"):
        devnet_up(default_config_path(), tmp_path, scale=SMALL_SCALE)
