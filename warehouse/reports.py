"""The audited quarterly report and the explanation of one network's quarter.

A closed quarter shows its frozen figures (latest closed version); a rebuild that disagrees
shows up as a pending restatement beside them, never as a silent change.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from depinrev.quarters import Quarter

FORMATS = ("table", "csv", "json", "markdown")
ROUNDED = "amounts rounded for display; exact figures: --format csv or json"


class WarehouseError(RuntimeError):
    """No warehouse file, or one without the tables a report needs (a build that failed)."""


def open_warehouse(db: str | Path, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    """A connection to an existing warehouse file; never creates one (a typo in --db would
    otherwise leave an empty warehouse behind)."""
    path = Path(db)
    if not path.is_file():
        raise WarehouseError(f"no warehouse at {path}: build it with `depinrev build` or give --db")
    try:
        return duckdb.connect(str(path), read_only=read_only)
    except duckdb.Error as exc:  # locked by a running build, or not a DuckDB file
        raise WarehouseError(f"cannot open the warehouse {path}: {exc}") from exc


def require_tables(con: duckdb.DuckDBPyConnection, *tables: str) -> None:
    """Raise WarehouseError naming the first missing `schema.table`, and what the last build
    said, instead of DuckDB's CatalogException."""
    have = {f"{s}.{t}" for s, t in con.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = current_database()").fetchall()}
    missing = [t for t in tables if t not in have]
    if not missing:
        return
    path = con.execute(
        "select path from duckdb_databases() where database_name = current_database()"
    ).fetchall()[0][0]
    last = None
    if "audit.builds" in have:
        last = con.execute(
            "select build_id, dbt_success from audit.builds order by started_at desc limit 1"
        ).fetchall()
    if last and last[0][1] is not True:
        why = (f"its last build {last[0][0]} did not finish dbt; `depinrev build` again and "
               "read its errors")
    else:
        why = "it has not been built; run `depinrev build`"
    raise WarehouseError(f"warehouse {path} has no table {missing[0]}: {why}")

REPORT_COLUMNS = (
    "network", "quarter", "token", "fees", "supply_side_revenue", "revenue", "protocol_revenue",
    "holders_revenue", "fees_usd", "revenue_usd", "event_count", "audit_status", "closed",
    "restatements",
)
_LABELS = ("fees", "supply_side_revenue", "revenue", "protocol_revenue", "holders_revenue")


def _tokens(raw: str | int | None, decimals: int) -> str | None:
    if raw is None:
        return None
    return format(Decimal(int(raw)).scaleb(-decimals), "f")


def report_rows(
    con: duckdb.DuckDBPyConnection, quarter: str | None = None, network: str | None = None
) -> list[dict[str, Any]]:
    q = Quarter.parse(quarter).label if quarter else None
    require_tables(con, "marts.fct_network_revenue_quarterly")
    live = con.execute(
        """
        select network, quarter, token, decimals, audit_status,
            fees_raw::varchar, supply_side_revenue_raw::varchar, revenue_raw::varchar,
            protocol_revenue_raw::varchar, holders_revenue_raw::varchar,
            fees_usd::varchar, revenue_usd::varchar, event_count::varchar
        from marts.fct_network_revenue_quarterly
        where (? is null or quarter = ?) and (? is null or network = ?)
        order by network, quarter, token
        """,
        [q, q, network, network],
    ).fetchall()
    has_close = bool(con.execute(
        "select count(*) from information_schema.tables where table_schema = 'audit' "
        "and table_name = 'closed_figures'").fetchone()[0])  # type: ignore[index]
    out: list[dict[str, Any]] = []
    for (net, qq, token, dec, status, *vals) in live:
        figures = dict(zip(
            [*(f"{lbl}_raw" for lbl in _LABELS), "fees_usd", "revenue_usd", "event_count"],
            vals, strict=True))
        closed_label = ""
        restated = ""
        if has_close:
            ver = con.execute(
                "select max(version) from audit.quarter_closes where network = ? and quarter = ?",
                [net, qq]).fetchone()
            if ver and ver[0] is not None:
                frozen = dict(con.execute(
                    "select metric, value from audit.closed_figures where network = ? and "
                    "quarter = ? and version = ? and token = ?", [net, qq, ver[0], token]
                ).fetchall())
                figures = {k: frozen.get(k) for k in figures}
                closed_label = f"v{ver[0]}"
                rs = con.execute(
                    "select metric, old_value, new_value from audit.restatements where network = ?"
                    " and quarter = ? and closed_version = ? and token = ? order by metric",
                    [net, qq, ver[0], token]).fetchall()
                restated = "; ".join(f"{m}: {o} -> {n}" for m, o, n in rs)
        row: dict[str, Any] = {"network": net, "quarter": qq, "token": token}
        for lbl in _LABELS:
            row[lbl] = _tokens(figures[f"{lbl}_raw"], dec)
        row.update(
            fees_usd=figures["fees_usd"], revenue_usd=figures["revenue_usd"],
            event_count=figures["event_count"], audit_status=status, closed=closed_label,
            restatements=restated,
        )
        out.append(row)
    return out


def render(
    rows: list[dict[str, Any]], fmt: str, title: str = "", *, caption: str | None = ROUNDED
) -> str:
    """Rows as a table (rich, text as it is), csv, json or markdown; `caption` under a table."""
    cols = list(REPORT_COLUMNS) if not rows else list(rows[0])
    if fmt == "json":
        return json.dumps(rows, indent=1, default=str)
    if fmt == "csv":
        buf = io.StringIO()
        w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n")
        w.writeheader()
        w.writerows(rows)
        return buf.getvalue()

    def cell(v: Any) -> str:
        return "" if v is None else str(v)

    if fmt == "markdown":
        lines = ([f"### {title}", ""] if title else []) + [
            "| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
        lines += ["| " + " | ".join(cell(r[c]).replace("|", "\\|") for c in cols) + " |"
                  for r in rows]
        return "\n".join(lines) + "\n"
    if fmt == "table":
        from rich.console import Console
        from rich.table import Table

        def shown(col: str, v: Any) -> str:
            # Display only: token amounts to 2 decimals, USD to the cent; csv/json are exact.
            if v is None or not (col in _LABELS or col.endswith("_usd")):
                return cell(v)
            try:
                return f"{Decimal(str(v)).quantize(Decimal('0.01')):,}"
            except ArithmeticError:
                return cell(v)

        t = Table(title=title or None, caption=caption)
        for c in cols:
            numeric = c in _LABELS or c.endswith("_usd")
            t.add_column(c, overflow="fold", justify="right" if numeric else "left")
        for r in rows:
            t.add_row(*(shown(c, r[c]) for c in cols))
        # markup off: a name or a message with brackets is shown as it is, never as a style
        console = Console(width=220, record=True, file=io.StringIO(), markup=False)
        console.print(t)
        return console.export_text()
    raise ValueError(f"unknown format {fmt!r}; choose {', '.join(FORMATS)}")


def report(
    con: duckdb.DuckDBPyConnection, quarter: str | None = None, network: str | None = None,
    fmt: str = "table",
) -> str:
    return render(report_rows(con, quarter, network), fmt, "Audited quarterly revenue")


def _query(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> list[dict[str, Any]]:
    cur = con.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, r, strict=True)) for r in cur.fetchall()]


