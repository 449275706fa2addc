"""A source's declared reconciliation: defaults by kind, sensible declarations load, nonsense is
refused with a message naming the problem."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from depinrev.catalogue import Reconciliation
from depinrev.config import Config, ConfigError, load_config
from tests.support.paths import REPO

DEVNET = REPO / "config" / "networks.devnet.yaml"
MAINNET = REPO / "config" / "networks.mainnet.yaml"


def _load(tmp_path: Path, doc: dict[str, Any]) -> Config:
    p = tmp_path / "networks.yaml"
    p.write_text(yaml.safe_dump(doc))
    return load_config(p)


def _source(doc: dict[str, Any], network: str, name: str) -> dict[str, Any]:
    return next(s for s in doc["networks"][network]["sources"] if s["name"] == name)


def test_defaults_follow_the_kind() -> None:
    cfg = load_config(DEVNET)
    plans = {s.name: s.reconciliation_plan for n in cfg.networks.values() for s in n.sources}
    assert plans["rndr-token"].method is Reconciliation.total_supply
    assert plans["escrow-akt"].method is Reconciliation.balance_of
    assert plans["service-fees"].method is Reconciliation.balance_of
    assert plans["akt-usd-feed"].method is Reconciliation.none
    assert plans["akt-usd-feed"].reason  # the kind's reason, never empty
    src = next(s for s in cfg.networks["aethir-devnet"].sources if s.name == "service-fees")
    assert src.reconciliation_holder == src.address


def test_mainnet_aethir_core_is_checked_by_a_second_endpoint_because_custody_is_unconfirmed():
    cfg = load_config(MAINNET)
    src = next(s for s in cfg.networks["aethir"].sources if s.name == "aethir-core")
    plan = src.reconciliation_plan
    assert plan.method is Reconciliation.second_endpoint
    assert plan.rpc_url_env == "DEPINREV_RPC_ARBITRUM_SECOND"
    assert plan.reason is not None and "custody unconfirmed" in plan.reason


def test_declared_methods_load(tmp_path: Path) -> None:
    doc = yaml.safe_load(DEVNET.read_text())
    holder = "0x" + "ab" * 20
    _source(doc, "aethir-devnet", "service-fees")["reconciliation"] = {
        "method": "balance_of", "holder": holder.upper().replace("0X", "0x")}
    _source(doc, "akash-devnet", "escrow-akt")["reconciliation"] = {
        "method": "second_endpoint", "rpc_url_env": "DEPINREV_RPC_ETH_SECOND"}
    _source(doc, "render-devnet", "rndr-token")["reconciliation"] = {
        "method": "none", "reason": "bridged token: supply moves off this chain"}
    cfg = _load(tmp_path, doc)
    fees = next(s for s in cfg.networks["aethir-devnet"].sources if s.name == "service-fees")
    assert fees.reconciliation_holder == holder  # stored lowercase
    rndr = cfg.networks["render-devnet"].sources[0]
    assert rndr.reconciliation_plan.reason == "bridged token: supply moves off this chain"


@pytest.mark.parametrize(
    ("network", "source", "recon", "message"),
    [
        ("aethir-devnet", "service-fees", {"method": "total_supply"},
         r"total_supply is for erc20 \(token\) sources; a service_fee source is not a token"),
        ("aethir-devnet", "service-fees", {"method": "none"},
         r"method none needs a reason"),
        ("aethir-devnet", "service-fees", {"method": "none", "reason": "  "},
         r"method none needs a reason"),
        ("aethir-devnet", "service-fees", {"method": "second_endpoint"},
         r"second_endpoint needs rpc_url_env"),
        ("aethir-devnet", "service-fees",
         {"method": "second_endpoint", "rpc_url_env": "lower case"},
         r"not an environment variable name"),
        ("aethir-devnet", "service-fees",
         {"method": "balance_of", "rpc_url_env": "DEPINREV_X"},
         r"rpc_url_env is only for method second_endpoint"),
        ("aethir-devnet", "service-fees", {"method": "total_supply", "holder": "0x" + "1" * 40},
         r"holder is only for method balance_of"),
        ("aethir-devnet", "service-fees", {"method": "balance_of", "holder": "0x12"},
         r"holder.*20-byte"),
        ("aethir-devnet", "ath-token", {"method": "balance_of"},
         r"balance_of needs a source whose events move a balance.*use total_supply"),
        ("aethir-devnet", "ath-usd-feed", {"method": "balance_of"},
         r"a price_feed source has none: use none"),
        ("aethir-devnet", "service-fees", {"method": "sometimes"},
         r"reconciliation\.method"),
    ],
)
def test_nonsense_is_refused_naming_the_problem(
    tmp_path: Path, network: str, source: str, recon: dict[str, Any], message: str
) -> None:
    doc = yaml.safe_load(DEVNET.read_text())
    _source(doc, network, source)["reconciliation"] = recon
    with pytest.raises(ConfigError, match=message):
        _load(tmp_path, doc)


def test_balance_of_a_token_without_a_contract_on_the_chain_is_refused(tmp_path: Path) -> None:
    doc = yaml.safe_load(DEVNET.read_text())
    doc["tokens"]["offchain"] = {"symbol": "OFF", "decimals": 6}
    src = _source(doc, "aethir-devnet", "service-fees")
    src["token"] = "offchain"
    src["reconciliation"] = {"method": "balance_of"}
    with pytest.raises(ConfigError, match=r"tokens\.offchain's contract.*has no address"):
        _load(tmp_path, doc)


def test_solana_and_cosmos_sources_can_only_declare_none(tmp_path: Path) -> None:
    doc = yaml.safe_load(MAINNET.read_text())
    _source(doc, "akash", "escrow")["reconciliation"] = {
        "method": "second_endpoint", "rpc_url_env": "DEPINREV_RPC_AKASH_SECOND"}
    with pytest.raises(ConfigError, match=r"reads an EVM chain; a akash_escrow source can only"):
        _load(tmp_path, doc)
    _source(doc, "akash", "escrow")["reconciliation"] = {
        "method": "none", "reason": "inflows not in the lake"}
    cfg = _load(tmp_path, doc)
    assert cfg.networks["akash"].sources[0].reconciliation_plan.reason == (
        "inflows not in the lake")
