"""`build`, `close`, `report`, `explain`: a typer sub-app to mount on the depinrev CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import duckdb
import typer

from depinrev.config import default_config_path
from warehouse.build import build_warehouse
from warehouse.closing import CloseError, close_quarter
from warehouse.reports import explain as explain_text
from warehouse.reports import report as report_text

app = typer.Typer(help="The DuckDB warehouse: build, close quarters, report, explain.",
                  no_args_is_help=True)

ConfigOpt = Annotated[Path | None, typer.Option("--config", help="network config YAML")]
LakeOpt = Annotated[Path, typer.Option("--lake", help="Parquet lake root")]
DbOpt = Annotated[Path, typer.Option("--db", help="DuckDB warehouse file")]
FormatOpt = Annotated[str, typer.Option("--format", help="table, csv, json or markdown")]


@app.command()
def build(
    config: ConfigOpt = None,
    lake: LakeOpt = Path("data/lake"),
    db: DbOpt = Path("data/warehouse.duckdb"),
    prices_csv: Annotated[Path | None, typer.Option(
        "--prices-csv", help="daily USD prices: date,token,price_usd or a CoinGecko export")
    ] = None,
    audit: Annotated[bool, typer.Option(help="run the chain audit (needs the chains' RPC)")] = True,
    reported_csv: Annotated[list[Path] | None, typer.Option(
        "--reported-csv", help="more reported figures, the seed's CSV header (repeatable)")
    ] = None,
) -> None:
    """Build the warehouse from the lake, audit it against the chains, run the dbt tests."""
    res = build_warehouse(config or default_config_path(), lake, db, prices_csv=prices_csv,
                          audit=audit, reported_csv=reported_csv)
    for p in res.problems():
        typer.echo(p, err=True)
    for r in res.restatements:
        typer.echo(f"restatement {r.network} {r.quarter} {r.token} {r.metric}: "
                   f"{r.old_value} -> {r.new_value} ({r.reason})", err=True)
    typer.echo(f"warehouse {res.db_path} build {res.build_id}: "
               f"{'ok' if res.ok else 'PROBLEMS'}; {len(res.manifests)} manifests")
    raise typer.Exit(0 if res.ok else 1)


@app.command()
def close(
    quarter: Annotated[str, typer.Option("--quarter", help="e.g. 2025Q3")],
    network: Annotated[list[str] | None, typer.Option("--network")] = None,
    db: DbOpt = Path("data/warehouse.duckdb"),
    force: Annotated[bool, typer.Option(help="close even if the audit did not pass")] = False,
    note: Annotated[str | None, typer.Option(help="why (stored with the version)")] = None,
) -> None:
    """Freeze a quarter's figures as a new closed version."""
    with duckdb.connect(str(db)) as con:
        try:
            done = close_quarter(con, quarter, network, force=force, note=note)
        except CloseError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
    for net, version in done:
        typer.echo(f"closed {net} {quarter} as version {version}")


@app.command()
def report(
    quarter: Annotated[str | None, typer.Option("--quarter")] = None,
    network: Annotated[str | None, typer.Option("--network")] = None,
    fmt: Annotated[str, typer.Option(
        "--format", help="table, csv, json, markdown, or html (a page with charts: --out)")
    ] = "table",
    db: DbOpt = Path("data/warehouse.duckdb"),
    vs_reported: Annotated[bool, typer.Option(
        "--vs-reported", help="reported figures beside the on-chain ones instead")] = False,
    out: Annotated[Path | None, typer.Option(
        "--out", help="html: the page to write (default data/reports/report.html)")] = None,
) -> None:
    """The audited quarterly table (closed figures where closed, with pending restatements)."""
    with duckdb.connect(str(db), read_only=True) as con:
        if fmt == "html":
            from warehouse.report_html import write_html_report

            page, pngs = write_html_report(
                con, out or db.parent / "reports" / "report.html", network)
            typer.echo(f"wrote {page} and {len(pngs)} chart PNGs in {page.parent}")
        elif vs_reported:
            from warehouse.reported import vs_reported_rows
            from warehouse.reports import render

            rows = vs_reported_rows(con, network)
            if fmt != "json":  # one line per row: why_they_differ lists its reasons by line
                rows = [{k: v.replace("\n", "; ") if isinstance(v, str) else v
                         for k, v in r.items()} for r in rows]
            typer.echo(render(rows, fmt, "Reported vs on chain"), nl=False)
        else:
            typer.echo(report_text(con, quarter, network, fmt), nl=False)


@app.command()
def explain(
    network: Annotated[str, typer.Option("--network")],
    quarter: Annotated[str, typer.Option("--quarter")],
    fmt: FormatOpt = "table",
    db: DbOpt = Path("data/warehouse.duckdb"),
) -> None:
    """How a network's quarter is composed, its largest events and its audit evidence."""
    with duckdb.connect(str(db), read_only=True) as con:
        typer.echo(explain_text(con, network, quarter, fmt), nl=False)


if __name__ == "__main__":
    app()
