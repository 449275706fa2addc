"""The v2.0.0 (BME) upgrade height is configuration (bme_height, unconfirmed for mainnet),
checked where the node can tell: x/upgrade's AppliedPlan query for the plan "v2.0.0" (node
upgrades/software/v2.0.0/upgrade.go) over CometBFT abci_query, by `depinrev doctor` and at
run time; a node contradicting the configuration is refused with the height it says."""

from __future__ import annotations

import pytest

from chains.cosmos import applied_plan_height_of, applied_plan_request
from chains.transport import BadResponse
from depinrev.config import Config, ConfigError, module_account
from depinrev.lake import Lake
from indexers.dispatch import index_network
from tests.support.cosmos_node import CosmosNode
from tests.support.jsonrpc_server import JsonRpcServer

ENV = "DEPINREV_TEST_COSMOS_UPGRADE"
HEAD = 400
ESCROW = module_account("akash", "escrow")


def test_applied_plan_protobuf_bytes():
    # QueryAppliedPlanRequest{name: "v2.0.0"}: tag 0x0a, length 6, the name
    assert applied_plan_request("v2.0.0") == "0a06" + b"v2.0.0".hex()
    # QueryAppliedPlanResponse{height: 25,600,000}: tag 0x08, varint 80 c0 9a 0c
    assert applied_plan_height_of(bytes.fromhex("0880c09a0c")) == 25_600_000
    assert applied_plan_height_of(b"") == 0  # the default: not applied
    with pytest.raises(BadResponse):
        applied_plan_height_of(bytes.fromhex("0880c0"))  # cut


def _config(bme_height: int) -> Config:
    return Config.model_validate({
        "chains": {"akash": {"kind": "cosmos", "chain_id": 900001, "chain_name": "akashnet-2",
                             "bech32_prefix": "akash", "rpc_url_env": ENV, "chunk_size": 100}},
        "tokens": {"akt": {"symbol": "AKT", "decimals": 6, "chain": "akash", "denom": "uakt"}},
        "networks": {"akash": {"display_name": "Akash", "devnet": False, "sources": [
            {"name": "escrow", "kind": "akash_escrow", "chain": "akash", "address": ESCROW,
             "distribution_account": module_account("akash", "distribution"),
             "bme_account": module_account("akash", "bme"), "bme_height": bme_height,
             "start_block": 1, "token": "akt"}]}},
    })


@pytest.mark.parametrize(("applied", "configured", "said"), [
    ({"v2.0.0": 250}, 250, "bme_height is 250: confirmed, the node applied upgrade v2.0.0"),
    ({"v1.0.0": 90}, 900, "bme_height is 900: upgrade v2.0.0 not applied yet at head 400"),
    (None, 250, "bme_height is 250 (unconfirmed): not checked, the node at http://127.0.0.1:"),
])
def test_doctor_and_the_run_accept_a_height_the_node_agrees_with(
        tmp_path, monkeypatch, applied, configured, said):
    from indexers.doctor import doctor

    node = CosmosNode("akashnet-2", {}, head=HEAD)
    node.applied_plans = applied
    with JsonRpcServer(node) as server:
        monkeypatch.setenv(ENV, server.url)
        (plan,) = doctor(_config(configured), "akash")
        assert any(said in n for n in plan.notes), plan.notes
        server.calls.clear()
        index_network(_config(configured), "akash", Lake(tmp_path / "lake"))
        assert server.calls["abci_query"] == 1
        made = sum(n for m, n in server.calls.items() if m != "status")
        assert abs(plan.requests - made) <= 0.25 * made


@pytest.mark.parametrize(("applied", "message"), [
    ({"v2.0.0": 250}, "bme_height is 240, but the node at http://127.0.0.1:"),
    ({}, "bme_height is 240, but the node at http://127.0.0.1:"),
])
def test_a_height_the_node_contradicts_is_refused(tmp_path, monkeypatch, applied, message):
    from indexers.doctor import DoctorRefusal, doctor

    node = CosmosNode("akashnet-2", {}, head=HEAD)
    node.applied_plans = applied
    end = ("applied upgrade v2.0.0 at height 250 (x/upgrade AppliedPlan); set bme_height: 250"
           if applied else "has not applied upgrade v2.0.0 at its head 400")
    with JsonRpcServer(node) as server:
        monkeypatch.setenv(ENV, server.url)
        with pytest.raises(DoctorRefusal) as refused:
            doctor(_config(240), "akash")
        assert message in str(refused.value) and end in str(refused.value)
        with pytest.raises(ConfigError) as failed:
            index_network(_config(240), "akash", Lake(tmp_path / "lake"))
        assert end in str(failed.value)
    assert not (tmp_path / "lake").exists() or not any((tmp_path / "lake").rglob("*.parquet"))
