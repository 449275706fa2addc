"""`depinrev doctor --first-event`: a source's first log found by bisecting eth_getLogs
within the node's range limit (Aethir: AethirCore's first event is its start_block)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from depinrev.cli import app
from depinrev.config import Config
from tests.support.evm_server import EvmServer, Faults, RecordedChain

CORE = "0x226dc7d2aa1f9a565e82faf04772fdbbaf2da42d"
OTHER = "0x000000000000000000000000000000000000dead"
ENV = "DEPINREV_TEST_DOCTOR_EVM"
FIRST = 1_234_567
WINDOW = 100_000


def _log(block: int, address: str) -> dict[str, str | list[str]]:
    return {"address": address, "blockNumber": hex(block), "topics": ["0x" + "11" * 32],
            "data": "0x", "transactionHash": "0x" + f"{block:064x}", "logIndex": "0x0",
            "blockHash": "0x" + "ab" * 32, "transactionIndex": "0x0", "removed": False}


def _config() -> dict:
    return {
        "chains": {"arbitrum": {"chain_id": 42161, "rpc_url_env": ENV, "finality_depth": 240,
                                "max_blocks_per_request": WINDOW}},
        "tokens": {"ath": {"symbol": "ATH", "decimals": 18, "chain": "arbitrum",
                           "address": "0xc87B37a581ec3257B734886d9d3a581F5A9d056c"}},
        "networks": {"aethir": {"display_name": "Aethir", "devnet": False, "sources": [
            {"name": "aethir-core", "kind": "service_fee", "chain": "arbitrum",
             "address": CORE, "start_block": 1_000_000, "token": "ath"}]}},
    }


def test_first_event_is_found_by_bisection_within_the_range_limit(tmp_path, monkeypatch):
    # another contract's log earlier, AethirCore's first and later ones
    logs = [_log(1_100_000, OTHER), _log(FIRST, CORE), _log(FIRST + 1, CORE),
            _log(2_500_000, CORE)]
    chain = RecordedChain(42161, logs, {}, head=3_000_000,
                          faults=Faults(max_block_range=WINDOW))
    path = tmp_path / "networks.yaml"
    path.write_text(Config.model_validate(_config()).model_dump_json())
    with EvmServer(chain) as server:
        monkeypatch.setenv(ENV, server.url)
        out = CliRunner().invoke(app, ["doctor", "--network", "aethir", "--config", str(path),
                                       "--first-event", "aethir-core"])
        assert out.exit_code == 0, out.output
        assert f"aethir/aethir-core: first event at block {FIRST}" in out.output
        # two empty windows (1.0M, 1.1M: another contract's log is not AethirCore's), the one
        # holding it, then 16 or 17 halvings of its 100,000 blocks (log2 100,000 = 16.6)
        assert 2 + 1 + 16 <= server.calls["eth_getLogs"] <= 2 + 1 + 17
        assert chain.faults.counts["range"] == 0  # never wider than the node allows


def test_unknown_source_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "networks.yaml"
    path.write_text(Config.model_validate(_config()).model_dump_json())
    monkeypatch.setenv(ENV, "http://127.0.0.1:9")
    # through the executable: the refusal is one line on stderr and exit code 1
    done = subprocess.run(
        [str(Path(sys.executable).parent / "depinrev"), "doctor", "--network", "aethir",
         "--config", str(path), "--first-event", "nope"], capture_output=True, text=True,
        timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "network aethir has no source 'nope'" in done.stderr


def test_evm_plan_counts_getlogs_windows_and_says_when_the_node_refuses_a_window(monkeypatch):
    """AethirCore from block 1,000,000 to the final block 2,999,760 (head 3,000,000, finality
    240): the reader asks eth_getLogs per chunk, so one window for each of the chain's
    2,000-block chunks (1,000) for its one filter, plus 2 headers per chunk and none for log
    blocks (there are no logs); a node allowing 50,000 blocks is named in the plan."""
    from indexers.doctor import doctor

    chain = RecordedChain(42161, [], {}, head=3_000_000, faults=Faults(max_block_range=50_000))
    with EvmServer(chain) as server:
        monkeypatch.setenv(ENV, server.url)
        (plan,) = doctor(Config.model_validate(_config()), "aethir")
    assert (plan.lo, plan.hi) == (1_000_000, 2_999_760)
    assert plan.requests == 1_000 + 2 * 1_000
    assert any("refused" in n and "lower max_blocks_per_request" in n for n in plan.notes)
