"""One synthetic lake and one built warehouse for the whole session (dbt runs cost ~15 s)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from depinrev.config import Config, load_config
from tests.warehouse.synth import World, make_world, write_lake
from warehouse.build import BuildResult, build_warehouse

CONFIG_PATH = Path(__file__).resolve().parents[2] / "config" / "networks.devnet.yaml"


@dataclass
class Built:
    config: Config
    world: World
    lake: Path
    db: Path
    result: BuildResult
    prices_csv: Path


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    root = tmp_path_factory.mktemp("warehouse")
    config = load_config(CONFIG_PATH)
    world = make_world(config)
    write_lake(world, root / "lake")
    prices = root / "prices.csv"
    # one user price overriding the feed, one overriding the stablecoin default
    prices.write_text("date,token,price_usd\n2025-02-03,akt-dev,4.25\n2025-03-01,USDC,0.998\n")
    result = build_warehouse(
        CONFIG_PATH, root / "lake", root / "wh.duckdb", prices_csv=prices,
        reader_factory=lambda chain: world.chain(chain.chain_id),
    )
    return Built(config, world, root / "lake", root / "wh.duckdb", result, prices)
