"""Integration: the warehouse build is incremental by lake file.

fct_revenue_events keeps the rows of every lake file whose hash and prices are unchanged, and
rebuilds only the files that changed (or whose day prices changed); a changed config or dbt
project rebuilds everything. Unchanged partitions are observed directly: a marker put into one
file's rows survives an incremental build and is gone after a full refresh.
"""

from __future__ import annotations

import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import yaml

from depinrev.lake import Lake
from tests.support.lake_edit import alter_first_amount
from tests.warehouse.conftest import Built
from warehouse.build import BuildResult, build_warehouse, reusable_dbt_run, start_build


def _one(db: Path, sql: str, params: list[object] | None = None) -> tuple[Any, ...]:
    with duckdb.connect(str(db), read_only=True) as con:
        row = con.execute(sql, params or []).fetchone()
    assert row is not None
    return row


def _mark(db: Path, lake_file: str) -> int:
    """Upper-case the block hashes of one file's mart rows: a change no build would make."""
    with duckdb.connect(str(db)) as con:
        con.execute("update marts.fct_revenue_events set block_hash = upper(block_hash) "
                    "where lake_file = ?", [lake_file])
        n = con.execute("select count(*) from marts.fct_revenue_events "
                        "where lake_file = ? and block_hash <> lower(block_hash)",
                        [lake_file]).fetchone()
    assert n is not None and n[0] > 0
    return int(n[0])


def _marked(db: Path, lake_file: str) -> int:
    return int(_one(db, "select count(*) from marts.fct_revenue_events where lake_file = ? "
                        "and block_hash <> lower(block_hash)", [lake_file])[0])


def _last_build(db: Path) -> tuple[bool, bool]:
    full, ok = _one(db, "select full_refresh, dbt_success from audit.builds "
                        "order by started_at desc limit 1")
    return bool(full), bool(ok)


def test_only_changed_files_and_repriced_days_are_rebuilt(built: Built, tmp_path: Path) -> None:
    lake_root = tmp_path / "lake"
    shutil.copytree(built.lake, lake_root)
    db = tmp_path / "wh.duckdb"
    shutil.copy(built.db, db)
    prices = tmp_path / "prices.csv"
    shutil.copy(built.prices_csv, prices)
    reader = lambda ch: built.world.chain(ch.chain_id)  # noqa: E731

    def build(config: Path | None = None) -> BuildResult:
        return build_warehouse(config or built.config_path, lake_root, db, prices_csv=prices,
                               reader_factory=reader)

    # Four files: an unrelated one (its marker must survive), a file with a row priced by a
    # feed on some day (that day gets a user price below: its marker must go), the ionet burn
    # file altered below, and a file removed from the lake (its rows must leave).
    unrelated, removed = _one(db, "select min(lake_file), max(lake_file) "
                                  "from marts.fct_revenue_events where network = 'render-devnet'")
    repriced, token, day = _one(db, "select lake_file, token, block_date "
                                    "from marts.fct_revenue_events "
                                    "where price_source = 'onchain_feed' and token <> 'rndr-dev' "
                                    "order by lake_file, block_number limit 1")
    assert unrelated != repriced
    _mark(db, unrelated)
    _mark(db, repriced)
    chunk, new_amount = alter_first_amount(lake_root, "token_burns", "ionet-devnet", 7)
    altered = chunk.path.relative_to(lake_root).as_posix()
    with prices.open("a") as f:
        f.write(f"{day.isoformat()},{token},123.25\n")
    assert len({unrelated, removed, repriced, altered}) == 4
    (lake_root / removed).unlink()

    res = build()
    assert res.dbt.success, res.problems()
    assert _last_build(db) == (False, True)  # incremental
    assert _marked(db, unrelated) > 0  # untouched partition: kept as it was
    assert _marked(db, repriced) == 0  # its day's price changed: rebuilt
    with duckdb.connect(str(db), read_only=True) as con:
        priced = con.execute("select distinct price_usd, price_source from "
                             "marts.fct_revenue_events where token = ? and block_date = ?",
                             [token, day]).fetchall()
    assert priced == [(Decimal("123.25"), "user_csv")]
    # the altered file's rows carry the new amount and the new file hash
    sha = _one(db, "select sha256 from audit.lake_files where path = ?", [altered])[0]
    amounts = _one(db, "select list(distinct event_amount_raw), list(distinct lake_file_sha256) "
                       "from marts.fct_revenue_events where lake_file = ? and block_number = ?",
                   [altered, _first_block(lake_root, altered)])
    assert new_amount in [int(a) for a in amounts[0]] and amounts[1] == [sha]
    # every row of the mart belongs to a file of this build, with that file's hash
    stale = _one(db, "select count(*) from marts.fct_revenue_events e left join "
                     "audit.lake_files f on f.path = e.lake_file "
                     "where f.sha256 is distinct from e.lake_file_sha256")[0]
    assert stale == 0
    assert _one(db, "select count(*) from marts.fct_revenue_events where lake_file = ?",
                [removed])[0] == 0

    # a config change (here a display name) rebuilds everything: the marker is gone
    shutil.copytree(built.lake, lake_root, dirs_exist_ok=True)
    _mark(db, str(_one(db, "select min(lake_file) from marts.fct_revenue_events")[0]))
    raw = yaml.safe_load(built.config_path.read_text())
    net = next(iter(raw["networks"]))
    raw["networks"][net]["display_name"] += " (renamed)"
    other = tmp_path / "networks.yaml"
    other.write_text(yaml.safe_dump(raw, sort_keys=False))
    res = build(other)
    assert res.dbt.success, res.problems()
    assert _last_build(db) == (True, True)
    assert _one(db, "select count(*) from marts.fct_revenue_events "
                    "where block_hash <> lower(block_hash)")[0] == 0


