"""Solana and Cosmos chains and sources in the configuration file: the shipped mainnet file
loads; wrong addresses and kinds are refused naming the field."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from depinrev.config import ConfigError, CosmosChainConfig, SolanaChainConfig, load_config
from tests.support.paths import REPO

MAINNET = REPO / "config" / "networks.mainnet.yaml"


def _write(tmp_path: Path, doc: dict) -> Path:
    p = tmp_path / "networks.yaml"
    p.write_text(yaml.safe_dump(doc))
    return p


def test_mainnet_config_loads():
    cfg = load_config(MAINNET)
    assert isinstance(cfg.chains["solana"], SolanaChainConfig)
    assert isinstance(cfg.chains["akash"], CosmosChainConfig)
    assert cfg.chains["ethereum"].kind == "evm"
    assert cfg.denom_tokens("akash")["uakt"] == "akt"
    assert not any(n.devnet for n in cfg.networks.values())
    # legacy RNDR on Ethereum is not read (its 0x0 transfers are migrations, not payments)
    assert cfg.chains_of("render") == ["solana"]


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (
            lambda d: d["networks"]["ionet"]["sources"][0].update(address="0xabc"),
            r"networks\.ionet\.sources\.0\.address.*base58",
        ),
        (
            lambda d: d["networks"]["akash"]["sources"][0].update(
                address="akash14pphss726thpwws3yc458hggufynm9x77l4l2v"
            ),
            r"networks\.akash\.sources\.0\.address.*bech32",
        ),
        (
            lambda d: d["networks"]["ionet"]["sources"][0].update(chain="ethereum"),
            r"sources\[0\]\.chain 'ethereum' is a evm chain; a spl_burns source reads a solana",
        ),
        (
            lambda d: d["networks"]["render"]["sources"][0].update(burn_owners=["nope"]),
            r"sources\.0\.burn_owners.*.nope. is not a base58",
        ),
        (lambda d: d["chains"]["akash"].update(kind="tendermint"), r"chains\.akash.*kind must be"),
        (lambda d: d["chains"]["akash"].update(chunk_size=0), r"chains\.akash\.chunk_size"),
        (lambda d: d["chains"]["solana"].update(genesis_hash="0OIl"), r"chains\.solana\.genesis"),
        (lambda d: d["tokens"]["akt"].update(chain="solana"), r"tokens\.akt\.denom.*solana chain"),
        (
            lambda d: d["networks"]["akash"]["sources"][0].pop("distribution_account"),
            r"needs distribution_account",
        ),
        (
            lambda d: d["networks"]["akash"]["revenue_rules"][0].update(event="refund"),
            r"event 'refund' is not an event of a akash_escrow",
        ),
    ],
)
def test_wrong_files_are_refused_naming_the_field(tmp_path, mutate, message):
    doc = yaml.safe_load(MAINNET.read_text())
    mutate(doc)
    with pytest.raises(ConfigError, match=message):
        load_config(_write(tmp_path, doc))
