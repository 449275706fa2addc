"""Reported figures beside the chain: fct_reported_vs_onchain on the session's synthetic
warehouse (tests/warehouse/conftest.py loads SIMULATED_REPORTED with --reported-csv).

Expected on-chain figures are summed here from the synthetic world's own events (the oracle),
never read from the marts; reported values and expected gaps are written out in the test.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from tests.warehouse.conftest import Built
from tests.warehouse.synth import block_ts
from warehouse.reported import (
    SEED,
    ReportedFiguresError,
    load_reported_figures,
    read_reported_csv,
)


def _rows(db: Path, where: str, params: list[object]) -> list[dict[str, Any]]:
    with duckdb.connect(str(db), read_only=True) as con:
        cur = con.execute(f"select * from marts.fct_reported_vs_onchain where {where} "
                          "order by comparison", params)
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def _oracle(built: Built, network: str, events: set[str], fields: tuple[str, ...], token: str,
            start: date, end: date) -> Decimal:
    """Tokens of `token` in the world's events of `network` dated [start, end] (UTC)."""
    total = 0
    for e in built.world.events:
        day = datetime.fromtimestamp(block_ts(e.block), UTC).date()
        if e.network == network and e.event in events and e.token == token \
                and start <= day <= end:
            total += sum(int(e.fields.get(f) or 0) for f in fields)  # type: ignore[arg-type]
    return Decimal(total).scaleb(-built.config.tokens[token].decimals)


def _q6(x: Decimal) -> Decimal:
    return x.quantize(Decimal("1e-6"))


def test_monthly_burns_gap_equals_reported_minus_the_worlds_burns(built: Built) -> None:
    [row] = _rows(built.db, "network = 'render-devnet' and period = '2025-02'", [])
    burned = _oracle(built, "render-devnet", {"burn"}, ("amount",), "rndr-dev",
                     date(2025, 2, 1), date(2025, 2, 28))
    assert burned > 0
    assert row["comparison"] == "same_period"
    assert row["simulated"] is True
    assert row["onchain_value"] == _q6(burned)
    assert row["gap"] == Decimal("30000.5") - _q6(burned)
    assert row["gap_ratio"] == ((Decimal("30000.5") - _q6(burned)) / Decimal("30000.5")
                                ).quantize(Decimal("1e-6"))
    assert row["onchain_audit_status"] == "pass"
    assert row["onchain_quarters"] == "2025Q1:pass"
    assert "burns follow payments with a delay" in row["why_they_differ"]


def test_quarter_in_tokens_counts_provider_payments_and_take(built: Built) -> None:
    [row] = _rows(built.db, "network = 'akash-devnet' and period = '2025Q1'", [])
    fees = _oracle(built, "akash-devnet", {"payment_withdrawn"}, ("amount", "take_amount"),
                   "akt-dev", date(2025, 1, 1), date(2025, 3, 31))
    assert fees > 0
    assert row["onchain_value"] == _q6(fees)
    assert row["gap"] == Decimal(9000) - _q6(fees)


def test_annualized_figure_against_last_quarter_x4_and_trailing_four(built: Built) -> None:
    rows = {r["comparison"]: r for r in _rows(
        built.db, "network = 'ionet-devnet' and period_kind = 'annualized'", [])}
    assert set(rows) == {"last_quarter_x4", "trailing_four_quarters"}
    x4 = rows["last_quarter_x4"]
    q2 = _oracle(built, "ionet-devnet", {"burn"}, ("amount",), "io-dev",
                 date(2025, 4, 1), date(2025, 6, 30))
    assert (x4["window_start"], x4["window_end"]) == (date(2025, 4, 1), date(2025, 6, 30))
    assert x4["onchain_value"] == _q6(q2 * 4)
    assert x4["gap"] == Decimal(200000) - _q6(q2 * 4)
    assert x4["onchain_audit_status"] == "pass"
    # The four quarters before 2025-07-10 reach back to 2024Q3, before the chain's history:
    # no figure rather than a partial one.
    t4 = rows["trailing_four_quarters"]
    assert (t4["window_start"], t4["window_end"]) == (date(2024, 7, 1), date(2025, 6, 30))
    assert t4["onchain_value"] is None and t4["gap"] is None
    assert t4["onchain_audit_status"] == "not_indexed"
    assert t4["onchain_quarters"].startswith("2024Q3:not_indexed")


