"""One synthetic lake and one built warehouse for the whole session (dbt runs cost ~15 s)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from depinrev.config import Config, load_config
from tests.warehouse.synth import World, make_world, write_lake
from warehouse.build import BuildResult, build_warehouse

CONFIG_PATH = Path(__file__).resolve().parents[2] / "config" / "networks.devnet.yaml"


# Simulated reported figures about the synthetic world (tests/warehouse/test_reported.py).
SIMULATED_REPORTED = """\
network,period_kind,period,period_start,period_end,metric,compare_with,value,unit,basis,source,\
source_date,notes
render-devnet,month,2025-02,2025-02-01,2025-02-28,tokens_burned,holders_revenue,30000.5,RNDR,simulated,test,,
render-devnet,range,2025-01..2025-03,2025-01-01,2025-03-31,tokens_burned,holders_revenue,50000,RNDR,simulated,test,,
render-devnet,month,2025-01,2025-01-01,2025-01-31,tokens_burned,holders_revenue,10000,RNDR,simulated,test,,
akash-devnet,quarter,2025Q1,2025-01-01,2025-03-31,lease_income,fees,9000,AKT,simulated,test,,
ionet-devnet,annualized,as of 2025-07-10,2025-07-10,2025-07-10,annualized_revenue,fees,200000,IO,simulated,test,,
aethir-devnet,quarter,2025Q1,2025-01-01,2025-03-31,revenue,fees,1000000,USD,simulated,test,,
aethir-devnet,year,2025,2025-01-01,2025-12-31,revenue,fees,5000000,USD,simulated,test,,
"""  # noqa: E501


@dataclass
class Built:
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
    config = load_config(CONFIG_PATH)
    world = make_world(config)
    write_lake(world, root / "lake")
    prices = root / "prices.csv"
    # one user price overriding the feed, one overriding the stablecoin default
    prices.write_text("date,token,price_usd\n2025-02-03,akt-dev,4.25\n2025-03-01,USDC,0.998\n")
    reported = root / "reported.csv"
    reported.write_text(SIMULATED_REPORTED)
    result = build_warehouse(
        CONFIG_PATH, root / "lake", root / "wh.duckdb", prices_csv=prices,
        reader_factory=lambda chain: world.chain(chain.chain_id), reported_csv=[reported],
    )
    return Built(config, world, root / "lake", root / "wh.duckdb", result, prices, reported)
