"""Integration: real `dbt build` over a synthetic lake, audited against an in-process chain.

The close, rebuild (byte-identical marts from a moved lake) and restate flow is checked once,
on the real devnet, with the assertions this module made on it: test_devnet_acceptance.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import defaultdict
from fractions import Fraction as F
from pathlib import Path

import duckdb

from depinrev.lake import Lake
from depinrev.quarters import Quarter
from tests.support.lake_edit import alter_first_amount
from tests.support.revenue_oracle import (
    DEVNET_SHARES,
    IONET_UNOBSERVABLE,
    IONET_UNOBSERVABLE_REASON,
    quarter_of,
    split,
)
from tests.warehouse.conftest import Built
from tests.warehouse.synth import World, block_ts
from warehouse.audit import run_audit
from warehouse.dbt_run import run_dbt_build
from warehouse.raw import create_raw_views, inventory
from warehouse.reports import report, report_rows
from warehouse.rules import load_config_tables

# The oracle (tests/support/revenue_oracle.py): the devnet's shares written out, plus the
# odd-splits network of conftest.py.
SHARES = {
    **DEVNET_SHARES,
    ("splits-devnet", "deposit", "amount"): (
        {"fees": F(1), "supply_side_revenue": F(1, 3), "protocol_revenue": F(5, 95),
         "holders_revenue": F(35, 57)}, "holders_revenue"),
    ("splits-devnet", "withdraw", "amount"): (
        {"fees": F(-1), "supply_side_revenue": F(-8, 10), "protocol_revenue": F(-2, 10)},
        "protocol_revenue"),
}


def _ground_truth(world: World) -> dict[tuple[str, str, str, str], int]:
    """The written shares applied to the simulated history, per event."""
    out: dict[tuple[str, str, str, str], int] = defaultdict(int)
    for e in world.events:
        for field, value in e.fields.items():
            rule = SHARES.get((e.network, e.event, field))
            if rule is None or value is None:
                continue
            q = quarter_of(block_ts(e.block))
            for label, amount in split(int(value), *rule).items():
                out[(e.network, q, e.token, label)] += amount
    return out


def test_split_oracle_sends_every_base_unit_somewhere() -> None:
    """The oracle itself on hand-checked amounts (7 with 0.8 / 0.2; 100 with 1/3, 5/95, 35/57)."""
    assert split(7, *SHARES[("aethir-devnet", "deposit", "amount")]) == {
        "fees": 7, "supply_side_revenue": 6, "protocol_revenue": 1}
    assert split(7, *SHARES[("aethir-devnet", "withdraw", "amount")]) == {
        "fees": -7, "supply_side_revenue": -6, "protocol_revenue": -1}
    assert split(100, *SHARES[("splits-devnet", "deposit", "amount")]) == {
        "fees": 100, "supply_side_revenue": 33, "protocol_revenue": 5, "holders_revenue": 62}
    assert split(7, *SHARES[("splits-devnet", "withdraw", "amount")]) == {
        "fees": -7, "supply_side_revenue": -5, "protocol_revenue": -2}


def test_build_passes_dbt_and_audit(built: Built) -> None:
    res = built.result
    assert res.ok, res.problems()
    tests = [n for n in res.dbt.nodes if n.resource_type == "test"]
    units = [n for n in res.dbt.nodes if n.resource_type == "unit_test"]
    assert len(tests) > 100 and len(units) >= 2
    assert res.audit is not None
    for q in ("2025Q1", "2025Q2"):
        for net in built.config.networks:
            assert res.audit.status(net, q) == "pass"
    assert res.audit.status("akash-devnet", "2025Q3") == "incomplete"
    # the synthetic chain's genesis is on 2024-12-31: 2024Q4 is audited as partial_start and,
    # without revenue events, is no row of the quarterly mart (no misleading zero)
    with duckdb.connect(str(built.db), read_only=True) as con:
        partial = con.execute("select distinct quarter_completeness from audit.quarter_audits "
                              "where quarter = '2024Q4'").fetchall()
        q4 = con.execute("select count(*) from marts.fct_network_revenue_quarterly "
                         "where quarter = '2024Q4'").fetchone()
        shown = con.execute("select distinct quarter_completeness from "
                            "marts.fct_network_revenue_quarterly where event_count = 0"
                            ).fetchall()
    assert partial == [("partial_start",)] and q4 == (0,)
    assert set(shown) <= {("complete",), ("open",)}
    assert {p.name for p in res.manifests} >= {"manifest_render-devnet_2025Q2.json"}


def test_quarterly_totals_equal_ground_truth_exactly(built: Built) -> None:
    truth = _ground_truth(built.world)
    with duckdb.connect(str(built.db), read_only=True) as con:
        rows = con.execute(
            "select network, quarter, token, fees_raw, supply_side_revenue_raw, "
            "protocol_revenue_raw, holders_revenue_raw, revenue_raw, unobservable_figures "
            "from marts.fct_network_revenue_quarterly").fetchall()
    assert rows
    checked = 0
    for net, q, token, fees, supply, protocol, holders, revenue, hidden in rows:
        got = {"fees": fees, "supply_side_revenue": supply, "protocol_revenue": protocol,
               "holders_revenue": holders, "revenue": revenue}
        for label, value in got.items():
            if net == "ionet-devnet" and label in IONET_UNOBSERVABLE:
                assert value is None, (net, q, token, label, value)
                continue
            want = (truth.get((net, q, token, "fees"), 0)
                    - truth.get((net, q, token, "supply_side_revenue"), 0)
                    if label == "revenue" else truth.get((net, q, token, label), 0))
            assert value is not None and int(value) == want, (net, q, token, label, value, want)
            checked += 1
        assert hidden == (",".join(IONET_UNOBSERVABLE) if net == "ionet-devnet" else None)
        if net != "ionet-devnet":
            # both identities, exactly: every base unit of fees landed in one label
            assert int(fees) == int(supply) + int(revenue) == int(supply) + int(protocol) + int(
                holders), (net, q, token)
    assert checked >= 60
    # and no ground-truth figure is missing from the mart
    present = {(net, q, token) for net, q, token, *_ in rows}
    assert {k[:3] for k, v in truth.items() if v} <= present


def test_odd_shares_leave_remainders_that_the_marts_place(built: Built) -> None:
    """The odd shares do round (so the test means something) and every daily row adds up."""
    with duckdb.connect(str(built.db), read_only=True) as con:
        remainders = con.execute(
            "select label, count(*) from marts.fct_revenue_events where network = "
            "'splits-devnet' and remainder_raw <> 0 group by label order by label").fetchall()
        daily = con.execute(
            "select network, fees_raw, supply_side_revenue_raw, revenue_raw, "
            "protocol_revenue_raw, holders_revenue_raw, unobservable_reason "
            "from marts.fct_network_revenue_daily").fetchall()
    assert dict(remainders).keys() == {"holders_revenue", "protocol_revenue"}
    assert all(n > 3 for _, n in remainders), remainders
    io = [r for r in daily if r[0] == "ionet-devnet"]
    assert io and all(r[1:4] == (None, None, None) and r[4] is None and r[5] > 0 for r in io)
    assert {r[6] for r in io} == {IONET_UNOBSERVABLE_REASON}
    others = [r for r in daily if r[0] != "ionet-devnet"]
    assert len(others) > 100
    for _, fees, supply, revenue, protocol, holders, reason in others:
        assert reason is None
        assert fees == supply + revenue and revenue == protocol + holders


def test_identity_tests_fail_on_a_misplaced_base_unit(built: Built, tmp_path: Path) -> None:
    """The dbt identity tests can fail: one base unit moved, a hidden figure shown as 0."""
    db = tmp_path / "wh.duckdb"
    shutil.copy(built.db, db)
    with duckdb.connect(str(db)) as con:
        con.execute("""update marts.fct_network_revenue_daily set holders_revenue_raw =
            holders_revenue_raw + 1 where network = 'splits-devnet' and revenue_date = (
            select min(revenue_date) from marts.fct_network_revenue_daily
            where network = 'splits-devnet')""")
        con.execute("""update marts.fct_network_revenue_daily set fees_raw = 0
            where network = 'ionet-devnet'""")
        con.execute("""update marts.fct_revenue_events set amount_raw = amount_raw + 1
            where label = 'protocol_revenue' and transaction_hash = (select min(transaction_hash)
            from marts.fct_revenue_events where network = 'splits-devnet')""")
    res = run_dbt_build(db, tmp_path / "dbt", ["fct_network_revenue_daily",
                                              "fct_revenue_events"], command="test")
    failed = sorted(n.unique_id.split(".")[2] for n in res.failed_tests)
    assert not res.success and all(n.resource_type == "test" for n in res.nodes)
    # revenue_raw = protocol + holders breaks (the token columns were left alone, so that
    # identity holds); the io.net fees shown as 0; the event whose split no longer adds up
    expected = [
        "expression_is_true_fct_revenue_events_event_amount_raw_share_numerator_amount_raw_",
        "null_exactly_when_unobservable_fct_network_revenue_daily_fees_raw__fees",
        "split_adds_up_fct_revenue_events_network__chain_id__block_number__transaction_has",
        "sums_to_fct_network_revenue_daily_protocol_revenue_raw__holders_revenue_raw__revenue_",
    ]
    assert len(failed) == len(expected) and all(
        f.startswith(e) for f, e in zip(failed, expected, strict=True)), failed


def test_unique_key_test_finds_a_duplicated_row(built: Built, tmp_path: Path) -> None:
    """The unique-combination test (two passes: key hashes, then the keys) fails on one row
    stored twice, and on nothing else."""
    db = tmp_path / "wh.duckdb"
    shutil.copy(built.db, db)
    with duckdb.connect(str(db)) as con:
        con.execute("""insert into marts.fct_network_revenue_quarterly
            select * from marts.fct_network_revenue_quarterly
            where network = 'render-devnet' order by quarter limit 1""")
    res = run_dbt_build(db, tmp_path / "dbt", ["fct_network_revenue_quarterly"], command="test")
    failed = sorted(n.unique_id.split(".")[2] for n in res.failed_tests)
    assert not res.success
    assert len(failed) == 1 and failed[0].startswith(
        "unique_combination_of_columns_fct_network_revenue_quarterly_network__quarter__token"
    ), failed


def test_prices_precedence_and_no_silent_zero(built: Built) -> None:
    with duckdb.connect(str(built.db), read_only=True) as con:
        akt = con.execute("select price_usd::varchar, price_source from marts.fct_token_prices "
                          "where token = 'akt-dev' and price_date = '2025-02-03'").fetchone()
        usdc = con.execute("select price_usd::varchar, price_source from marts.fct_token_prices "
                           "where token = 'usdc-dev' and price_date = '2025-03-01'").fetchone()
        usdc2 = con.execute("select price_usd::varchar, price_source from marts.fct_token_prices"
                            " where token = 'usdc-dev' and price_date = '2025-03-02'").fetchone()
        zero = con.execute("select count(*) from marts.fct_token_prices "
                           "where price_usd = 0").fetchone()
    assert akt == ("4.250000000000000000", "user_csv")
    assert usdc == ("0.998000000000000000", "user_csv")
    assert usdc2 == ("1.000000000000000000", "stablecoin")
    assert zero == (0,)


def test_readonly_from_another_directory(built: Built, tmp_path: Path) -> None:
    code = (
        "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True);"
        "print(c.execute('select count(*) from marts.fct_network_revenue_quarterly')"
        ".fetchall()[0][0]);"
        "print(c.execute('select count(*) from raw.token_burns').fetchall()[0][0])"
    )
    out = subprocess.run([sys.executable, "-c", code, str(built.db)], cwd=tmp_path,
                         capture_output=True, text=True, check=True).stdout.split()
    assert int(out[0]) > 0 and int(out[1]) > 0


def test_report_formats(built: Built) -> None:
    with duckdb.connect(str(built.db), read_only=True) as con:
        md = report(con, "2025Q2", None, "markdown")
        rows = report_rows(con, "2025Q2", "render-devnet")
        csv_text = report(con, "2025Q2", "render-devnet", "csv")
    assert "| render-devnet | 2025Q2 | rndr-dev |" in md
    assert rows[0]["audit_status"] == "pass"
    assert csv_text.splitlines()[0].startswith("network,quarter,token,fees,")


def test_cli_report_and_explain_on_the_built_warehouse(built: Built, tmp_path: Path) -> None:
    depinrev = Path(sys.executable).parent / "depinrev"
    rep = subprocess.run([str(depinrev), "report", "--db", str(built.db), "--quarter", "2025Q2",
                          "--network", "render-devnet", "--format", "csv"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert rep.returncode == 0 and rep.stderr == "", rep.stderr
    lines = rep.stdout.splitlines()
    assert lines[0].startswith("network,quarter,token,fees,")
    assert lines[1].startswith("render-devnet,2025Q2,rndr-dev,") and len(lines) == 2
    exp = subprocess.run([str(depinrev), "explain", "--db", str(built.db), "--network",
                          "akash-devnet", "--quarter", "2025Q2"], cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert exp.returncode == 0 and exp.stderr == "", exp.stderr
    for section in ("composition", "largest_fee_events", "quarter_blocks", "reconciliations"):
        assert section in exp.stdout
    # five tables, one note that their amounts are rounded
    assert exp.stdout.count("amounts rounded for display") == 1


def _prepare(tmp: Path, built: Built, lake_root: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(tmp / "check.duckdb"))
    load_config_tables(con, built.config)
    create_raw_views(con, lake_root, inventory(Lake(lake_root)))
    return con


def test_tamper_dropped_file_fails_coverage(built: Built, tmp_path: Path) -> None:
    lake_root = tmp_path / "lake"
    shutil.copytree(built.lake, lake_root)
    victim = Lake(lake_root).chunk_files("token_burns", "render-devnet")[4]
    os.remove(victim.path)
    with _prepare(tmp_path, built, lake_root) as con:
        res = run_audit(con, built.config, Lake(lake_root),
                        lambda ch: built.world.chain(ch.chain_id))
    q = Quarter.of_timestamp(built.world.chain(1337).block(victim.start).timestamp).label
    assert res.status("render-devnet", q) == "fail"
    issues = "\n".join(i for qa in res.quarters if qa.network == "render-devnet" for i in qa.issues)
    assert f"token_burns chunk {victim.start}-{victim.end}: checkpoint records" in issues
    assert "file missing" in issues


def test_tamper_altered_amount_fails_reconciliation(built: Built, tmp_path: Path) -> None:
    lake_root = tmp_path / "lake"
    shutil.copytree(built.lake, lake_root)
    alter_first_amount(lake_root, "token_burns", "ionet-devnet", 12345)
    with _prepare(tmp_path, built, lake_root) as con:
        res = run_audit(con, built.config, Lake(lake_root),
                        lambda ch: built.world.chain(ch.chain_id))
    failing = [qa for qa in res.quarters if qa.status == "fail"]
    assert [qa.network for qa in failing] == ["ionet-devnet"]
    text = "\n".join(failing[0].issues)
    assert "io-token: totalSupply" in text and "difference 12345" in text