def test_a_figure_against_an_unobservable_label_has_no_onchain_side(built: Built) -> None:
    # ionet-devnet declares its fees not observable on chain: a reported fee figure is never
    # compared with a zero, and the reason says why.
    [row] = _rows(built.db, "network = 'ionet-devnet' and period_kind = 'quarter'", [])
    assert row["compare_with"] == "fees" and row["onchain_audit_status"] == "pass"
    assert row["onchain_value"] is None and row["gap"] is None
    assert "fees is not observable on chain: " in row["why_they_differ"]


def test_parts_that_do_not_add_up_are_flagged(built: Built) -> None:
    [rng] = _rows(built.db, "network = 'render-devnet' and period_kind = 'range'", [])
    # Jan 10000 + Feb 30000.5 of three months: March implied 50000 - 40000.5 = 9999.5
    assert rng["parts_reported"] == 2
    assert rng["parts_sum"] == Decimal("40000.5")
    assert rng["consistency"].startswith("its 2 reported months sum to 40000.5")
    assert rng["consistency"].endswith("the other 1 imply 9999.5")
    [year] = _rows(built.db, "network = 'aethir-devnet' and period_kind = 'year'", [])
    assert year["parts_reported"] == 1
    assert year["consistency"].endswith("the other 3 imply 4000000.0")
    # the year runs past the indexed history (HEAD is in July 2025): no on-chain figure
    assert year["onchain_value"] is None and year["onchain_audit_status"] == "not_indexed"


def test_public_figures_match_mainnet_networks_only(built: Built) -> None:
    """The seed's public figures are about mainnet networks; in a devnet warehouse they have no
    on-chain side (never compared with a stand-in's simulated figures)."""
    rows = _rows(built.db, "origin = 'seed'", [])
    assert rows and all(r["onchain_audit_status"] == "network_not_configured" for r in rows)
    assert all(r["onchain_value"] is None and not r["simulated"] for r in rows)
    aethir_year = [r for r in rows if r["network"] == "aethir" and r["period_kind"] == "year"]
    # Aethir's Q1-Q3 2025 sum to $101.1M against $127.8M for the year: Q4 implied $26.7M
    assert aethir_year[0]["parts_sum"] == Decimal("101100000")
    assert aethir_year[0]["consistency"].endswith("the other 1 imply 26700000.0")


def test_the_seed_is_a_valid_reported_figures_file() -> None:
    rows = read_reported_csv(SEED)
    assert {r["network"] for r in rows} == {"aethir", "akash", "ionet", "render", "bittensor"}
    assert not any(r["basis"] == "simulated" for r in rows)


@pytest.mark.parametrize(("line", "problem"), [
    ("x,quarter,2025Q1,2025-01-01,2025-03-31,revenue,fees,1e,USD,simulated,s,,", "value '1e'"),
    ("x,week,2025W1,2025-01-01,2025-01-07,revenue,fees,1,USD,simulated,s,,", "period_kind 'week'"),
    ("x,quarter,2025Q1,2025-01-01,2024-03-31,revenue,fees,1,USD,simulated,s,,", "before"),
    ("x,quarter,2025Q1,2025-01-01,2025-03-31,revenue,gross,1,USD,simulated,s,,", "compare_with"),
    ("x,quarter,2025Q1,2025-01-01,2025-03-31,revenue,fees,1,USD,rumour,s,,", "basis 'rumour'"),
    ("x,annualized,a,2025-01-01,2025-03-31,revenue,fees,1,USD,simulated,s,,", "as of one date"),
])
def test_bad_reported_rows_are_refused_with_the_line(tmp_path: Path, line: str,
                                                      problem: str) -> None:
    f = tmp_path / "r.csv"
    f.write_text(SEED.read_text().splitlines()[0] + "\n" + line + "\n")
    with pytest.raises(ReportedFiguresError, match=f"r.csv:2: .*{problem}"):
        read_reported_csv(f)


def test_no_reported_csv_leaves_an_empty_table_and_a_file_replaces_it(tmp_path: Path) -> None:
    f = tmp_path / "r.csv"
    f.write_text(SEED.read_text().splitlines()[0] + "\n"
                 + "x-devnet,month,2025-01,2025-01-01,2025-01-31,burned,fees,1.5,X,simulated,s,,\n")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        assert load_reported_figures(con, []) == 0
        assert con.execute("select count(*) from config.reported_figures").fetchall() == [(0,)]
        assert load_reported_figures(con, [f]) == 1
        assert load_reported_figures(con, [f]) == 1  # replaced, not appended
        assert con.execute("select network, value, file from config.reported_figures"
                           ).fetchall() == [("x-devnet", "1.5", "r.csv")]
