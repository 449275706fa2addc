"""One synthetic lake and one built warehouse for the whole session (dbt runs cost ~15 s).

The configuration is the devnet file plus `splits-devnet`, a service-fee network with odd
shares (1/3, 5/95, 35/57 on deposits; -1, -0.8, -0.2 with remainder_to protocol_revenue on
withdrawals), so that the exact-split identities are checked on many rounding remainders.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from depinrev.config import Config, load_config
from tests.warehouse.synth import World, make_world, write_lake
from warehouse.build import BuildResult, build_warehouse

CONFIG_PATH = Path(__file__).resolve().parents[2] / "config" / "networks.devnet.yaml"
SPLITS_FEES_ADDRESS = "0x" + "5a" * 20
SPLITS_NETWORK = {
    "display_name": "Odd splits (test)",
    "devnet": True,
    "description": "Service fees split by odd shares, to test that every base unit lands.",
    "sources": [{"name": "odd-fees", "kind": "service_fee", "chain": "arbitrum-devnet",
                 "address": SPLITS_FEES_ADDRESS, "start_block": 1, "token": "ath-dev"}],
    "revenue_rules": [
        {"source": "odd-fees", "event": "deposit",
         "labels": {"fees": "1", "supply_side_revenue": "1/3", "protocol_revenue": "5/95",
                    "holders_revenue": "35/57"}},
        {"source": "odd-fees", "event": "withdraw",
         "labels": {"fees": "-1", "supply_side_revenue": "-0.8", "protocol_revenue": "-0.2"},
         "remainder_to": "protocol_revenue"},
    ],
}


def write_test_config(path: Path) -> Path:
    """The devnet configuration with the odd-splits network added."""
    doc = yaml.safe_load(CONFIG_PATH.read_text())
    doc["networks"]["splits-devnet"] = SPLITS_NETWORK
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


# Simulated reported figures about the synthetic world (tests/warehouse/test_reported.py).
SIMULATED_REPORTED = """\
network,period_kind,period,period_start,period_end,metric,compare_with,value,unit,basis,source,\
source_date,notes
render-devnet,month,2025-02,2025-02-01,2025-02-28,tokens_burned,holders_revenue,30000.5,RNDR,simulated,test,,
render-devnet,range,2025-01..2025-03,2025-01-01,2025-03-31,tokens_burned,holders_revenue,50000,RNDR,simulated,test,,
render-devnet,month,2025-01,2025-01-01,2025-01-31,tokens_burned,holders_revenue,10000,RNDR,simulated,test,,
akash-devnet,quarter,2025Q1,2025-01-01,2025-03-31,lease_income,fees,9000,AKT,simulated,test,,
ionet-devnet,annualized,as of 2025-07-10,2025-07-10,2025-07-10,annualized_revenue,holders_revenue,200000,IO,simulated,test,,
ionet-devnet,quarter,2025Q2,2025-04-01,2025-06-30,revenue,fees,50000,IO,simulated,test,,
aethir-devnet,quarter,2025Q1,2025-01-01,2025-03-31,revenue,fees,1000000,USD,simulated,test,,
aethir-devnet,year,2025,2025-01-01,2025-12-31,revenue,fees,5000000,USD,simulated,test,,
"""  # noqa: E501


@dataclass
class Built:
    config_path: Path
    config: Config
    world: World
    lake: Path
    db: Path
    result: BuildResult
    prices_csv: Path
    reported_csv: Path


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("warehouse")
    config_path = write_test_config(root / "networks.yaml")
    config = load_config(config_path)
    world = make_world(config)
    write_lake(world, root / "lake")
    prices = root / "prices.csv"
    # one user price overriding the feed, one overriding the stablecoin default
    prices.write_text("date,token,price_usd\n2025-02-03,akt-dev,4.25\n2025-03-01,USDC,0.998\n")
    reported = root / "reported.csv"
    reported.write_text(SIMULATED_REPORTED)
    result = build_warehouse(
        config_path, root / "lake", root / "wh.duckdb", prices_csv=prices,
        reader_factory=lambda chain: world.chain(chain.chain_id), reported_csv=[reported],
    )
    return Built(config_path, config, world, root / "lake", root / "wh.duckdb", result, prices,
                 reported)
