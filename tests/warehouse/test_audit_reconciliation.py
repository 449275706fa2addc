"""Declared reconciliation on a small real anvil chain: total_supply, balance_of,
second_endpoint and none, a lying provider, and tampered lake files.

One anvil chain is built here (a few dozen transactions): a DevToken, a LeaseEscrow, a custodial
ServiceFee ("vault") and a FeeRecorder that records the same service-fee events but never holds
the tokens (deposits go to a treasury, withdrawals are paid by it). It is indexed twice, once
honestly and once through a proxy that blanks eth_getLogs for one chunk, and audited without dbt
(prepare_inputs + audit_warehouse). The expected amounts come from the transactions this module
sent (its own ledger), never from the code under test.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from depinrev.config import Config, load_config
from depinrev.lake import Lake
from devnet.abi import calldata, load_artifact
from devnet.api import start_anvil, stop_pid
from devnet.chain import DEPLOY_GAS, ChainSender, Tx
from devnet.rpc import Rpc
from indexers.dispatch import index_network
from tests.support.lake_edit import rewrite_amount
from tests.support.lying_proxy import LyingProxy
from warehouse.build import audit_warehouse, prepare_inputs

pytestmark = pytest.mark.integration

CHAIN_ID = 31337
CHUNK = 8
BLANK = (16, 23)  # the chunk the lying provider returns no logs for (inside 2025Q1)
Q1, Q2, Q3 = 1_735_689_600, 1_743_465_600, 1_751_328_000
DAY = 86_400
RPC_ENV = "DEPINREV_RPC_RECON_TEST"
SECOND_ENV = "DEPINREV_RPC_RECON_TEST_SECOND"
NONE_REASON = "the recorder holds no funds and no second provider is configured"
BIG = 10**24
MAX = 2**256 - 1


@dataclass
class Flow:
    """A flow of a source this module caused, with the amount it chose (sign: + in, - out)."""

    block: int
    source: str
    event: str
    amount: int | None  # None: decided by the contract (escrow settlement), not by the test
    sign: int


@dataclass
class Chain:
    url: str
    addresses: dict[str, str]
    flows: list[Flow] = field(default_factory=list)
    quarters: dict[str, tuple[int, int]] = field(default_factory=dict)

    def net(self, source: str, lo: int, hi: int) -> int:
        got = [f for f in self.flows if f.source == source and lo <= f.block <= hi]
        assert all(f.amount is not None for f in got), (source, lo, hi)
        return sum(f.sign * f.amount for f in got if f.amount is not None)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Builder:
    def __init__(self, rpc: Rpc, chain: Chain) -> None:
        self.rpc = rpc
        self.chain = chain
        self.sender = ChainSender(rpc, "testchain", CHAIN_ID)
        self.pending: list[tuple[str, str, int | None, int]] = []

    def call(self, who: str, to: str, sig: str, *args: Any,
             flow: tuple[str, str, int | None, int] | None = None) -> None:
        self.sender.add(Tx(who, to, calldata(sig, *args), []))
        if flow is not None:
            self.pending.append(flow)

    def mine(self, ts: int) -> list[dict[str, Any]]:
        block = self.sender.mine(ts)
        receipts = [self.rpc.call("eth_getTransactionReceipt", h) for h in block.tx_hashes]
        bad = [r for r in receipts if r is None or int(r["status"], 16) != 1]
        assert not bad, bad
        for source, event, amount, sign in self.pending:
            self.chain.flows.append(Flow(block.number, source, event, amount, sign))
        self.pending = []
        return receipts


def _build_chain(url: str) -> Chain:
    chain = Chain(url, {})
    with Rpc(url) as rpc:
        acc = [a.lower() for a in rpc.call("eth_accounts")]
        rpc.call("evm_setAutomine", False)  # one block per `mine`, at the time given
        deployer, treasury, pool = acc[0], acc[1], acc[2]
        tenants, providers, devs = acc[3:5], acc[5:7], acc[7:9]
        b = _Builder(rpc, chain)
        b.sender.add(Tx(deployer, None, load_artifact("DevToken").deploy_data("Test", "TT", 18),
                        [], gas=DEPLOY_GAS))
        token = b.mine(Q1 + 3600)[0]["contractAddress"].lower()
        for name, args in (("LeaseEscrow", (token, pool, 1000)), ("ServiceFee", (token,)),
                           ("FeeRecorder", (token, treasury))):
            b.sender.add(Tx(deployer, None, load_artifact(name).deploy_data(*args), [],
                            gas=DEPLOY_GAS))
        escrow, vault, recorder = (r["contractAddress"].lower() for r in b.mine(Q1 + 7200))
        chain.addresses = {"token": token, "escrow": escrow, "vault": vault,
                           "recorder": recorder}
        for holder in (*tenants, *devs, treasury):
            b.call(deployer, token, "mint(address,uint256)", holder, BIG,
                   flow=("tt-token", "mint", BIG, 1))
        for t in tenants:
            b.call(t, token, "approve(address,uint256)", escrow, MAX)
        for d in devs:
            b.call(d, token, "approve(address,uint256)", vault, MAX)
            b.call(d, token, "approve(address,uint256)", recorder, MAX)
        b.call(treasury, token, "approve(address,uint256)", recorder, MAX)
        b.mine(Q1 + 3 * 3600)
        leases: list[tuple[int, str, str]] = []
        q1_blocks, q2_blocks = 27, 20
        for i in range(q1_blocks + q2_blocks):
            in_q1 = i < q1_blocks
            ts = Q1 + (i + 1) * 2 * DAY if in_q1 else Q2 + (i - q1_blocks + 1) * 2 * DAY
            dev, tenant, provider = devs[i % 2], tenants[i % 2], providers[i % 2]
            b.call(deployer, token, "mint(address,uint256)", treasury, 1000 * (i + 1),
                   flow=("tt-token", "mint", 1000 * (i + 1), 1))
            b.call(dev, token, "burn(uint256)", 10 * (i + 1),
                   flow=("tt-token", "burn", 10 * (i + 1), -1))
            b.call(dev, vault, "depositServiceFee(uint256)", 2000 + i,
                   flow=("vault", "deposit", 2000 + i, 1))
            b.call(dev, recorder, "depositServiceFee(uint256)", 1000 + i,
                   flow=("recorder", "deposit", 1000 + i, 1))
            if i % 3 == 2:
                b.call(dev, vault, "withdrawServiceFee(uint256)", 500 + i,
                       flow=("vault", "withdraw", 500 + i, -1))
                b.call(dev, recorder, "withdrawServiceFee(uint256)", 300 + i,
                       flow=("recorder", "withdraw", 300 + i, -1))
            if i % 4 == 0:
                b.call(tenant, escrow, "createLease(address,uint256,uint256)", provider, 7,
                       50_000 + i, flow=("escrow", "lease_created", 50_000 + i, 1))
                leases.append((len(leases) + 1, tenant, provider))
            elif i % 4 == 1:
                lease, owner, _ = leases[-1]
                b.call(owner, escrow, "deposit(uint64,uint256)", lease, 3000 + i,
                       flow=("escrow", "deposit", 3000 + i, 1))
            elif not in_q1 and i % 4 == 3:
                # settlements: the contract decides the amounts (payout, take, refund)
                lease, owner, prov = leases[(i // 4) % len(leases)]
                b.call(prov, escrow, "withdraw(uint64)", lease,
                       flow=("escrow", "payment_withdrawn", None, -1))
                if i % 8 == 7:
                    b.call(owner, escrow, "closeLease(uint64)", lease,
                           flow=("escrow", "refund", None, -1))
            b.mine(ts)
        for k in range(4):
            b.mine(Q3 + (k + 1) * DAY)
        rpc.call("evm_setAutomine", True)
        blocks = [(n, int(rpc.call("eth_getBlockByNumber", hex(n), False)["timestamp"], 16))
                  for n in range(1, b.sender.head + 1)]
    for label, lo, hi in (("2025Q1", Q1, Q2), ("2025Q2", Q2, Q3)):
        ns = [n for n, ts in blocks if lo <= ts < hi]
        chain.quarters[label] = (min(ns), max(ns))
    return chain


def _config_text(addresses: dict[str, str], recorder: str) -> str:
    a = addresses
    return f"""
