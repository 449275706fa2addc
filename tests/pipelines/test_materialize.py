"""The Dagster assets, materialized in-process against real anvil, real Parquet, real dbt.

A quarter's partitions (the way a backfill runs them: one run per network over a range of
days) must give the same lake files, byte for byte, and the same quarterly figures as the
foundation path (index everything, build the warehouse); tampering with the lake must fail
the checks, and a failed quarter audit must stop the quarterly table.
"""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from depinrev.config import load_config
from depinrev.lake import Lake
from pipelines.ingest.assets import COVERAGE_CHECK, PARTITION_CHECK, index_lake
from pipelines.resources import LakeResource, NetworkConfigResource, WarehouseResource
from pipelines.warehouse.assets import (
    QUARTERLY_KEY,
    chain_audit,
    quarter_audit,
    quarterly_revenue,
    warehouse_dbt,
)
from pipelines.warehouse.dbt_project import dbt_resource
from tests.support.devnet import SMALL_CHUNK_SIZE, BuiltDevnet

pytestmark = pytest.mark.integration

ALL_ASSETS = [index_lake, chain_audit, warehouse_dbt, quarter_audit, quarterly_revenue]
Q1 = ("2025-01-01", "2025-03-31")


def _resources(config: Path, lake: Path, db: Path) -> dict[str, object]:
    return {
        "network_config": NetworkConfigResource(path=str(config)),
        "lake": LakeResource(uri=str(lake)),
        "warehouse": WarehouseResource(db_path=str(db)),
        "dbt": dbt_resource(),  # the dbt beside the interpreter, as the definitions use
    }


def _instance(networks: list[str]) -> dg.DagsterInstance:
    inst = dg.DagsterInstance.ephemeral()
    inst.add_dynamic_partitions("network", networks)
    return inst


def _ingest_range(res, inst, network: str, first: str, last: str) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [index_lake],
        resources=res,
        instance=inst,
        raise_on_error=False,
        tags={
            "dagster/asset_partition_range_start": f"{first}|{network}",
            "dagster/asset_partition_range_end": f"{last}|{network}",
        },
    )


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.parquet"))
    }


def _quarter_rows(db: Path, quarter: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "select * exclude (block_ranges) from marts.fct_network_revenue_quarterly "
            "where quarter = ? order by all",
            [quarter],
        ).fetchall()


@pytest.fixture(scope="module")
def built(built_devnet: BuiltDevnet, tmp_path_factory):
    """Q1 through Dagster partitions, and everything through the foundation path: the
    session's devnet indexed with small chunks (days map to different files) and built,
    which the warehouse acceptance tests read too (tests/conftest.py)."""
    tmp = tmp_path_factory.mktemp("pipelines")
    config_path = built_devnet.config_path
    config = load_config(config_path)
    names = sorted(config.networks)
    assert {c.chunk_size for c in config.chains.values()} == {SMALL_CHUNK_SIZE}

    foundation_lake, foundation_db = built_devnet.lake, built_devnet.db
    foundation = built_devnet.result

    lake, db = tmp / "dagster" / "lake", tmp / "dagster" / "wh.duckdb"
    res = _resources(config_path, lake, db)
    inst = _instance(names)
    ingest = {n: _ingest_range(res, inst, n, *Q1) for n in names}
    build = dg.materialize(
        ALL_ASSETS, selection=[chain_audit, warehouse_dbt], resources=res, instance=inst
    )
    quarterly = dg.materialize(
        ALL_ASSETS,
        selection=[quarter_audit, quarterly_revenue],
        partition_key=Q1[0],
        resources=res,
        instance=inst,
        raise_on_error=False,
    )
    return {
        "config_path": config_path,
        "names": names,
        "foundation": foundation,
        "foundation_lake": foundation_lake,
        "foundation_db": foundation_db,
        "lake": lake,
        "db": db,
        "ingest": ingest,
        "build": build,
        "quarterly": quarterly,
        "tmp": tmp,
    }


def test_quarter_backfill_writes_the_same_files_as_the_one_shot_run(built):
    assert all(r.success for r in built["ingest"].values())
    for result in built["ingest"].values():
        checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
        assert checks == {
            COVERAGE_CHECK: True,
            PARTITION_CHECK: True,
            "rows_read_equal_rows_written": True,
        }
    dagster_files = _hashes(built["lake"])
    one_shot = _hashes(built["foundation_lake"])
    assert dagster_files, "the backfill wrote nothing"
    # every file of the backfill is a file of the one-shot run, byte for byte...
    assert {k: one_shot.get(k) for k in dagster_files} == dagster_files
    # ...and the backfill stopped near the quarter's end: later chunks were not indexed
    assert len(dagster_files) < len(one_shot)


def test_quarter_backfill_gives_the_one_shot_quarterly_figures(built):
    assert built["build"].success and built["foundation"].ok
    q1 = _quarter_rows(built["db"], "2025Q1")
    assert q1 == _quarter_rows(built["foundation_db"], "2025Q1")
    assert {r[0] for r in q1} == set(built["names"])
    checks = {e.check_name: e for e in built["build"].get_asset_check_evaluations()}
    assert checks["no_quarter_fails"].passed


