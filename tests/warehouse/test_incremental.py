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

from tests.support.lake_edit import alter_first_amount
from tests.warehouse.conftest import Built
from warehouse.build import BuildResult, build_warehouse


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
