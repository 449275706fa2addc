"""Bittensor in the warehouse: the quarterly table equals the generated chain's totals and the
audit passes, and fails with the numbers when one registration burn is missing from the lake.

The chain is tests/support/subtensor_node.py's: block n at 2025-02-01 + 12 h x n (Aura slots
3,600 apart), 2025Q2 from block 118, 2025Q3 from block 300, finalized head 320; spec 256 below
block 160 and the real spec 393 from it. The configuration is config/networks.mainnet.yaml's
bittensor network (its revenue rules) pointed at the test node with 50-block chunks.

Expected figures come from the generator's ledger with the labels written out here by hand
from docs/readers.md (transaction fees: holders_revenue up to spec 379, supply_side_revenue
from 380; registration burns, key swap costs and network locks of spec 233-400:
holders_revenue; stake fees: supply_side_revenue), all shares 1: no rounding.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from depinrev.config import Config, load_config
from depinrev.lake import ChunkRecord, Lake
from indexers.dispatch import index_network
from pipelines.ingest.assets import PARTITION_CHECK, index_lake
from pipelines.ingest.partitions import network_day_key
from pipelines.resources import LakeResource, NetworkConfigResource
from tests.support.jsonrpc_server import JsonRpcServer
from tests.support.paths import REPO
from tests.support.subtensor_node import (
    CHUNK,
    HEAD,
    NETUID_A,
    NETUID_B,
    NETUID_C,
    LedgerRow,
    SubtensorChain,
    chain_time,
    make_chain,
    spec393_metadata,
    write_config,
)
from warehouse.build import BuildResult, audit_warehouse, build_warehouse, prepare_inputs

MAINNET = REPO / "config" / "networks.mainnet.yaml"
ENV = "DEPINREV_TEST_BITTENSOR"
CID = 900002
Q2_START, Q3_START = 1_743_465_600, 1_751_328_000  # 2025-04-01, 2025-07-01
Q2_FIRST, Q3_FIRST = 118, 300


@dataclass
class World:
    chain: SubtensorChain
    config_path: Path
    config: Config
    lake: Path
    db: Path
    result: BuildResult
    tmp: Path


@pytest.fixture(scope="module")
def node() -> Iterator[SubtensorChain]:
    chain = make_chain(spec393_metadata())
    with JsonRpcServer(chain) as server, pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV, server.url)
        yield chain


@pytest.fixture(scope="module")
def world(node, tmp_path_factory: pytest.TempPathFactory) -> World:
    tmp = tmp_path_factory.mktemp("bittensor")
    config_path = write_config(tmp / "networks.yaml", MAINNET, ENV, tmp / "cache")
    config = load_config(config_path)
    index_network(config, "bittensor", tmp / "lake")
    result = build_warehouse(config_path, tmp / "lake", tmp / "wh.duckdb")
    return World(node, config_path, config, tmp / "lake", tmp / "wh.duckdb", result, tmp)


def _query(db: Path, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def _quarter(block: int) -> str:
    ts = chain_time(block)
    return "2025Q1" if ts < Q2_START else "2025Q2" if ts < Q3_START else "2025Q3"


def _labels(row: LedgerRow) -> dict[str, int]:
    """The labels of one ledger event under the bittensor rules, written out by hand."""
    a = row.amount
    if row.event == "transaction_fee":
        return {"fees": a, "supply_side_revenue": a} if row.spec_version >= 380 else {
            "fees": a, "holders_revenue": a}
    if row.event == "registration_burn":
        return {"fees": a, "holders_revenue": a}
    if row.event == "network_lock":  # 233-400: recycled but for the NetworkMinLockCost part
        assert row.min_lock is not None
        kept = a - row.min_lock
        return {"fees": kept, "holders_revenue": kept} if 233 <= row.spec_version <= 400 else {}
    if row.event == "stake_fee":
        return {"fees": a, "supply_side_revenue": a}
    if row.event == "unstake_fee":
        return {}  # in the subnet's alpha: no TAO label
    if row.event == "key_swap_cost":
        return {"fees": a, "holders_revenue": a}
    raise AssertionError(row.event)


def _expected(ledger: list[LedgerRow]) -> dict[tuple[str, str, str], tuple[int, ...]]:
    out: dict[str, list[int]] = {}
    for row in ledger:
        labels = _labels(row)
        if not labels:
            continue
        t = out.setdefault(_quarter(row.block), [0, 0, 0, 0, 0])
        t[0] += labels.get("fees", 0)
        t[1] += labels.get("supply_side_revenue", 0)
        t[2] += labels.get("protocol_revenue", 0)
        t[3] += labels.get("holders_revenue", 0)
        t[4] += 1
    return {("bittensor", q, "tao"): (f, s, p, h, f - s, n) for q, (f, s, p, h, n) in out.items()}


def test_build_passes(world: World):
    assert world.result.dbt.success, world.result.problems()
    assert world.result.ok, world.result.problems()


def test_quarterly_table_equals_the_generators_totals(world: World):
    rows = _query(world.db, """
        select network, quarter, token, fees_raw, supply_side_revenue_raw, protocol_revenue_raw,
            holders_revenue_raw, revenue_raw, event_count
        from marts.fct_network_revenue_quarterly order by quarter""")
    got = {(r[0], r[1], r[2]): tuple(int(x) for x in r[3:]) for r in rows}
    assert got == _expected(world.chain.ledger)
    # by hand for 2025Q2 (blocks 118-299): fees 1,000,001 + 42 at spec 256 (holders), then at
    # spec 393 the stake fee 5,035,477, fees 260,000 + 400,000 + 410,000 + 270,000 + 500,000 +
    # 77,777 (supply side), the burns 2,000,000,000 + 2,000,000,001 and the lock 100 TAO less
    # the 40 TAO NetworkMinLockCost that seeds the subnet's pool (holders): 12 events; the
    # unstake's fee of 2,000,003 alpha is in no TAO total
    supply = 5_035_477 + 260_000 + 400_000 + 410_000 + 270_000 + 500_000 + 77_777
    holders = 1_000_001 + 42 + 2_000_000_000 + 2_000_000_001 + (100 - 40) * 10**9
    assert got[("bittensor", "2025Q2", "tao")] == (
        supply + holders, supply, 0, holders, holders, 12)
    symbols = _query(world.db, "select distinct token_symbol from "
                               "marts.fct_network_revenue_quarterly")
    assert symbols == [("TAO",)]
    # the unstake fee is in the warehouse with its unit (netuid 3's alpha), in no TAO total
    unstakes = _query(world.db, """select block_number, token, netuid, amount_raw
        from staging.stg_lake__tao_events where event = 'unstake_fee'""")
    assert [(b, t, n, int(a)) for b, t, n, a in unstakes] == [(220, "alpha", 3, 2_000_003)]


def test_depinrev_report_gives_the_bittensor_quarter_in_tao(world: World):
    """`depinrev report` on the warehouse: 2025Q2 in TAO (9 decimals), by hand from the
    figures of the test above: fees 64,007,953,298 rao, supply side 6,953,254, holders
    64,001,000,044; audited, 12 events."""
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "depinrev"), "report", "--network", "bittensor",
         "--quarter", "2025Q2", "--format", "json", "--db", str(world.db)],
        capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    (row,) = json.loads(proc.stdout)
    assert (row["network"], row["quarter"], row["token"], row["fees"],
            row["supply_side_revenue"], row["holders_revenue"], row["audit_status"],
            str(row["event_count"])) == (
        "bittensor", "2025Q2", "tao", "64.007953298", "0.006953254", "64.001000044", "pass",
        "12")


def test_audit_passes_with_the_registration_counter(world: World):
    rows = _query(world.db, """
        select quarter, block_ranges, coverage_status, reconciliation_status, audit_status,
            quarter_completeness
        from audit.quarter_audits where network = 'bittensor' order by quarter""")
    assert rows == [
        ("2025Q1", f"{CID}:1-{Q2_FIRST - 1}", "pass", "pass", "pass", "partial_start"),
        ("2025Q2", f"{CID}:{Q2_FIRST}-{Q3_FIRST - 1}", "pass", "pass", "pass", "complete"),
        ("2025Q3", f"{CID}:{Q3_FIRST}-?", "incomplete", "incomplete", "incomplete", "open"),
    ]
    recon = _query(world.db, """
        select measure, chain_change, lake_change, status from audit.reconciliations
        where network = 'bittensor' and quarter = '2025Q2' order by measure""")
    assert recon == [
        ("RAORecycledForRegistration(3)", "0", "0", "pass"),
        ("RAORecycledForRegistration(5)", "4000000001", "4000000001", "pass"),
        ("RAORecycledForRegistration(7)", "0", "0", "pass"),
        ("other revenue events", None, None, "not_applicable"),
    ]
    assert (NETUID_A, NETUID_B, NETUID_C) == (3, 5, 7)


def test_audit_fails_with_the_numbers_when_one_burn_is_missing(world: World):
    """The lake loses grace's registration burn (block 200, netuid 5, 2,000,000,001 rao), its
    chunk's row count adjusted as if the reader had missed it: the counter catches it."""
    lake_root = world.tmp / "missing_lake"
    shutil.copytree(world.lake, lake_root)
    lake = Lake(lake_root)
    path = lake.chunk_path("tao_events", "bittensor", CID, 200, 249)
    t = pq.read_table(path)
    gone = pc.and_(pc.equal(t["event"], "registration_burn"),
                   pc.equal(t["amount_str"], "2000000001"))
    assert pc.sum(gone).as_py() == 1
    pq.write_table(t.filter(pc.invert(gone)), path)
    cp = lake.load_checkpoint("bittensor", CID)
    rec = next(c for c in cp.chunks if c.start == 200)
    cp.put(ChunkRecord(rec.start, rec.end, rec.start_hash, rec.end_hash,
                       {**rec.rows, "tao_events": rec.rows["tao_events"] - 1}))
    lake.save_checkpoint(cp)
    db = world.tmp / "missing.duckdb"
    prepare_inputs(world.config, lake, db)
    result = audit_warehouse(world.config, lake, db)
    assert result.status("bittensor", "2025Q2") == "fail"
    assert result.status("bittensor", "2025Q1") == "pass"
    (row,) = _query(db, """select status, detail from audit.reconciliations where
        network = 'bittensor' and quarter = '2025Q2' and measure like '%(5)'""")
    assert row == ("fail", f"subtensor: RAORecycledForRegistration(5) changed by 4000000001 on "
                           f"chain (block {Q2_FIRST - 1}: 0, block {Q3_FIRST - 1}: 4000000001) "
                           f"but the lake's registration burns of netuid 5 sum to 2000000000; "
                           f"difference 2000000001")


def test_dagster_day_partition_of_bittensor(node, tmp_path: Path):
    config_path = write_config(tmp_path / "networks.yaml", MAINNET, ENV, tmp_path / "cache")
    instance = dg.DagsterInstance.ephemeral()
    instance.add_dynamic_partitions("network", ["bittensor"])
    result = dg.materialize(
        [index_lake],
        partition_key=network_day_key("bittensor", "2025-04-01"),
        resources={
            "network_config": NetworkConfigResource(path=str(config_path)),
            "lake": LakeResource(uri=str(tmp_path / "lake")),
        },
        instance=instance,
    )
    assert result.success
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks[PARTITION_CHECK].passed, checks[PARTITION_CHECK].description
    # 2025-04-01 is blocks 118-119 (two blocks a day): the grid chunk 100-149
    cp = Lake(tmp_path / "lake").load_checkpoint("bittensor", CID)
    assert [(c.start, c.end) for c in cp.chunks] == [(100, 100 + CHUNK - 1)]
    assert HEAD == 320