def test_quarterly_table_is_materialized_behind_a_passing_audit(built):
    result = built["quarterly"]
    assert result.success
    audit = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert audit["quarter_audit_passed"].passed
    export = built["db"].parent / "reports" / "revenue_2025Q1.json"
    assert export.exists() and "akash-devnet" in export.read_text()
    # the same HTML report as `depinrev report --format html`, its charts in the metadata
    [meta] = [e.materialization.metadata for e in result.get_asset_materialization_events()
              if e.materialization.asset_key == QUARTERLY_KEY]
    page = Path(meta["report_html"].value)
    assert page.exists() and "akash-devnet" in page.read_text()
    assert meta["charts"].value.count("data:image/png;base64,") >= 4


def test_a_single_day_partition_writes_files_of_the_one_shot_run(built, tmp_path):
    res = _resources(built["config_path"], tmp_path / "lake", tmp_path / "wh.duckdb")
    result = dg.materialize(
        [index_lake],
        resources=res,
        instance=_instance(built["names"]),
        partition_key=dg.MultiPartitionKey({"network": "render-devnet", "day": "2025-05-17"}),
    )
    assert result.success
    checks = {e.check_name: e for e in result.get_asset_check_evaluations()}
    assert checks[PARTITION_CHECK].passed
    # a lone mid-year day leaves the lake with a gap before it: a warning, not a failure
    assert not checks[COVERAGE_CHECK].passed
    assert checks[COVERAGE_CHECK].severity == dg.AssetCheckSeverity.WARN
    files = _hashes(tmp_path / "lake")
    assert files and {k: _hashes(built["foundation_lake"]).get(k) for k in files} == files


def _tamper_amount(lake: Path) -> Path:
    """Add one raw unit to the first burn of the first non-empty burns file."""
    for f in Lake(lake).chunk_files("token_burns"):
        t = pq.read_table(f.path)
        if t.num_rows:
            amounts = t["amount_str"].to_pylist()
            amounts[0] = str(int(amounts[0]) + 1)
            t = t.set_column(
                t.schema.get_field_index("amount_str"), "amount_str", pa.array(amounts, pa.string())
            )
            dec = t["amount"].to_pylist()
            dec[0] = dec[0] + 1
            t = t.set_column(
                t.schema.get_field_index("amount"),
                t.schema.field("amount"),
                pa.array(dec, t.schema.field("amount").type),
            )
            pq.write_table(t, f.path)
            return f.path
    raise AssertionError("no burns to tamper with")


def test_tampered_lake_fails_the_audit_check_and_blocks_the_quarterly_table(built):
    tmp = built["tmp"] / "tampered"
    lake, db = tmp / "lake", tmp / "wh.duckdb"
    shutil.copytree(built["lake"], lake)
    _tamper_amount(lake)
    res = _resources(built["config_path"], lake, db)
    inst = _instance(built["names"])
    build = dg.materialize(
        ALL_ASSETS,
        selection=[chain_audit, warehouse_dbt],
        resources=res,
        instance=inst,
        raise_on_error=False,
    )
    check = {e.check_name: e for e in build.get_asset_check_evaluations()}["no_quarter_fails"]
    assert not check.passed
    assert "totalSupply" in (check.description or "") or "burn" in (check.description or "")
    quarterly = dg.materialize(
        ALL_ASSETS,
        selection=[quarter_audit, quarterly_revenue],
        partition_key=Q1[0],
        resources=res,
        instance=inst,
        raise_on_error=False,
    )
    assert not quarterly.success
    audit = {e.check_name: e for e in quarterly.get_asset_check_evaluations()}
    assert not audit["quarter_audit_passed"].passed
    materialized = {e.asset_key for e in quarterly.get_asset_materialization_events()}
    assert dg.AssetKey(["quarterly", "revenue"]) not in materialized


def test_a_coverage_gap_in_the_lake_fails_the_coverage_check(built, tmp_path):
    lake = tmp_path / "lake"
    shutil.copytree(built["lake"], lake)
    config = load_config(built["config_path"])
    chain_id = config.chains["ethereum-devnet"].chain_id
    lk = Lake(lake)
    cp = lk.load_checkpoint("render-devnet", chain_id)
    gone = cp.chunks[1]
    cp.chunks = [c for c in cp.chunks if c != gone]
    lk.save_checkpoint(cp)
    res = _resources(built["config_path"], lake, tmp_path / "wh.duckdb")
    result = dg.materialize(
        [index_lake],
        resources=res,
        instance=_instance(built["names"]),
        raise_on_error=False,
        partition_key=dg.MultiPartitionKey({"network": "render-devnet", "day": "2025-03-30"}),
    )
    check = {e.check_name: e for e in result.get_asset_check_evaluations()}[COVERAGE_CHECK]
    assert not check.passed
    assert f"{gone.start}-{gone.end}" in (check.description or "")