version: 1
chains:
  testchain: {{chain_id: {CHAIN_ID}, rpc_url_env: {RPC_ENV}, finality_depth: 2,
              chunk_size: {CHUNK}}}
tokens:
  tt: {{symbol: TT, decimals: 18, chain: testchain, address: "{a['token']}"}}
networks:
  feesnet:
    display_name: Fees test
    devnet: true
    sources:
      - {{name: tt-token, kind: erc20, chain: testchain, address: "{a['token']}", start_block: 1,
         token: tt}}
      - {{name: escrow, kind: lease_escrow, chain: testchain, address: "{a['escrow']}",
         start_block: 1, token: tt}}
      - {{name: vault, kind: service_fee, chain: testchain, address: "{a['vault']}",
         start_block: 1, token: tt}}
      - {{name: recorder, kind: service_fee, chain: testchain, address: "{a['recorder']}",
         start_block: 1, token: tt, reconciliation: {recorder}}}
"""


SECOND = f"{{method: second_endpoint, rpc_url_env: {SECOND_ENV}}}"


@dataclass
class World:
    root: Path
    chain: Chain
    honest: Path  # lake indexed from the node itself
    lying: Path  # lake indexed through the lying proxy
    blanked_logs: int

    def config(self, recorder: str = SECOND, name: str = "second") -> Config:
        path = self.root / f"config-{name}.yaml"
        path.write_text(_config_text(self.chain.addresses, recorder))
        return load_config(path)

    def audit(self, lake: Path, config: Config, name: str) -> dict[tuple[str, str], dict[str, Any]]:
        """Audit `lake` with `config` (no dbt); reconciliation rows by (source, quarter)."""
        db = self.root / f"{name}.duckdb"
        prepare_inputs(config, Lake(lake), db)
        audit_warehouse(config, Lake(lake), db)
        with duckdb.connect(str(db), read_only=True) as con:
            cur = con.execute("select * from audit.reconciliations")
            cols = [d[0] for d in cur.description]
            rows = [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
        return {(r["source"], r["quarter"]): r for r in rows}


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("recon")
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    (root / "anvil").mkdir()
    pid, _ = start_anvil("testchain", port, CHAIN_ID, root / "anvil", None)
    try:
        chain = _build_chain(url)
        w = World(root, chain, root / "honest", root / "lying", 0)
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv(SECOND_ENV, url)
            mp.setenv(RPC_ENV, url)
            config = w.config()
            honest = index_network(config, "feesnet", w.honest)
            with LyingProxy(url, BLANK) as proxy:
                mp.setenv(RPC_ENV, proxy.url)
                lying = index_network(config, "feesnet", w.lying)
                w.blanked_logs = proxy.forwarder.blanked_logs
            # index time saw nothing wrong: the same chunks written and checkpointed
            assert [sorted(c.written) for c in lying.chains] == [
                sorted(c.written) for c in honest.chains]
            mp.setenv(RPC_ENV, url)
            yield w
    finally:
        stop_pid(pid)


def _quarters(rows: dict[tuple[str, str], dict[str, Any]], source: str) -> dict[str, Any]:
    return {q: r for (s, q), r in rows.items() if s == source and q in ("2025Q1", "2025Q2")}


# --- an honest lake: each declared method --------------------------------------------------------
def test_fee_recorder_without_custody_passes_by_second_endpoint(world: World) -> None:
    rows = world.audit(world.honest, world.config(), "honest-second")
    for source, method in (("tt-token", "total_supply"), ("escrow", "balance_of"),
                           ("vault", "balance_of"), ("recorder", "second_endpoint")):
        got = _quarters(rows, source)
        assert set(got) == {"2025Q1", "2025Q2"}, (source, sorted(rows))
        for q, r in got.items():
            assert (r["method"], r["status"]) == (method, "pass"), (source, q, r["detail"])
    for q, (lo, hi) in world.chain.quarters.items():
        r = rows[("recorder", q)]
        net = world.chain.net("recorder", lo, hi)
        assert net > 0
        assert (r["chain_change"], r["lake_change"], r["difference"]) == (str(net), str(net), "0")
        assert "have the same row digests" in r["detail"], r["detail"]


def test_fee_recorder_declared_none_is_not_applicable_with_its_reason(world: World) -> None:
    config = world.config(f"{{method: none, reason: '{NONE_REASON}'}}", "none")
    rows = world.audit(world.honest, config, "honest-none")
    for q, r in _quarters(rows, "recorder").items():
        assert (r["method"], r["status"]) == ("none", "not_applicable"), (q, r)
        assert NONE_REASON in r["detail"]
    with duckdb.connect(str(world.root / "honest-none.duckdb"), read_only=True) as con:
        got = con.execute("select quarter, reconciliation_status, audit_status from "
                          "audit.quarter_audits where quarter in ('2025Q1', '2025Q2') "
                          "order by 1").fetchall()
    # the other sources pass, so the quarter passes; not_applicable never reads as a pass row
    assert got == [("2025Q1", "pass", "pass"), ("2025Q2", "pass", "pass")]


def test_fee_recorder_declared_balance_of_fails_with_the_numbers(world: World) -> None:
    config = world.config("{method: balance_of}", "balance")
    rows = world.audit(world.honest, config, "honest-balance")
    recorder = world.chain.addresses["recorder"]
    for q, (lo, hi) in world.chain.quarters.items():
        r = rows[("recorder", q)]
        net = world.chain.net("recorder", lo, hi)
        assert (r["method"], r["status"]) == ("balance_of", "fail"), r
        # the recorder never holds a token: its balance does not move with its events
        assert (r["chain_change"], r["lake_change"], r["difference"]) == ("0", str(net),
                                                                        str(-net))
        assert f"balanceOf({recorder})" in r["detail"]
        assert f"difference {-net}" in r["detail"], r["detail"]


# --- a lying provider: invisible at index time, caught by every method ---------------------------
def test_lying_provider_fails_the_audit_with_the_missing_amount(world: World) -> None:
    assert world.blanked_logs > 0
    lo, hi = BLANK
    q1_lo, q1_hi = world.chain.quarters["2025Q1"]
    assert q1_lo <= lo and hi <= q1_hi
    rows = world.audit(world.lying, world.config(), "lying")
    with duckdb.connect(str(world.root / "lying.duckdb"), read_only=True) as con:
        checks = con.execute("select distinct status from audit.coverage_checks "
                             "where quarter = '2025Q1'").fetchall()
    assert checks == [("pass",)]  # same chunks, files and hashes: coverage cannot see it
    for source in ("tt-token", "escrow", "vault", "recorder"):
        missing = world.chain.net(source, lo, hi)
        assert missing != 0, source
        r = rows[(source, "2025Q1")]
        assert r["status"] == "fail", (source, r["detail"])
        assert r["difference"] == str(missing), (source, r)
        assert rows[(source, "2025Q2")]["status"] == "pass", source
    r = rows[("recorder", "2025Q1")]
    n = sum(1 for f in world.chain.flows if f.source == "recorder" and lo <= f.block <= hi)
    assert f"chunk {lo}-{hi} service_fees: lake 0 rows" in r["detail"], r["detail"]
    assert f"second endpoint {n} rows" in r["detail"], r["detail"]


# --- tampered lake files: escrow and service fees ------------------------------------------------
def _row_of(path: Path, source: str, events: tuple[str, ...]) -> int | None:
    t = pq.read_table(path).to_pylist()
    return next((i for i, r in enumerate(t) if r["source"] == source and r["event"] in events),
                None)


@pytest.fixture(scope="module")
def tampered(world: World) -> tuple[dict[tuple[str, str], dict[str, Any]], dict[str, str], int]:
    """A copy of the honest lake with one amount of escrow, vault and recorder raised by 777."""
    lake = world.root / "tampered"
    shutil.copytree(world.honest, lake)
    delta = 777
    quarter_of: dict[str, str] = {}
    for source, dataset, events in (("escrow", "lease_payments", ("lease_created", "deposit")),
                                    ("vault", "service_fees", ("deposit",)),
                                    ("recorder", "service_fees", ("deposit",))):
        for c in Lake(lake).chunk_files(dataset, "feesnet"):
            row = _row_of(c.path, source, events)
            if row is not None:
                block = pq.read_table(c.path).column("block_number")[row].as_py()
                rewrite_amount(c.path, row, delta)
                quarter_of[source] = next(q for q, (lo, hi) in world.chain.quarters.items()
                                          if lo <= block <= hi)
                break
    assert set(quarter_of) == {"escrow", "vault", "recorder"}
    return world.audit(lake, world.config(), "tampered"), quarter_of, delta


def test_tampered_escrow_amount_fails_with_the_difference(
    tampered: tuple[dict[tuple[str, str], dict[str, Any]], dict[str, str], int],
) -> None:
    rows, quarter_of, delta = tampered
    q = quarter_of["escrow"]
    r = rows[("escrow", q)]
    assert r["status"] == "fail", r
    assert r["difference"] == str(-delta)
    assert f"difference {-delta}" in r["detail"], r["detail"]
    assert rows[("tt-token", q)]["status"] == "pass"


def test_tampered_service_fee_amount_fails_with_the_difference(
    tampered: tuple[dict[tuple[str, str], dict[str, Any]], dict[str, str], int], world: World
) -> None:
    rows, quarter_of, delta = tampered
    vault = rows[("vault", quarter_of["vault"])]
    assert (vault["method"], vault["status"], vault["difference"]) == (
        "balance_of", "fail", str(-delta)), vault
    lo, hi = world.chain.quarters[quarter_of["recorder"]]
    rec = rows[("recorder", quarter_of["recorder"])]
    net = world.chain.net("recorder", lo, hi)
    # the same rows, one amount changed: equal row counts, different digests
    assert (rec["method"], rec["status"]) == ("second_endpoint", "fail"), rec
    assert (rec["chain_change"], rec["lake_change"], rec["difference"]) == (
        str(net), str(net + delta), str(-delta))
    assert "1 of " in rec["detail"] and "chunks differ" in rec["detail"], rec["detail"]


def test_unusable_second_endpoint_is_an_error_never_a_pass(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECOND_ENV, raising=False)
    rows = world.audit(world.honest, world.config(), "no-second")
    for q, r in _quarters(rows, "recorder").items():
        assert (r["method"], r["status"]) == ("second_endpoint", "error"), (q, r)
        assert f"environment variable {SECOND_ENV} is not set" in r["detail"], r["detail"]
    with duckdb.connect(str(world.root / "no-second.duckdb"), read_only=True) as con:
        got = con.execute("select distinct audit_status from audit.quarter_audits "
                          "where quarter in ('2025Q1', '2025Q2')").fetchall()
    assert got == [("error",)]
