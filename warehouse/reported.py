"""Reported figures: public claims about a network's revenue, set beside what the chain proves.

The public figures live in the dbt seed `dbt/seeds/reported_figures.csv` (add a row, rebuild: no
code). More rows can come from CSV files with the same header (`depinrev build --reported-csv`):
the devnet simulator writes its stand-ins' simulated figures that way. They are checked here and
loaded into `config.reported_figures`; the mart `fct_reported_vs_onchain` reads both.
"""

from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb

from depinrev.config import Label

COLUMNS = (
    "network", "period_kind", "period", "period_start", "period_end", "metric", "compare_with",
    "value", "unit", "basis", "source", "source_date", "notes",
)
PERIOD_KINDS = ("quarter", "month", "year", "range", "annualized")
BASES = ("company_reported", "analyst_estimate", "onchain_statistic", "simulated")
SEED = Path(__file__).resolve().parent.parent / "dbt" / "seeds" / "reported_figures.csv"

_DDL = """
create schema if not exists config;
create or replace table config.reported_figures (
    network varchar not null, period_kind varchar not null, period varchar not null,
    period_start date not null, period_end date not null, metric varchar not null,
    compare_with varchar not null, value varchar not null, unit varchar not null,
    basis varchar not null, source varchar not null, source_date date, notes varchar,
    file varchar not null);
"""


class ReportedFiguresError(ValueError):
    """A reported-figures CSV that cannot be loaded; the message names the file, line and field."""


def _date(v: str, where: str, name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        raise ReportedFiguresError(f"{where}: {name} {v!r} is not a date YYYY-MM-DD") from None


def check_row(row: dict[str, str], where: str) -> dict[str, Any]:
    """One CSV row checked and typed, or a one-line ReportedFiguresError."""
    for name in ("network", "period", "metric", "unit", "source"):
        if not (row.get(name) or "").strip():
            raise ReportedFiguresError(f"{where}: {name} is empty")
    kind = row["period_kind"]
    if kind not in PERIOD_KINDS:
        raise ReportedFiguresError(
            f"{where}: period_kind {kind!r} is not one of {', '.join(PERIOD_KINDS)}")
    if row["basis"] not in BASES:
        raise ReportedFiguresError(
            f"{where}: basis {row['basis']!r} is not one of {', '.join(BASES)}")
    if row["compare_with"] not in {lbl.value for lbl in Label} | {"revenue"}:
        raise ReportedFiguresError(
            f"{where}: compare_with {row['compare_with']!r} is not a label (fees, "
            "supply_side_revenue, revenue, protocol_revenue, holders_revenue)")
    try:
        value = Decimal(row["value"])
    except InvalidOperation:
        raise ReportedFiguresError(f"{where}: value {row['value']!r} is not a number") from None
    if not value.is_finite():
        raise ReportedFiguresError(f"{where}: value {row['value']!r} is not a number")
    start = _date(row["period_start"], where, "period_start")
    end = _date(row["period_end"], where, "period_end")
    if end < start:
        raise ReportedFiguresError(f"{where}: period_end {end} is before period_start {start}")
    if kind == "annualized" and start != end:
        raise ReportedFiguresError(
            f"{where}: an annualized figure is as of one date: period_start = period_end")
    source_date = row.get("source_date") or ""
    return {
        **{c: (row.get(c) or "").strip() or None for c in COLUMNS},
        "value": format(value, "f"), "period_start": start, "period_end": end,
        "source_date": _date(source_date, where, "source_date") if source_date else None,
    }


def read_reported_csv(path: Path) -> list[dict[str, Any]]:
    """Every row of a reported-figures CSV (the seed's header), checked."""
    try:
        text = path.read_text()
    except OSError as exc:
        raise ReportedFiguresError(f"{path}: cannot read: {exc.strerror}") from None
    reader = csv.DictReader(text.splitlines())
    if tuple(reader.fieldnames or ()) != COLUMNS:
        raise ReportedFiguresError(
            f"{path}: header must be {','.join(COLUMNS)} (the seed's), got "
            f"{','.join(reader.fieldnames or [])}")
    return [check_row(r, f"{path}:{i}") for i, r in enumerate(reader, start=2)]


def load_reported_figures(con: duckdb.DuckDBPyConnection, paths: list[Path]) -> int:
    """Replace config.reported_figures with the rows of `paths` (none: an empty table)."""
    rows = [(r, p) for p in paths for r in read_reported_csv(p)]
    con.execute(_DDL)
    if not rows:  # DuckDB's executemany refuses an empty list
        return 0
    con.executemany(
        f"insert into config.reported_figures values ({', '.join('?' * (len(COLUMNS) + 1))})",
        # the file's name, not its path: the marts are the same bytes wherever the data sits
        [[r[c] for c in COLUMNS] + [p.name] for r, p in rows],
    )
    return len(rows)


VS_COLUMNS = (
    "network", "period", "comparison", "metric", "basis", "unit", "reported_value",
    "onchain_value", "gap", "gap_ratio", "onchain_audit_status", "simulated", "consistency",
    "why_they_differ", "source",
)


def vs_reported_rows(
    con: duckdb.DuckDBPyConnection, network: str | None = None
) -> list[dict[str, Any]]:
    """fct_reported_vs_onchain as rows for the report (exact decimals as strings)."""
    cur = con.execute(
        f"""
        select {', '.join(f'{c}::varchar as {c}' if c not in ('simulated',) else c
                          for c in VS_COLUMNS)}
        from marts.fct_reported_vs_onchain
        where ? is null or network = ?
        order by simulated, network, period_start, metric, comparison
        """,
        [network, network],
    )
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]
