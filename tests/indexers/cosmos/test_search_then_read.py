"""Cosmos backfills search, then read: on a node with transaction indexing the reader finds
the heights with escrow activity (tx_search, block_search) and reads only those; without an
index it reads every height. The lake is the same, byte for byte (docs/readers.md).

A 20,000-height replay chain (tests/support/cosmos_node.py, the kv indexer's tx_search and
block_search) has escrow activity at 1% of its heights: provider withdrawals, granted
deposits and their refunds, lease creations without a transfer (found by the marker query),
end-block lease closes with payouts (found by block_search), a failed withdrawal.
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from depinrev.config import Config, module_account
from depinrev.lake import Lake
from indexers.dispatch import index_network
from tests.support.cosmos_node import CosmosNode
from tests.support.jsonrpc_server import JsonRpcServer

ENV = "DEPINREV_TEST_COSMOS_SEARCH"
HEIGHTS = 20_000
CHUNK = 5_000
ESCROW = module_account("akash", "escrow")
DISTRIBUTION = module_account("akash", "distribution")
TENANT, PROVIDER, GRANTER = (module_account("akash", n) for n in ("t", "p", "g"))
# heights with activity: 1% of the chain, each kind in turn
ACTIVE = list(range(37, HEIGHTS + 1, 100))


def _ev(type_: str, **attrs: str) -> dict[str, Any]:
    return {"type": type_, "attributes": [{"key": k.replace("_", "-"), "value": v,
                                           "index": True} for k, v in attrs.items()]}


def _transfer(sender: str, recipient: str, amount: str) -> list[dict[str, Any]]:
    return [_ev("coin_spent", spender=sender, amount=amount),
            _ev("coin_received", receiver=recipient, amount=amount),
            _ev("transfer", recipient=recipient, sender=sender, amount=amount)]


def _lease(action: str, dseq: int) -> dict[str, Any]:
    return _ev("akash.v1", module="market", action=action, owner=TENANT, dseq=str(dseq),
               gseq="1", oseq="1", provider=PROVIDER, price_denom="uakt", price_amount="7")


def _results(h: int, kind: int) -> dict[str, Any]:
    txs: list[dict[str, Any]] = [{"code": 0, "events": [_ev("message", action="/x.MsgSend",
                                                            sender=TENANT)]}]
    end: list[dict[str, Any]] = []
    if kind == 0:  # a withdrawal with the take
        txs.append({"code": 0, "events": [
            _ev("message", action="/akash.market.v1beta4.MsgWithdrawLease", sender=PROVIDER),
            *_transfer(ESCROW, PROVIDER, f"{h}uakt"), *_transfer(ESCROW, DISTRIBUTION, "3uakt")]})
    elif kind == 1:  # a granted deposit
        txs.append({"code": 0, "events": [
            _ev("message", action="/akash.deployment.v1beta3.MsgDepositDeployment",
                sender=TENANT), *_transfer(GRANTER, ESCROW, f"{h * 10}uakt")]})
    elif kind == 2:  # a lease created, no transfer: only the marker query finds it
        txs.append({"code": 0, "events": [
            _ev("message", action="/akash.market.v1beta4.MsgCreateLease", sender=TENANT),
            _lease("lease-created", h)]})
    elif kind == 3:  # the EndBlocker closes a lease: payout, refund to the granter
        end = [_lease("lease-closed", h - 300), *_transfer(ESCROW, PROVIDER, f"{h}uakt"),
               *_transfer(ESCROW, GRANTER, "11uakt")]
    else:  # a failed withdrawal: found by the search, read, nothing kept
        txs.append({"code": 5, "log": "out of gas", "events": [
            _ev("message", action="/akash.market.v1beta4.MsgWithdrawLease", sender=PROVIDER),
            *_transfer(ESCROW, PROVIDER, "999uakt")]})
    return {"height": str(h), "txs_results": txs, "begin_block_events": [],
            "end_block_events": end}


def _node(tx_index: bool) -> CosmosNode:
    results = {h: _results(h, i % 5) for i, h in enumerate(ACTIVE)}
    # a busy chain: every other height has an unrelated transaction
    for h in range(2, HEIGHTS + 1, 2):
        results.setdefault(h, {"height": str(h), "txs_results": [
            {"code": 0, "events": [_ev("message", action="/x.MsgSend", sender=TENANT),
                                   *_transfer(TENANT, PROVIDER, "1uakt")]}]})
    return CosmosNode("akashnet-2", results, head=HEIGHTS, tx_index=tx_index)


def _config() -> Config:
    return Config.model_validate({
        "chains": {"akash": {"kind": "cosmos", "chain_id": 900001, "chain_name": "akashnet-2",
                             "bech32_prefix": "akash", "rpc_url_env": ENV, "chunk_size": CHUNK,
                             "concurrency": 8}},
        "tokens": {"akt": {"symbol": "AKT", "decimals": 6, "chain": "akash", "denom": "uakt"}},
        "networks": {"akash": {"display_name": "Akash", "devnet": False, "sources": [
            {"name": "escrow", "kind": "akash_escrow", "chain": "akash", "address": ESCROW,
             "distribution_account": DISTRIBUTION, "start_block": 1, "token": "akt"}]}},
    })


def _files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def _index(tx_index: bool, root: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    with JsonRpcServer(_node(tx_index)) as server:
        monkeypatch.setenv(ENV, server.url)
        index_network(_config(), "akash", Lake(root))
        return dict(server.calls)


def test_search_then_read_gives_the_same_lake_as_reading_every_height(
        tmp_path, monkeypatch, caplog):
    caplog.set_level(logging.WARNING)
    searched = _index(True, tmp_path / "search", monkeypatch)
    every = _index(False, tmp_path / "every", monkeypatch)
    assert "no transaction index" in caplog.text  # the fallback says so
    search_files, every_files = _files(tmp_path / "search"), _files(tmp_path / "every")
    assert search_files == every_files
    # chunks on the grid of CHUNK heights: 1-4999, 5000-9999, ..., 20000-20000
    bounds = [(max(1, s), min(s + CHUNK - 1, HEIGHTS)) for s in range(0, HEIGHTS + 1, CHUNK)]
    assert len([f for f in search_files if f.endswith(".parquet")]) == 4 * len(bounds)
    # the fallback reads every height; the search reads the active ones and the boundaries
    assert every["block_results"] == every["block"] == HEIGHTS
    read = set(ACTIVE) | {h for b in bounds for h in b}
    assert searched["block_results"] == searched["block"] == len(read)
    # at most 3 requests per active height (2 here) plus the search pages: one page per
    # query (escrow as sender and as recipient, 4 lease markers; no BME account here) and
    # method, plus one more per 100 heights a query matches
    queries = 2 + 4
    assert searched["tx_search"] + searched["block_search"] <= 2 * queries + len(ACTIVE) // 100
    assert searched["block"] + searched["block_results"] <= 3 * len(ACTIVE) + 2 * 2 * len(bounds)


def test_doctor_plans_the_search_within_a_quarter_of_the_runs_requests(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from depinrev.cli import app
    from indexers.doctor import doctor

    node = _node(True)
    with JsonRpcServer(node) as server:
        monkeypatch.setenv(ENV, server.url)
        (plan,) = doctor(_config(), "akash")
        assert plan.strategy.startswith("search, then read") and (plan.lo, plan.hi) == (1, HEIGHTS)
        server.calls.clear()
        index_network(_config(), "akash", Lake(tmp_path / "lake"))
        made = sum(n for m, n in server.calls.items() if m != "status")
        assert abs(plan.requests - made) <= 0.25 * made
        # the command prints the plan; a pruned node is refused for a range it lacks
        path = tmp_path / "networks.yaml"
        path.write_text(_config().model_dump_json())
        out = CliRunner().invoke(app, ["doctor", "--network", "akash", "--config", str(path)])
        assert out.exit_code == 0, out.output
        assert "search, then read (tx_index on)" in " ".join(out.output.split())
        node.earliest = 7_000
        # through the executable: the refusal is one line on stderr and exit code 1
        done = subprocess.run(
            [str(Path(sys.executable).parent / "depinrev"), "doctor", "--network", "akash",
             "--config", str(path)], capture_output=True, text=True, timeout=120)
        assert done.returncode == 1 and "Traceback" not in done.stderr
        assert "keeps blocks from 7000 only (pruned), but the range starts at 1" in " ".join(
            done.stderr.split())
    node = _node(False)
    with JsonRpcServer(node) as server:
        monkeypatch.setenv(ENV, server.url)
        (plan,) = doctor(_config(), "akash")
        assert plan.strategy.startswith("every height (tx_index off")
        assert plan.requests == 2 * HEIGHTS