def explain(
    con: duckdb.DuckDBPyConnection, network: str, quarter: str, fmt: str = "table",
    top: int = 10,
) -> str:
    """How each figure is composed (label x token x rule), the largest events, the evidence."""
    q = Quarter.parse(quarter).label
    require_tables(con, "marts.fct_revenue_events", "audit.quarter_blocks",
                   "audit.coverage_checks", "audit.reconciliations", "audit.quarter_audits",
                   "audit.manifests")
    composition = _query(
        con,
        """
        select label, token, source, event, amount_field as field,
            share_numerator || '/' || share_denominator as share, count(*) as rows,
            sum(amount_raw)::varchar as amount_raw, sum(token_amount)::varchar as tokens,
            case when count(*) filter (where usd_value is null) = 0
                then sum(usd_value)::varchar end as usd
        from marts.fct_revenue_events where network = ? and quarter = ?
        group by all order by label, token, source, event, field, share
        """, [network, q])
    largest = _query(
        con,
        f"""
        select block_number, transaction_hash, log_index, label, token,
            token_amount::varchar as tokens, usd_value::varchar as usd, price_source
        from marts.fct_revenue_events where network = ? and quarter = ? and label = 'fees'
        order by abs(amount_raw) desc, block_number, log_index limit {int(top)}
        """, [network, q])
    blocks = _query(con, "select chain, chain_id, first_block, last_block, first_block_hash, "
                    "last_block_hash, final from audit.quarter_blocks where network = ? and "
                    "quarter = ?", [network, q])
    coverage = _query(con, "select chain_id, check_name, status, detail from "
                      "audit.coverage_checks where network = ? and quarter = ? order by 1, 2",
                      [network, q])
    recon = _query(con, "select source, measure, block_before, block_end, chain_change, "
                   "lake_change, difference, status from audit.reconciliations where "
                   "network = ? and quarter = ? order by source", [network, q])
    audit_row = _query(con, "select audit_status, issues from audit.quarter_audits where "
                       "network = ? and quarter = ?", [network, q])
    manifest = _query(con, "select manifest_sha256, path from audit.manifests where "
                      "network = ? and quarter = ?", [network, q])
    sections = {
        "composition": composition, "largest_fee_events": largest, "quarter_blocks": blocks,
        "coverage_checks": coverage, "reconciliations": recon, "audit": audit_row,
        "manifest": manifest,
    }
    if fmt == "json":
        return json.dumps(sections, indent=1, default=str)
    parts = [f"{network} {q}"]
    for name, rows in sections.items():
        if rows:
            parts.append(render(rows, "markdown" if fmt == "markdown" else fmt, name,
                                caption=None))
        else:
            parts.append(f"{name}: (none)\n")
    if fmt == "table":
        parts.append(ROUNDED + "\n")  # once, under the last table
    return "\n".join(parts)
