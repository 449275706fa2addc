"""The network configuration file: valid files load, wrong ones are refused by name."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from depinrev.config import ConfigError, Label, load_config, module_account
from tests.support.paths import REPO

DEVNET = REPO / "config" / "networks.devnet.yaml"


def _write(tmp_path: Path, doc: dict) -> Path:
    p = tmp_path / "networks.yaml"
    p.write_text(yaml.safe_dump(doc))
    return p


def _devnet() -> dict:
    return yaml.safe_load(DEVNET.read_text())


def test_devnet_config_loads_with_four_devnet_networks_on_two_chains():
    cfg = load_config(DEVNET)
    assert {"akash-devnet", "render-devnet", "aethir-devnet", "ionet-devnet"} <= set(cfg.networks)
    assert all(n.devnet for n in cfg.networks.values())
    assert len({c.chain_id for c in cfg.chains.values()}) >= 2
    rule = cfg.networks["render-devnet"].revenue_rules[0]
    assert rule.share(Label.fees) * 95 == 100


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["chains"]["ethereum-devnet"].update(finality_depth=-1),
            r"chains\.ethereum-devnet\.finality_depth",
        ),
        (
            lambda d: d["chains"]["ethereum-devnet"].update(rpc_url_env="not an env"),
            r"rpc_url_env.*not an environment variable",
        ),
        (
            lambda d: d["networks"]["akash-devnet"]["sources"][0].update(address="0x1234"),
            r"sources\.0\.address.*20-byte",
        ),
        (
            lambda d: d["networks"]["akash-devnet"]["sources"][0].update(token="nope"),
            r"token 'nope' is not a declared token",
        ),
        (
            lambda d: d["networks"]["akash-devnet"]["revenue_rules"][0].update(source="ghost"),
            r"revenue_rules\[0\]\.source 'ghost'",
        ),
        (
            lambda d: d["networks"]["akash-devnet"]["revenue_rules"][0].update(event="burn"),
            r"event 'burn' is not an event of a lease_escrow",
        ),
        (
            lambda d: d["networks"]["akash-devnet"]["revenue_rules"][0]["labels"].update(fees="x"),
            r"share for fees is 'x'",
        ),
        (
            lambda d: d["networks"]["akash-devnet"]["revenue_rules"][0]["labels"].update(
                profit="1"
            ),
            r"labels\.profit",
        ),
        (
            lambda d: d["chains"]["ethereum-devnet"].update(colour="blue"),
            r"chains\.ethereum-devnet\.colour.*Extra inputs",
        ),
        (
            lambda d: d["chains"]["arbitrum-devnet"].update(chain_id=1337),
            r"chain ids must be unique",
        ),
    ],
)
def test_wrong_files_are_refused_naming_the_field(tmp_path, mutate, message):
    doc = _devnet()
    mutate(doc)
    with pytest.raises(ConfigError, match=message):
        load_config(_write(tmp_path, doc))


def _aethir_rule(d: dict, i: int = 0) -> dict:
    return d["networks"]["aethir-devnet"]["revenue_rules"][i]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (   # 0.8 + 0.1 leaves a tenth of fees in no label
            lambda d: _aethir_rule(d)["labels"].update(protocol_revenue="0.1"),
            r"networks\.aethir-devnet: .*revenue_rules\[0\] \(service-fees deposit\.amount\): the "
            r"fees share is 1 but supply_side_revenue \+ protocol_revenue \+ holders_revenue "
            r"shares add up to 9/10; every base unit of fees must land in one of them",
        ),
        (   # a withdrawal that takes back more from providers than from fees
            lambda d: _aethir_rule(d, 1)["labels"].update(supply_side_revenue="-1"),
            r"revenue_rules\[1\] \(service-fees withdraw\.amount\): the fees share is -1 but .* "
            r"add up to -6/5",
        ),
        (
            lambda d: _aethir_rule(d)["labels"].pop("fees"),
            r"revenue_rules\[0\] \(service-fees deposit\.amount\) has no fees share: .* or "
            r"declare fees unobservable",
        ),
        (
            lambda d: _aethir_rule(d).update(remainder_to="holders_revenue"),
            r"remainder_to holders_revenue is not one of the rule's split labels "
            r"\['supply_side_revenue', 'protocol_revenue'\]",
        ),
        (   # io.net's burn rule gives fees while fees are declared unobservable
            lambda d: d["networks"]["ionet-devnet"]["revenue_rules"][0]["labels"].update(
                fees="1"),
            r"revenue_rules\[0\] \(io-token burn\.amount\) gives a share to fees, which the "
            r"network declares unobservable",
        ),
        (
            lambda d: d["networks"]["ionet-devnet"]["unobservable"].pop("fees"),
            r"revenue_rules\[0\] \(io-token burn\.amount\) has no fees share",
        ),
        (
            lambda d: d["networks"]["ionet-devnet"]["unobservable"].update(revenue="x y z"),
            r"unobservable: .*revenue is derived \(fees - supply_side_revenue\): declare fees "
            r"or supply_side_revenue unobservable instead",
        ),
        (
            lambda d: d["networks"]["ionet-devnet"]["unobservable"].update(fees=""),
            r"unobservable\.fees: String should have at least 3 characters",
        ),
    ],
)
def test_rules_whose_shares_cannot_add_up_are_refused(tmp_path, mutate, message):
    doc = _devnet()
    mutate(doc)
    with pytest.raises(ConfigError, match=message):
        load_config(_write(tmp_path, doc))


def test_remainder_goes_to_the_largest_split_share_unless_named(tmp_path):
    doc = _devnet()
    doc["networks"]["aethir-devnet"]["revenue_rules"].append(
        {"source": "service-fees", "event": "deposit",
         "labels": {"fees": "1", "supply_side_revenue": "1/3", "protocol_revenue": "1/3",
                    "holders_revenue": "1/3"}})
    _aethir_rule(doc, 1)["remainder_to"] = "protocol_revenue"
    rules = load_config(_write(tmp_path, doc)).networks["aethir-devnet"].revenue_rules
    assert [r.remainder_label for r in rules] == [
        Label.supply_side_revenue, Label.protocol_revenue, Label.supply_side_revenue]
    ionet = load_config(DEVNET).networks["ionet-devnet"]
    assert ionet.revenue_rules[0].remainder_label is Label.holders_revenue
    assert ionet.unobservable[Label.fees] == (
        "fees are charged off-chain; burns are a lagged use of revenue")


def test_mainnet_ionet_declares_fees_unobservable():
    ionet = load_config(REPO / "config" / "networks.mainnet.yaml").networks["ionet"]
    assert ionet.unobservable[Label.fees] == (
        "fees are charged off-chain; burns are a lagged use of revenue")
    assert [dict(r.labels) for r in ionet.revenue_rules] == [{Label.holders_revenue: "1"}]


def test_unreadable_and_non_yaml_files_are_refused(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("chains: [unclosed")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)


def test_rpc_url_comes_from_the_environment_when_asked(monkeypatch):
    cfg = load_config(DEVNET)
    chain = cfg.chains["ethereum-devnet"]
    monkeypatch.setenv(chain.rpc_url_env, "http://127.0.0.1:9999")
    assert chain.rpc_url() == "http://127.0.0.1:9999"
    monkeypatch.delenv(chain.rpc_url_env)
    assert chain.rpc_url() == chain.rpc_url_default


def test_missing_rpc_url_names_the_variable(tmp_path, monkeypatch):
    doc = _devnet()
    del doc["chains"]["ethereum-devnet"]["rpc_url_default"]
    cfg = load_config(_write(tmp_path, doc))
    monkeypatch.delenv("DEPINREV_RPC_ETHEREUM_DEVNET", raising=False)
    with pytest.raises(ConfigError, match="DEPINREV_RPC_ETHEREUM_DEVNET is not set"):
        cfg.chains["ethereum-devnet"].rpc_url()


def test_module_accounts_are_derived_in_one_place() -> None:
    """bech32(sha256(module name)[:20]) reproduces Akash's published escrow and distribution
    module accounts; the BME account is derived the same way (unconfirmed on chain)."""
    assert module_account("akash", "escrow") == "akash14pphss726thpwws3yc458hggufynm9x77l4l2u"
    assert module_account("akash", "distribution") == (
        "akash1jv65s3grqf6v6jl3dp4t6c9t9rk99cd82yfms9")
    mainnet = load_config(REPO / "config" / "networks.mainnet.yaml")
    escrow = mainnet.networks["akash"].sources[0]
    assert escrow.bme_account == module_account("akash", "bme")
    assert mainnet.tokens["act"].usd_peg_from_block == escrow.bme_height
