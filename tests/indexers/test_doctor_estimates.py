"""`depinrev doctor` estimates an EVM backfill's requests within 25% of what the run then
makes, on a real node (anvil, behind a counting proxy); and it probes what a provider limits:
the eth_getLogs block range, the logs of one answer, and the rate (docs/readers.md, "doctor").

(Solana's and Cosmos's estimates are compared with their runs in
tests/indexers/solana/test_seek_then_page.py and tests/indexers/cosmos/test_search_then_read.py.)
"""

from __future__ import annotations

import pytest

from depinrev.config import load_config
from depinrev.lake import Lake
from indexers.dispatch import index_network
from tests.support.anvil_chain import config_yaml, small_chain
from tests.support.evm_server import EvmServer, Faults, RecordedChain
from tests.support.lying_proxy import CountingProxy

ENV = "DEPINREV_TEST_DOCTOR_ANVIL"
ENV_RECORDED = "DEPINREV_TEST_DOCTOR_LIMITS"
CORE = "0x226dc7d2aa1f9a565e82faf04772fdbbaf2da42d"


def test_evm_estimate_is_within_a_quarter_of_the_runs_requests_on_anvil(tmp_path, monkeypatch):
    """120 mints and burns over 400 blocks, chunks of 100: the run's getLogs windows (two
    filters, mints and burns, per chunk), its chunk-end headers and a header per block holding
    a log; doctor reads three windows for the density of such blocks and counts the rest."""
    from indexers.doctor import doctor

    with small_chain(tmp_path / "anvil", n_events=120, blocks=400) as chain:
        path = tmp_path / "evm.yaml"
        path.write_text(config_yaml(chain.token, ENV))
        config = load_config(path)
        with CountingProxy(chain.url) as proxy:
            monkeypatch.setenv(ENV, proxy.url)
            (plan,) = doctor(config, "fault-net")
            assert plan.strategy == "eth_getLogs in windows of 100 blocks, 2 filter(s)"
            assert any("result limit: none met" in n for n in plan.notes), plan.notes
            proxy.calls.clear()
            index_network(config, "fault-net", Lake(tmp_path / "lake"))
            made = sum(n for m, n in proxy.calls.items() if m != "eth_chainId")
    blocks_with_logs = len({b for b, _, _ in chain.events if b <= plan.hi})
    # the run: at least a header per block holding a log, and the estimate near its count
    assert made >= blocks_with_logs
    assert abs(plan.requests - made) <= 0.25 * made, (plan.requests, made, proxy.calls)


def _log(block: int) -> dict[str, object]:
    return {"address": CORE, "blockNumber": hex(block), "topics": ["0x" + "11" * 32],
            "data": "0x", "transactionHash": "0x" + f"{block:064x}", "logIndex": "0x0",
            "blockHash": "0x" + "ab" * 32, "transactionIndex": "0x0", "removed": False}


def _aethir_config(start: int, window: int) -> dict[str, object]:
    return {
        "chains": {"arbitrum": {"chain_id": 42161, "rpc_url_env": ENV_RECORDED,
                                "finality_depth": 240, "max_blocks_per_request": window}},
        "tokens": {"ath": {"symbol": "ATH", "decimals": 18, "chain": "arbitrum",
                           "address": "0xc87B37a581ec3257B734886d9d3a581F5A9d056c"}},
        "networks": {"aethir": {"display_name": "Aethir", "devnet": False, "sources": [
            {"name": "aethir-core", "kind": "service_fee", "chain": "arbitrum",
             "address": CORE, "start_block": start, "token": "ath"}]}},
    }


@pytest.mark.parametrize(("max_range", "max_results", "range_note", "result_note"), [
    (None, 5, "100000 blocks answered (max_blocks_per_request)",
     "result limit: 5 logs an answer (query returned more than 5 results)"),
    (30_000, None, "refused (block range too large: max is 30000); 25000 blocks answered: "
     "lower max_blocks_per_request to 25000", "result limit: none met (12 logs answered"),
])
def test_doctor_probes_the_getlogs_range_and_result_limits_and_rate_limiting(
        monkeypatch, max_range, max_results, range_note, result_note):
    """A provider capping an answer at 5 logs is named with its cap; one capping the range at
    30,000 blocks is found by halving the configured 100,000 (50,000 refused, 25,000
    answered); the first 3 requests rate-limited (HTTP 429) are reported as seen."""
    from depinrev.config import Config
    from indexers.doctor import doctor

    # 12 logs in the last 100,000 blocks below the final block (2,999,760)
    logs = [_log(2_999_000 - 2_000 * i) for i in range(12)]
    chain = RecordedChain(42161, logs, {}, head=3_000_000,
                          faults=Faults(max_block_range=max_range, max_results=max_results,
                                        rate_limit_first=3))
    monkeypatch.setenv("DEPINREV_RPC_BACKOFF", "0.001")
    with EvmServer(chain) as server:
        monkeypatch.setenv(ENV_RECORDED, server.url)
        (plan,) = doctor(Config.model_validate(_aethir_config(2_800_000, 100_000)), "aethir")
    text = " | ".join(plan.notes)
    assert range_note in text and result_note in text, text
    assert "rate limiting seen: 3 retried requests" in text