def _first_block(lake_root: Path, rel: str) -> int:
    return int(pq.read_table(lake_root / rel, columns=["block_number"]).column(0)[0].as_py())


def test_a_build_with_nothing_changed_reuses_the_dbt_results_and_any_change_reruns(
    built: Built, tmp_path: Path
) -> None:
    """dbt is skipped only when every source it reads is equal to the last run's (dbt_inputs)
    and the relations it built are still there; the skipped build records the same results."""
    lake_root = built.lake  # read only: the build writes into the copied warehouse file
    db = tmp_path / "wh.duckdb"
    shutil.copy(built.db, db)
    reader = lambda ch: built.world.chain(ch.chain_id)  # noqa: E731

    def results() -> list[tuple[Any, ...]]:
        with duckdb.connect(str(db), read_only=True) as con:
            return con.execute("select unique_id, status, failures from audit.dbt_results "
                               "order by 1").fetchall()

    ran = results()
    assert len(ran) > 100
    assert _one(db, "select count(*), bool_or(dbt_skipped) from audit.builds") == (1, False)
    again = build_warehouse(built.config_path, lake_root, db, prices_csv=built.prices_csv,
                            reader_factory=reader, reported_csv=[built.reported_csv])
    assert again.ok and again.dbt.success
    assert _one(db, "select dbt_skipped from audit.builds order by started_at desc limit 1") == (
        True,)
    assert results() == ran and [n.unique_id for n in again.dbt.nodes] == [r[0] for r in ran]

    # each of: a source table row, a lake file's hash, a mart gone -> dbt must run
    def must_run(edit: str) -> None:
        saved = tmp_path / "saved.duckdb"
        shutil.copy(db, saved)
        with duckdb.connect(str(db)) as con:
            con.execute(edit)
        build_id, _ = start_build(db, built.config_path, Lake(lake_root), config=built.config,
                                  prices_csv=None, lake_file_count=0, audit_ran=False)
        assert reusable_dbt_run(db, build_id, built.config) == [], edit
        shutil.copy(saved, db)

    must_run("update config.user_prices set price_usd = price_usd + 1")
    must_run("update audit.quarter_audits set audit_status = 'fail' where quarter = "
             "(select min(quarter) from audit.quarter_audits)")
    must_run("update audit.lake_files set sha256 = upper(sha256) where path = "
             "(select min(path) from audit.lake_files)")
    must_run("drop table marts.fct_token_prices")
    build_id, _ = start_build(db, built.config_path, Lake(lake_root), config=built.config,
                              prices_csv=None, lake_file_count=0, audit_ran=False)
    assert len(reusable_dbt_run(db, build_id, built.config)) == len(ran)
