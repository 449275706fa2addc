"""The bittensor network's configuration: the substrate chain kind and spec-version rules."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from depinrev.config import ConfigError, SubstrateChainConfig, load_config
from tests.support.paths import REPO
from warehouse.rules import expand_rules

MAINNET = REPO / "config" / "networks.mainnet.yaml"


def _bittensor() -> dict:
    doc = yaml.safe_load(MAINNET.read_text())
    return {"chains": {"bittensor": doc["chains"]["bittensor"]},
            "tokens": {"tao": doc["tokens"]["tao"]},
            "networks": {"bittensor": doc["networks"]["bittensor"]}}


def _load(tmp_path: Path, doc: dict):
    path = tmp_path / "n.yaml"
    path.write_text(yaml.safe_dump(doc))
    return load_config(path)


def test_mainnet_bittensor_is_a_substrate_chain_with_its_genesis_marked_unconfirmed():
    chain = load_config(MAINNET).chains["bittensor"]
    assert isinstance(chain, SubstrateChainConfig)
    assert chain.genesis_hash_unconfirmed is True
    assert chain.genesis_hash.startswith("0x") and len(chain.genesis_hash) == 66


def test_rules_cover_spec_versions_up_to_the_next_listed_one():
    """Versions between the listed ones follow the nearest earlier rule; a rule without
    labels ends the one before it."""
    rows = [r for r in expand_rules(load_config(MAINNET)) if r.network == "bittensor"]
    ranges = {(r.event, r.field, r.label): (r.spec_from, r.spec_to) for r in rows}
    assert ranges[("transaction_fee", "amount", "holders_revenue")] == (0, 379)
    assert ranges[("transaction_fee", "amount", "supply_side_revenue")] == (380, None)
    assert ranges[("network_lock", "amount", "holders_revenue")] == (233, 400)
    # the lock's NetworkMinLockCost part is taken off over the same versions
    assert ranges[("network_lock", "min_lock", "holders_revenue")] == (233, 400)
    assert {(r.field, r.label, r.share_numerator) for r in rows if r.event == "network_lock"} == {
        ("amount", "fees", 1), ("amount", "holders_revenue", 1),
        ("min_lock", "fees", -1), ("min_lock", "holders_revenue", -1)}
    assert not [r for r in rows if r.event == "network_lock" and r.spec_from == 401]
    assert ranges[("registration_burn", "amount", "holders_revenue")] == (0, None)


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["chains"]["bittensor"].update(genesis_hash="0x12"), "genesis_hash"),
        (lambda d: d["networks"]["bittensor"]["sources"][0].update(address="0xabc"),
         "the word runtime"),
        (lambda d: d["networks"]["bittensor"]["revenue_rules"][0].update(labels={}),
         "give at least one label"),
        (lambda d: d["chains"]["bittensor"].update(kind="polkadot"), "substrate"),
        # the tip is inside the fee: a rule on it would count it twice, so it is no field
        (lambda d: d["networks"]["bittensor"]["revenue_rules"][0].update(field="tip"),
         "field 'tip' is not an amount of 'transaction_fee'"),
    ],
)
def test_wrong_bittensor_files_are_refused_naming_the_field(tmp_path, mutate, message):
    doc = _bittensor()
    mutate(doc)
    with pytest.raises(ConfigError, match=message):
        _load(tmp_path, doc)


def test_from_spec_version_is_refused_on_other_source_kinds(tmp_path):
    doc = yaml.safe_load(MAINNET.read_text())
    doc["networks"]["akash"]["revenue_rules"][0]["from_spec_version"] = 300
    with pytest.raises(ConfigError, match="from_spec_version is only for subtensor"):
        _load(tmp_path, doc)


def test_a_subtensor_source_is_reconciled_by_counter_unless_declared_none(tmp_path):
    src = load_config(MAINNET).network("bittensor").sources[0]
    assert src.reconciliation_plan.method.value == "counter"
    doc = _bittensor()
    doc["networks"]["bittensor"]["sources"][0]["reconciliation"] = {"method": "counter"}
    assert _load(tmp_path, doc).network("bittensor").sources[0].reconciliation_plan.method == (
        "counter")
    doc["networks"]["bittensor"]["sources"][0]["reconciliation"] = {
        "method": "none", "reason": "no archive node at hand"}
    assert _load(tmp_path, doc).network("bittensor").sources[0].reconciliation_plan.reason == (
        "no archive node at hand")


@pytest.mark.parametrize("method", ["total_supply", "balance_of"])
def test_evm_methods_are_refused_on_a_subtensor_source(tmp_path, method):
    doc = _bittensor()
    doc["networks"]["bittensor"]["sources"][0]["reconciliation"] = {"method": method}
    with pytest.raises(ConfigError, match="cannot check a subtensor source"):
        _load(tmp_path, doc)


def test_counter_is_refused_on_other_source_kinds(tmp_path):
    doc = yaml.safe_load(MAINNET.read_text())
    doc["networks"]["akash"]["sources"][0]["reconciliation"] = {"method": "counter"}
    with pytest.raises(ConfigError, match=r"counter .* only for subtensor sources"):
        _load(tmp_path, doc)
