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
