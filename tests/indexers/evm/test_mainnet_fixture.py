"""The EVM reader on real Ethereum mainnet logs, served over JSON-RPC on 127.0.0.1.

Data: every log (681) of mainnet blocks 17173049-17173050 (see shared/fixtures/SOURCES.md).
The expected transfers are worked out here from the raw logs by the ERC-20 rule (Transfer
topic, three topics, one 32-byte data word); ERC-721 Transfers share the topic but carry four
topics and no data, and must be ignored. Block headers are not in the capture: the server
builds them from the logs' block hashes (parent links and timestamps are made up, in the
real shape), which the indexer only needs for timestamps and boundary hashes.
"""

from __future__ import annotations

import json

import pyarrow.compute as pc
import pytest

from depinrev.config import Config
from depinrev.lake import Lake
from indexers.dispatch import index_network
from tests.support.evm_server import EvmServer, Faults, RecordedChain
from tests.support.lake_read import read_dataset
from tests.support.paths import shared_fixtures

TRANSFER = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
ZERO = "0x" + "0" * 40
FIRST, LAST = 17173049, 17173050
FINALITY = 65


def _logs() -> list[dict]:
    path = shared_fixtures() / "evm" / "ethereum_mainnet_eth_getLogs_17173049-17173050.json"
    return json.loads(path.read_text())["result"]


def _chain(logs: list[dict], faults: Faults | None = None) -> RecordedChain:
    hashes = {int(lg["blockNumber"], 16): lg["blockHash"] for lg in logs}
    headers = {}
    parent = "0x" + "11" * 32
    for n in sorted(hashes):
        headers[n] = {
            "number": hex(n),
            "hash": hashes[n],
            "parentHash": parent,
            "timestamp": hex(1_683_000_000 + 12 * (n - FIRST)),
        }
        parent = hashes[n]
    return RecordedChain(1, logs, headers, head=LAST + FINALITY, faults=faults)


def _config(token_addresses: list[str]) -> Config:
    tokens = {f"t{i}": {"symbol": f"T{i}", "decimals": 18} for i in range(len(token_addresses))}
    return Config.model_validate(
        {
            "chains": {
                "ethereum": {
                    "chain_id": 1,
                    "rpc_url_env": "DEPINREV_TEST_MAINNET_RPC",
                    "finality_depth": FINALITY,
                    "chunk_size": 1000,
                }
            },
            "tokens": tokens,
            "networks": {
                "mainnet-sample": {
                    "display_name": "sample",
                    "devnet": False,
                    "sources": [
                        {
                            "name": f"s{i}",
                            "kind": "erc20",
                            "chain": "ethereum",
                            "address": a,
                            "start_block": FIRST,
                            "token": f"t{i}",
                            "index_transfers": True,
                        }
                        for i, a in enumerate(token_addresses)
                    ],
                }
            },
        }
    )


def _expected(logs: list[dict]) -> set[tuple]:
    out = set()
    for lg in logs:
        t = lg["topics"]
        if t and t[0] == TRANSFER and len(t) == 3 and len(lg["data"]) == 66:
            out.add(
                (
                    lg["transactionHash"],
                    int(lg["logIndex"], 16),
                    "0x" + t[1][-40:],
                    "0x" + t[2][-40:],
                    str(int(lg["data"], 16)),
                )
            )
    return out


def _rows(table) -> set[tuple]:
    d = table.to_pydict()
    return set(
        zip(
            d["transaction_hash"],
            d["log_index"],
            d["from_address"],
            d["to_address"],
            d["amount_str"],
            strict=True,
        )
    )


@pytest.fixture
def mainnet(monkeypatch):
    logs = _logs()
    emitters = sorted(
        {lg["address"] for lg in logs if lg["topics"] and lg["topics"][0] == TRANSFER}
    )
    return logs, emitters


def test_extracts_exactly_the_erc20_transfers_and_ignores_erc721(mainnet, tmp_path, monkeypatch):
    logs, emitters = mainnet
    expected = _expected(logs)
    assert len(expected) == 282  # 291 Transfer-topic logs, 9 of them ERC-721
    with EvmServer(_chain(logs)) as server:
        monkeypatch.setenv("DEPINREV_TEST_MAINNET_RPC", server.url)
        report = index_network(_config(emitters), "mainnet-sample", tmp_path)
    lake = Lake(tmp_path)
    transfers = read_dataset(lake, "token_transfers")
    assert _rows(transfers) == expected
    assert transfers.num_rows == len(expected)
    assert report.chains[0].ignored_shape == 9
    burns = read_dataset(lake, "token_burns")
    mints = read_dataset(lake, "token_mints")
    assert _rows(burns) == {r for r in expected if r[3] == ZERO}
    assert _rows(mints) == {r for r in expected if r[2] == ZERO}
    assert burns.num_rows + mints.num_rows > 0
    # exact amounts: the decimal column equals the string wherever it is set
    dec = pc.cast(transfers["amount"], "string")
    assert dec.to_pylist() == transfers["amount_str"].to_pylist()
    assert set(transfers["block_number"].to_pylist()) == {FIRST, LAST}
    assert set(transfers["chain_id"].to_pylist()) == {1}


def test_supply_only_sources_fetch_mints_and_burns_with_topic_filters(
    mainnet, tmp_path, monkeypatch
):
    logs, emitters = mainnet
    cfg = _config(emitters).model_dump()
    for s in cfg["networks"]["mainnet-sample"]["sources"]:
        s["index_transfers"] = False
    config = Config.model_validate(cfg)
    expected = _expected(logs)
    with EvmServer(_chain(logs)) as server:
        monkeypatch.setenv("DEPINREV_TEST_MAINNET_RPC", server.url)
        index_network(config, "mainnet-sample", tmp_path)
    lake = Lake(tmp_path)
    assert lake.chunk_files("token_transfers") == []
    assert _rows(read_dataset(lake, "token_burns")) == {r for r in expected if r[3] == ZERO}
    assert _rows(read_dataset(lake, "token_mints")) == {r for r in expected if r[2] == ZERO}


def test_provider_range_and_result_limits_are_split_and_retried(mainnet, tmp_path, monkeypatch):
    logs, emitters = mainnet
    faults = Faults(max_block_range=1, max_results=200, rate_limit_first=3)
    with EvmServer(_chain(logs, faults)) as server:
        monkeypatch.setenv("DEPINREV_TEST_MAINNET_RPC", server.url)
        report = index_network(_config(emitters), "mainnet-sample", tmp_path)
    assert faults.counts["range"] >= 1
    assert server.limited == 3
    assert report.chains[0].rpc["retries"] >= 3
    assert _rows(read_dataset(Lake(tmp_path), "token_transfers")) == _expected(logs)


def test_results_too_large_even_for_one_block_is_a_clear_error(mainnet, tmp_path, monkeypatch):
    logs, emitters = mainnet
    from chains.transport import RangeTooLarge

    with EvmServer(_chain(logs, Faults(max_results=5))) as server:
        monkeypatch.setenv("DEPINREV_TEST_MAINNET_RPC", server.url)
        # a one-block refusal is asked again (a flaky provider's may be spurious): fast here
        monkeypatch.setenv("DEPINREV_RPC_BACKOFF", "0.001")
        with pytest.raises(RangeTooLarge, match=r"block \d+ alone .*more than 5 results"):
            index_network(_config(emitters), "mainnet-sample", tmp_path)
    assert Lake(tmp_path).chunk_files("token_transfers") == []


def test_rpc_with_another_chain_id_is_refused(mainnet, tmp_path, monkeypatch):
    from indexers.chunked import ChainMismatch

    logs, emitters = mainnet
    chain = _chain(logs)
    chain.chain_id = 42161
    with EvmServer(chain) as server:
        monkeypatch.setenv("DEPINREV_TEST_MAINNET_RPC", server.url)
        with pytest.raises(ChainMismatch, match=r"reports chain id 42161.*says 1"):
            index_network(_config(emitters), "mainnet-sample", tmp_path)
